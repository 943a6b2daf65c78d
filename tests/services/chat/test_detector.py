"""The chat detector on generated chat with known answers: what is a spike, what is not, and
when the moment it reacts to was."""

from __future__ import annotations

from services.chat.detector import ChatDetector, DetectorConfig, SecondStats, ServerClock
from services.chat.spikes import Spike, SpikeConfig
from tests.services.chat.irc_server import Line
from tests.services.chat.synth import burst, history, steady, varied, wall

T0 = 1_700_000_000.0
CONFIG = DetectorConfig()  # the defaults of the settings
SUPPRESSING = {"raid", "subgift", "submysterygift"}


def run(lines: list[Line], config: DetectorConfig = CONFIG,
        tail: float = 30.0) -> tuple[list[SecondStats], list[Spike]]:
    """Feed lines in time order, closing seconds as time passes, like the service does."""
    detector = ChatDetector(config)
    seconds: list[SecondStats] = []
    for line in sorted(lines, key=lambda x: x.ts):
        seconds.extend(detector.close_until(line.ts - 1.5))
        if line.notice:
            detector.add_notice(line.ts, line.notice in SUPPRESSING)
        else:
            detector.add_message(line.ts, line.user, line.text)
    seconds.extend(detector.close_until(max(x.ts for x in lines) + tail))
    detector.finish()
    return seconds, detector.spikes


def calm(seconds: float = 300.0) -> list[Line]:
    """Five minutes of calm chat before T0, one message every 5 s."""
    return history(end=T0, seconds=seconds, every=5)


def test_a_ten_second_burst_is_one_spike_from_its_start() -> None:
    seconds, spikes = run(calm() + burst(T0 + 20.0, n=40, over=10.0))
    assert len(spikes) == 1
    spike = spikes[0]
    assert T0 + 20 <= spike.start <= T0 + 21
    assert T0 + 28 <= spike.end <= T0 + 30
    assert spike.start <= spike.peak <= spike.end
    assert spike.messages == 40 and spike.chatters == 40
    assert spike.features["laugh_hype"] > 0.5  # PogChamp, KEKW, W, caps, "!!!"
    flagged = [s for s in seconds if s.spike]
    assert flagged and all(s.spike_start == spike.start for s in flagged)
    # Live, it is known to be a spike within a few seconds of its start.
    assert flagged[0].second <= T0 + 26
    assert not any(s.spike for s in seconds if s.second < T0 + 20)


def test_a_two_second_blip_of_five_messages_is_no_spike() -> None:
    blip = [Line(T0 + 20.0 + 0.4 * i, f"quick{i}", "PogChamp") for i in range(5)]
    seconds, spikes = run(calm() + blip)
    assert spikes == [] and not any(s.spike for s in seconds)
    assert max(s.rate_z for s in seconds) > 3  # it was noticed, far above normal...
    # ...and a sharp blip of 30 from 30 people in 2 s is no sustained reaction either.
    _, spikes = run(calm() + burst(T0 + 20.0, n=30, over=2.0))
    assert spikes == []


def test_an_emote_wall_beats_equally_fast_varied_chatter() -> None:
    """The same channel, the same speed (3 messages a second for 12 s), twice: once everyone
    types the same emote, once everyone says something different."""
    base = steady(T0 - 600, 1800, rate=1.0, seed=4)
    emotes = wall(T0 + 300, 12, 36, "KEKW KEKW")
    talk = varied(T0 + 900, 12, 36)
    _, spikes = run(base + emotes + talk)
    by_start = {round(s.start - T0, -2): s for s in spikes}
    assert 300 in by_start, spikes  # the wall is a spike
    wall_spike = by_start[300]
    assert wall_spike.features["emotes"] > 0.6 and wall_spike.features["repeats"] > 0.6
    talk_spike = by_start.get(900)
    assert talk_spike is None or talk_spike.strength < wall_spike.strength / 1.5


def test_a_raid_or_a_gift_burst_suppresses_and_later_bursts_count_again() -> None:
    for notice in ("raid", "submysterygift"):
        lines = [*calm(), Line(T0 + 20.0, "raider", notice=notice),
                 *burst(T0 + 21.0, n=40, over=10.0, prefix="raidfan"),
                 *burst(T0 + 120.0, n=40, over=10.0)]  # long after the 30 s of quiet
        seconds, spikes = run(lines)
        flood = [s for s in seconds if T0 + 21 <= s.second < T0 + 31]
        assert flood and all(s.suppressed and not s.spike for s in flood), notice
        assert sum(s.messages for s in flood) == 40
        assert [round(s.start - T0) for s in spikes] == [120], notice


def test_a_quiet_channel_finds_its_real_burst() -> None:
    """Two messages a minute for an hour, then twelve people react within ten seconds."""
    base = steady(T0 - 3600, 3900, rate=2 / 60, seed=5, users=30)
    reaction = wall(T0 + 10, 10, 12, "LUL")
    _, spikes = run(base + reaction)
    assert len(spikes) == 1 and T0 + 9 <= spikes[0].start <= T0 + 11
    assert spikes[0].messages >= 10  # its core, maybe without a stray first or last one


def test_a_busy_channel_finds_its_burst_and_not_its_wobble() -> None:
    """50 messages a second: 20 % more for ten seconds is wobble; a doubling with a wall of
    "7777" is a spike. The same rule, no knob turned."""
    base = steady(T0 - 400, 600, rate=50.0, seed=6, users=5000)
    wobble = varied(T0 + 20, 10, 100, prefix="extra")
    cheer = wall(T0 + 120, 10, 500, "77777777")
    _, spikes = run(base + wobble + cheer)
    assert len(spikes) == 1 and T0 + 118 <= spikes[0].start <= T0 + 121


def test_the_estimated_moment_is_the_reaction_lag_before_the_burst() -> None:
    for lag in (20.0, 8.0):
        config = DetectorConfig(SpikeConfig(reaction_lag_s=lag))
        seconds, spikes = run(calm() + burst(T0 + 20.0, n=40, over=10.0), config)
        (spike,) = spikes
        assert spike.moment == spike.start - lag
        assert abs(spike.moment - (T0 + 20.0 - lag)) <= 1.0
        assert all(s.moment == spike.moment for s in seconds if s.spike)


def test_a_slow_build_up_does_not_move_the_start_early() -> None:
    """Chat warms up for a minute, then the big reaction comes: the spike starts there."""
    build = varied(T0, 60, 60, prefix="warm")  # one a second, varied
    big = wall(T0 + 60, 15, 150, "77777777")
    _, spikes = run(calm() + build + big)
    assert len(spikes) == 1
    assert T0 + 55 <= spikes[0].start <= T0 + 61
    assert spikes[0].features["onset"] <= spikes[0].start


def test_asking_for_a_clip_weighs_more() -> None:
    plain = [Line(T0 + 20 + i, f"u{i}", f"wow number {i} there") for i in range(8)]
    asks = [Line(T0 + 20 + i, f"u{i}", f"clip it number {i}") for i in range(8)]
    seconds_plain, _ = run(calm() + plain)
    seconds_asks, _ = run(calm() + asks)
    assert max(s.rate_z for s in seconds_asks) > 1.5 * max(s.rate_z for s in seconds_plain)


def test_no_spike_before_the_normal_has_warmed_up() -> None:
    _, spikes = run(history(end=T0, seconds=20, every=5) + burst(T0 + 1.0, n=40, over=10.0))
    assert spikes == []


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


def test_counts_chatters_and_reactions_per_second() -> None:
    detector = ChatDetector(CONFIG)
    for i, (user, text) in enumerate([("a", "hello"), ("b", "KEKW"), ("a", "hello again"),
                                      ("c", "what is this"), ("a", "sure then")]):
        detector.add_message(T0 + 0.1 * i, user, text)
    (first,) = detector.close_until(T0 + 1)
    assert first.messages == 5 and first.chatters == 3
    assert first.hype_density == 0.2  # only KEKW: the others are long, varied, no emote


def test_server_clock_follows_twitch_not_our_clock() -> None:
    clock = ServerClock()
    assert clock.now(100.0) == 100.0  # nothing seen yet: our clock
    # Our clock runs 5 s ahead; lines arrive 0.1 s to 0.4 s after they were sent.
    for i, delay in enumerate([0.4, 0.1, 0.3]):
        sent = 1000.0 + i
        clock.saw(sent, sent + 5.0 + delay)
    assert abs(clock.now(1010.0) - (1010.0 - 5.1)) < 1e-9
