"""Chat numbers: how fast IRC lines are read; how fast `clip-live chat-spikes` goes through a
saved log (a made-up 2 hours at 20 msgs/s with planted reactions, and the team's two real
Twitch logs when they are there), and how many spikes an hour it finds in them; and the live
service's CPU for each second of a 50 msgs/s channel (every line parsed, counted, written to
the session log, and each closed second made into the message the fuser reads)."""

from __future__ import annotations

import random
import tempfile
import time
from pathlib import Path

from services.chat.chatlog import ChatRecorder, LogEntry
from services.chat.detector import ChatDetector, DetectorConfig, SecondStats
from services.chat.irc import ChatMessage, ChatNotice, parse_line, to_event
from services.chat.offline import detect, read_chat_log
from shared.contracts import ChatSecond
from tests.support import DEV_DATA

START = 1_700_000_000.0
WORDS = ["PogChamp", "hello", "KEKW", "what", "a", "play", "W", "LUL", "nice", "gg", "chat",
         "is", "this", "the", "boss", "again", "why", "so", "fast", "slow", "map"]
REAL_LOGS = ["VoD_112251297.txt", "VoD_113759702.txt"]


def synthetic_chat(seconds: int = 7200, rate: float = 20.0, seed: int = 1) -> list[LogEntry]:
    """Varied chat at `rate` msgs/s, and every 10 minutes a 12 s reaction: twice the rate,
    most of it one emote."""
    rng = random.Random(seed)
    entries: list[LogEntry] = []
    t = 0.0
    while t < seconds:
        reacting = t > 60 and t % 600 < 12
        t += rng.expovariate(rate * (3 if reacting else 1))
        if reacting and rng.random() < 0.8:
            text = "KEKW KEKW"
        else:
            text = " ".join(rng.choices(WORDS, k=rng.randint(2, 7)))
        entries.append(LogEntry(START + t, f"user{rng.randrange(3000)}", text))
    return entries


def irc_lines(entries: list[LogEntry]) -> list[str]:
    return [f"@badge-info=;badges=subscriber/6;color=#1E90FF;display-name={e.user};emotes=;"
            f"id=abc;mod=0;room-id=1;subscriber=1;tmi-sent-ts={round(e.ts * 1000)};turbo=0;"
            f"user-id=42;user-type= :{e.user}!{e.user}@{e.user}.tmi.twitch.tv PRIVMSG #c "
            f":{e.text}\r\n" for e in entries]


def offline_speed(path: Path) -> tuple[float, float, int]:
    """Read and search a saved log as `clip-live chat-spikes` does, best of three: messages a
    second, spikes an hour, messages."""
    best = 0.0
    spikes_per_hour = 0.0
    messages = 0
    for _ in range(3):
        began = time.perf_counter()
        chat = read_chat_log(path)
        _, spikes = detect(chat.entries, DetectorConfig())
        took = time.perf_counter() - began
        messages = len(chat.entries)
        best = max(best, messages / took)
        spikes_per_hour = len(spikes) / ((chat.entries[-1].ts - chat.entries[0].ts) / 3600)
    return best, spikes_per_hour, messages


def live_cpu_per_second(rate: float = 50.0, seconds: int = 600) -> float:
    """CPU milliseconds the live path spends on one second of a `rate` msgs/s channel: parse
    each IRC line, count it, write it to the session log, close seconds four times a second
    and make each one a `ChatSecond`. (Redis publishing is not in it.)"""
    entries = synthetic_chat(seconds=seconds, rate=rate, seed=3)
    lines = irc_lines(entries)
    detector = ChatDetector(DetectorConfig())
    with tempfile.TemporaryDirectory() as tmp:
        recorder = ChatRecorder(Path(tmp) / "chat.log")
        began = time.process_time()
        next_tick = entries[0].ts
        for line in lines:
            event = to_event(parse_line(line), 0.0)
            if isinstance(event, ChatMessage):
                if event.ts >= next_tick:
                    _publish(detector.close_until(event.ts - 1.5))
                    next_tick = event.ts + 0.25
                detector.add_message(event.ts, event.user, event.text, len(event.emotes))
                recorder.message(event)
            elif isinstance(event, ChatNotice):
                detector.add_notice(event.ts, event.suppresses)
        _publish(detector.close_until(entries[-1].ts + 2))
        took = time.process_time() - began
        recorder.close()
    return took / (entries[-1].ts - entries[0].ts) * 1000


def _publish(seconds: list[SecondStats]) -> list[ChatSecond]:
    return [ChatSecond(channel="c", session="s", t=float(s.second - START), dur=1.0,
                       wall=s.second, messages=s.messages, chatters=s.chatters,
                       rate_z=s.rate_z, baseline=s.baseline, hype_density=s.hype_density,
                       spike=s.spike, strength=s.strength, suppressed=s.suppressed)
            for s in seconds]


def run() -> dict[str, float]:
    entries = synthetic_chat()
    lines = irc_lines(entries[:100_000])
    start = time.perf_counter()
    for line in lines:
        to_event(parse_line(line), 0.0)
    numbers = {"irc_parse_lines_per_s": len(lines) / (time.perf_counter() - start)}

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "chat.log"
        path.write_text("".join(f"{e.ts:.3f} {e.user}: {e.text}\n" for e in entries))
        speed, per_hour, messages = offline_speed(path)
    _, found = detect(entries, DetectorConfig())
    numbers.update({
        "synthetic_log_msgs": float(messages),
        "synthetic_offline_msgs_per_s": speed,
        "synthetic_spikes_found": float(len(found)),
        "synthetic_reactions_planted": float(len(range(600, 7200, 600))),
    })
    for name in REAL_LOGS:
        path = DEV_DATA / "chat" / name
        if path.exists():
            speed, per_hour, messages = offline_speed(path)
            key = name.removesuffix(".txt")
            numbers[f"{key}_msgs"] = float(messages)
            numbers[f"{key}_offline_msgs_per_s"] = speed
            numbers[f"{key}_spikes_per_hour"] = per_hour
    numbers["live_cpu_ms_per_stream_s_at_50_msgs_s"] = live_cpu_per_second()
    return numbers


if __name__ == "__main__":
    for key, value in run().items():
        print(f"{key:<45} {value:,.2f}")
