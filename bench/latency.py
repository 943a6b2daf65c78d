"""How late captions, closed seconds and spikes come on a running mesh, read back from Redis.

Stream time is mapped to wall time through the audio chunks: each chunk says when it arrived,
and the one that came soonest after its end fixes the mapping (HLS hands audio over in bursts,
so most chunks come later than that). A caption word's delay is from the end of the word to
the first caption that shows it; its ASR part, from the arrival on the bus of the audio chunk
that holds the word's end to that caption (what ASR adds; the rest is the source's bursts and
ingest); a second's, from its start to its events row; a spike's, from
its second's start to its `new_spike` message. Publish times are the Redis entry ids (the
server's clock, on this machine).
"""

from __future__ import annotations

import bisect
import json
import statistics
from typing import Any

from redis import Redis

from shared.contracts import Caption
from shared.streams import AUDIO, CAPTIONS, EVENTS, SPIKES
from tests.services.asr.support import first_shown


def entries(redis: Redis, stream: str, since: float | None = None,
            until: float | None = None) -> list[tuple[float, Any]]:
    """(publish wall time, message data) of the entries published between the two times (all
    of them when no times are given)."""
    found: Any = redis.xrange(stream, min="-" if since is None else str(int(since * 1000)),
                              max="+" if until is None else str(int(until * 1000)))
    return [(int(key.split(b"-")[0]) / 1000, json.loads(fields[b"data"]))
            for key, fields in found]


def stream_wall0(chunks: list[tuple[float, Any]]) -> float | None:
    """The wall time of stream time 0, from the audio chunk that arrived soonest after its
    end (`chunks` as `entries` gives them)."""
    return min((c["wall"] - c["t"] - c["dur"] for _, c in chunks), default=None)


def audio_arrivals(chunks: list[tuple[float, Any]]) -> tuple[list[float], list[float]]:
    """The stream time where each audio chunk ends, and when it was published on the bus, in
    stream order."""
    ordered = sorted((c["t"] + c["dur"], published) for published, c in chunks)
    return [end for end, _ in ordered], [arrived for _, arrived in ordered]


def caption_delays(redis: Redis, channel: str, chunks: list[tuple[float, Any]], wall0: float,
                   since: float, until: float) -> tuple[list[float], list[float], list[float]]:
    """Per word: seconds from its end to the first caption that shows it; from the arrival of
    the chunk that holds its end to that caption; and from its end to the final caption that
    holds it."""
    found = [(published, Caption.model_validate(data))
             for published, data in entries(redis, CAPTIONS.stream(channel), since, until)]
    ends, arrivals = audio_arrivals(chunks)
    shown = first_shown(found)
    firsts = [published - (wall0 + word.end) for word, published in shown]
    own = [published - arrivals[min(bisect.bisect_left(ends, word.end - 0.01), len(ends) - 1)]
           for word, published in shown if ends]
    finals = [published - (wall0 + word.end) for published, caption in found if caption.final
              for word in caption.words]
    return firsts, own, finals


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


def quantile(values: list[float], q: float) -> float:
    """The value a share `q` of `values` is at or below (nearest rank)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def percentiles(values: list[float], name: str) -> dict[str, float]:
    """p50 and p95 of `values` as `name_p50_s` and `name_p95_s` (nothing when empty)."""
    if not values:
        return {}
    return {f"{name}_p50_s": round(statistics.median(values), 2),
            f"{name}_p95_s": round(quantile(values, 0.95), 2)}


def latencies(redis: Redis, channels: list[str], since: float, until: float) -> dict[str, Any]:
    """Caption, events-row and spike delays over every channel, as percentiles."""
    firsts: list[float] = []
    own: list[float] = []
    finals: list[float] = []
    rows: list[float] = []
    spikes: list[float] = []
    for channel in channels:
        chunks = entries(redis, AUDIO.stream(channel))
        wall0 = stream_wall0(chunks)
        if wall0 is None:
            continue
        first, asr, final = caption_delays(redis, channel, chunks, wall0, since, until)
        firsts += first
        own += asr
        finals += final
        rows += second_delays(redis, channel, wall0, since, until)
        spikes += spike_delays(redis, channel, wall0, since, until)
    return {**percentiles(firsts, "caption_first"), **percentiles(own, "caption_asr"),
            **percentiles(finals, "caption_final"),
            **percentiles(rows, "row"), **percentiles(spikes, "spike"), "spikes": len(spikes)}
