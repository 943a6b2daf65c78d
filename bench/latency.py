"""How late captions, closed seconds and spikes come on a running mesh, read back from Redis.

Stream time is mapped to wall time through the audio chunks: each chunk says when it arrived,
and the one that came soonest after its end fixes the mapping (HLS hands audio over in bursts,
so most chunks come later than that). A caption word's delay is from the end of the word to
the first caption that shows it; a second's, from its start to its events row; a spike's, from
its second's start to its `new_spike` message. Publish times are the Redis entry ids (the
server's clock, on this machine).
"""

from __future__ import annotations

import json
import statistics
from typing import Any

from redis import Redis

from services.asr.streaming import norm
from shared.streams import AUDIO, CAPTIONS, EVENTS, SPIKES


def entries(redis: Redis, stream: str, since: float, until: float) -> list[tuple[float, Any]]:
    """(publish wall time, message data) of the entries published between the two times."""
    found: Any = redis.xrange(stream, min=str(int(since * 1000)), max=str(int(until * 1000)))
    return [(int(key.split(b"-")[0]) / 1000, json.loads(fields[b"data"]))
            for key, fields in found]


def stream_wall0(redis: Redis, channel: str) -> float | None:
    """The wall time of stream time 0, from the chunk that arrived soonest after its end."""
    found: Any = redis.xrange(AUDIO.stream(channel))
    chunks = [json.loads(fields[b"data"]) for _, fields in found]
    return min((c["wall"] - c["t"] - c["dur"] for c in chunks), default=None)


def caption_delays(redis: Redis, channel: str, wall0: float, since: float,
                   until: float) -> tuple[list[float], list[float]]:
    """Per word: seconds from its end to the first caption that shows it, and to the final
    caption that holds it."""
    seen: list[tuple[str, float]] = []
    first: list[float] = []
    final: list[float] = []
    for published, caption in entries(redis, CAPTIONS.stream(channel), since, until):
        for word in caption["words"]:
            spoken = wall0 + word["end"]
            if caption["final"]:
                final.append(published - spoken)
            key = norm(word["text"])
            if any(k == key and abs(s - word["start"]) < 0.6 for k, s in seen):
                continue
            seen.append((key, word["start"]))
            first.append(published - spoken)
    return first, final


def second_delays(redis: Redis, channel: str, wall0: float, since: float,
                  until: float) -> list[float]:
    """Per events row: seconds from the start of its second to the row."""
    return [published - (wall0 + row["t"])
            for published, row in entries(redis, EVENTS.stream(channel), since, until)]


def spike_delays(redis: Redis, channel: str, wall0: float, since: float,
                 until: float) -> list[float]:
    """Per `new_spike`: seconds from the start of its second to the message."""
    return [published - (wall0 + spike["t"])
            for published, spike in entries(redis, SPIKES.stream(channel), since, until)]


def percentiles(values: list[float], name: str) -> dict[str, float]:
    """p50 and p95 of `values` as `name_p50_s` and `name_p95_s` (nothing when empty)."""
    if not values:
        return {}
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return {f"{name}_p50_s": round(statistics.median(ordered), 2), f"{name}_p95_s": round(p95, 2)}


def latencies(redis: Redis, channels: list[str], since: float, until: float) -> dict[str, Any]:
    """Caption, events-row and spike delays over every channel, as percentiles."""
    firsts: list[float] = []
    finals: list[float] = []
    rows: list[float] = []
    spikes: list[float] = []
    for channel in channels:
        wall0 = stream_wall0(redis, channel)
        if wall0 is None:
            continue
        first, final = caption_delays(redis, channel, wall0, since, until)
        firsts += first
        finals += final
        rows += second_delays(redis, channel, wall0, since, until)
        spikes += spike_delays(redis, channel, wall0, since, until)
    return {**percentiles(firsts, "caption_first"), **percentiles(finals, "caption_final"),
            **percentiles(rows, "row"), **percentiles(spikes, "spike"), "spikes": len(spikes)}
