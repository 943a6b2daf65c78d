"""Chat numbers: how fast IRC lines are read, how fast the spike detector counts messages, and
how fast `find_spikes` goes through a saved log (2 hours of chat at 20 msgs/s, with bursts)."""

from __future__ import annotations

import random
import tempfile
import time
from pathlib import Path

from services.chat.chatlog import LogEntry
from services.chat.detector import ChatDetector, DetectorConfig
from services.chat.irc import parse_line, to_event
from services.chat.offline import find_spikes
from shared.settings import Settings

START = 1_700_000_000.0
WORDS = ["PogChamp", "hello", "KEKW", "what", "a", "play", "W", "LUL", "nice", "gg", "chat"]


def synthetic_chat(seconds: int = 7200, rate: float = 20.0, seed: int = 1) -> list[LogEntry]:
    """Calm chat at `rate` msgs/s with a burst of 5x the rate every 10 minutes."""
    rng = random.Random(seed)
    entries: list[LogEntry] = []
    t = 0.0
    while t < seconds:
        burst = (t % 600) < 5 and t > 60
        t += rng.expovariate(rate * (5 if burst else 1))
        text = " ".join(rng.choices(WORDS, k=rng.randint(1, 6)))
        entries.append(LogEntry(START + t, f"user{rng.randrange(2000)}", text))
    return entries


def irc_lines(entries: list[LogEntry]) -> list[str]:
    return [f"@badge-info=;badges=subscriber/6;color=#1E90FF;display-name={e.user};emotes=;"
            f"id=abc;mod=0;room-id=1;subscriber=1;tmi-sent-ts={round(e.ts * 1000)};turbo=0;"
            f"user-id=42;user-type= :{e.user}!{e.user}@{e.user}.tmi.twitch.tv PRIVMSG #c "
            f":{e.text}\r\n" for e in entries]


def run() -> dict[str, float]:
    entries = synthetic_chat()
    lines = irc_lines(entries[:100_000])

    start = time.perf_counter()
    for line in lines:
        to_event(parse_line(line), 0.0)
    parse_rate = len(lines) / (time.perf_counter() - start)

    detector = ChatDetector(DetectorConfig())
    start = time.perf_counter()
    for e in entries:
        detector.close_until(e.ts - 1.5)
        detector.add_message(e.ts, e.user, e.text)
    detector.close_until(entries[-1].ts + 5)
    detect_rate = len(entries) / (time.perf_counter() - start)

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "chat.log"
        path.write_text("".join(f"{e.ts:.3f} {e.user}: {e.text}\n" for e in entries))
        start = time.perf_counter()
        spikes = find_spikes(path, Settings())
        offline_s = time.perf_counter() - start
    return {
        "irc_parse_lines_per_s": parse_rate,
        "detector_msgs_per_s": detect_rate,
        "offline_log_msgs": float(len(entries)),
        "offline_find_spikes_s": offline_s,
        "offline_msgs_per_s": len(entries) / offline_s,
        "offline_spikes_found": float(len(spikes)),
        "offline_bursts_planted": float(len(range(600, 7200, 600))),
    }
