"""The spike detector on plain data: known chat in, known spikes out."""

from __future__ import annotations

import random

from services.chat.detector import (
    ChatDetector,
    DetectorConfig,
    SecondStats,
    ServerClock,
    is_hype,
    spike_episodes,
)
from tests.services.chat.irc_server import Line
from tests.services.chat.synth import burst, history

T0 = 1_700_000_000.0
CONFIG = DetectorConfig()  # the defaults of the settings


def run(lines: list[Line], config: DetectorConfig = CONFIG, tail: float = 10.0) -> list[
        SecondStats]:
    """Feed lines in time order, closing seconds as time passes, like the service does."""
    detector = ChatDetector(config)
    seconds: list[SecondStats] = []
    for line in sorted(lines, key=lambda x: x.ts):
        seconds.extend(detector.close_until(line.ts - 1.5))
        if line.notice:
            detector.add_notice(line.ts, line.notice in {"raid", "subgift", "submysterygift"})
        else:
            detector.add_message(line.ts, line.user, line.text)
    seconds.extend(detector.close_until(max(x.ts for x in lines) + tail))
    return seconds


def test_a_burst_after_calm_chat_is_one_spike_within_two_seconds() -> None:
    lines = history(end=T0, seconds=120, every=5) + burst(T0 + 3.0)  # 30 msgs in 2 s
    seconds = run(lines)
    episodes = spike_episodes(seconds)
    assert len(episodes) == 1
    assert T0 + 3.0 <= episodes[0].start <= T0 + 5.0
    assert not any(s.spike for s in seconds if s.second < T0 + 3)
    first = next(s for s in seconds if s.spike)
    assert first.baseline < 0.5 and first.rate_z >= CONFIG.spike_z
    assert first.hype_density > 0.5  # PogChamp, KEKW, W, caps, "!!!"


def test_three_messages_in_two_seconds_are_no_spike() -> None:
    quick = [Line(T0 + 3.0 + 0.7 * i, f"quick{i}", "hey") for i in range(3)]
    seconds = run(history(end=T0, seconds=120, every=5) + quick)
    assert not any(s.spike for s in seconds)


def test_a_silent_channel_needs_a_minimum_lift() -> None:
    """Five messages in one second on a silent channel: far above normal (z), but only
    1.7 more messages per second than normal, under the 2.0 minimum lift."""
    lines = [Line(T0 - 100, "first", "hello")] + [Line(T0 + 0.1 * i, f"u{i}", "hey")
                                                   for i in range(5)]
    config = DetectorConfig(spike_z=3.0)  # easy on the jump, to show the lift rule alone
    seconds = run(lines, config)
    peak = max(seconds, key=lambda s: s.rate_z)
    assert peak.rate_z >= config.spike_z  # a big relative jump...
    assert peak.rate - peak.baseline < config.min_lift  # ...but a small lift
    assert not any(s.spike for s in seconds)


def test_a_busy_channel_needs_a_real_jump() -> None:
    """A channel at about 20 msgs/s: 5 more per second lifts enough, but is normal wobble."""
    rng = random.Random(3)
    lines = [Line(T0 - 200 + rng.uniform(0, 210), f"u{rng.randrange(500)}", "chat")
             for _ in range(4200)]
    lines += [Line(T0 + 0.2 * i, f"extra{i}", "chat") for i in range(15)]  # +5/s for 3 s
    seconds = run(lines)
    assert not any(s.spike for s in seconds)
    assert max(s.rate - s.baseline for s in seconds if s.second >= T0) >= CONFIG.min_lift


def test_a_raid_then_a_burst_is_suppressed_and_later_bursts_count_again() -> None:
    lines = [*history(end=T0, seconds=120, every=5), Line(T0 + 2.0, "raider", notice="raid"),
             *burst(T0 + 3.0, prefix="raidfan"),
             *burst(T0 + 60.0)]  # long after the raid's 30 s
    seconds = run(lines)
    in_raid = [s for s in seconds if T0 + 3 <= s.second < T0 + 8]
    assert in_raid and all(s.suppressed and not s.spike for s in in_raid)
    assert sum(s.messages for s in in_raid) == 30
    episodes = spike_episodes(seconds)
    assert [e.start >= T0 + 60 for e in episodes] == [True]


def test_no_spike_before_the_baseline_has_warmed_up() -> None:
    seconds = run(history(end=T0, seconds=20, every=5) + burst(T0 + 1.0))
    assert not any(s.spike for s in seconds)


def test_a_late_message_counts_in_the_oldest_open_second() -> None:
    detector = ChatDetector(CONFIG)
    detector.add_message(T0 + 0.5, "a", "hi")
    closed = detector.close_until(T0 + 2.0)
    assert [s.messages for s in closed] == [1, 0]
    detector.add_message(T0 + 0.9, "b", "late")  # its second is closed already
    assert detector.late == 1
    assert [s.messages for s in detector.close_until(T0 + 3.0)] == [1]


def test_a_gap_in_reading_is_missing_not_silence() -> None:
    detector = ChatDetector(CONFIG)
    detector.add_message(T0 + 0.5, "a", "hi")
    detector.add_message(T0 + 1.5, "b", "hi")
    closed = detector.skip_to(T0 + 60.2)  # the connection was down until then
    assert [s.second for s in closed] == [T0, T0 + 1]
    detector.add_message(T0 + 60.5, "c", "back")
    after = detector.close_until(T0 + 62)
    assert [s.second for s in after] == [T0 + 60, T0 + 61]
    assert after[0].messages == 1


def test_counts_and_chatters_per_second() -> None:
    detector = ChatDetector(CONFIG)
    for i, user in enumerate(["a", "b", "a", "c", "a"]):
        detector.add_message(T0 + 0.1 * i, user, "hello")
    (first,) = detector.close_until(T0 + 1)
    assert first.messages == 5 and first.chatters == 3 and first.hype_density == 0.0


def test_hype_words_caps_and_bangs() -> None:
    for text in ["PogChamp", "that was KEKW", "W", "OMEGALUL OMEGALUL", "LUL", "no way!!!",
                 "LETS GOOOO", "Pog."]:
        assert is_hype(text), text
    for text in ["hello chat", "w", "what game", "ok", "LOL", "I am fine"]:
        assert not is_hype(text), text
    assert is_hype("a b c", emotes=3)


def test_server_clock_follows_twitch_not_our_clock() -> None:
    clock = ServerClock()
    assert clock.now(100.0) == 100.0  # nothing seen yet: our clock
    # Our clock runs 5 s ahead; lines arrive 0.1 s to 0.4 s after they were sent.
    for i, delay in enumerate([0.4, 0.1, 0.3]):
        sent = 1000.0 + i
        clock.saw(sent, sent + 5.0 + delay)
    assert abs(clock.now(1010.0) - (1010.0 - 5.1)) < 1e-9
