"""Clips per channel and the time from moment to clip, kept between `/metrics` scrapes.

The clip index only grows, and a clip's record does not change once written (a verdict adds a
field, not a new time), so a scrape reads only the clips added since the last one: a scrape
costs the same after a year of clips as after a day. The numbers are still all Redis's: the
first scrape (and any scrape that finds the index is not what we counted: Redis lost data, or
was emptied) counts the whole index again.
"""

from __future__ import annotations

import asyncio
import bisect
import math
from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any

from redis.asyncio import Redis

from shared.streams import CLIP_INDEX_KEY, clip_key
from shared.text import as_text

LATENCY_BUCKETS = (5.0, 10.0, 15.0, 20.0, 30.0, 45.0, 60.0, 90.0, 120.0, 180.0, 300.0, 600.0)
"""Seconds from a moment to its clip. A clip waits for its post-roll (some 10 to 30 s) to be
recorded first, so the buckets start there and reach ten minutes."""

PAGE = 5_000
"""Clip records asked for in one pipeline."""


def bucket_counts(values: Iterable[float]) -> list[int]:
    """How many values fall in each bucket (not summed up): one per bound, the last for the
    values above every bound. Pure."""
    counts = [0] * (len(LATENCY_BUCKETS) + 1)
    for value in values:
        counts[bisect.bisect_left(LATENCY_BUCKETS, value)] += 1
    return counts


def latency_of(spike_wall: Any, wall: Any) -> float | None:
    """Seconds from the moment (the record's `spike_wall`) to the clip file (its `wall`),
    never below 0; None when either is missing or not a number. Pure."""
    moment, ready = number(spike_wall), number(wall)
    if moment is None or ready is None or moment <= 0:
        return None
    return max(0.0, ready - moment)


def number(value: Any) -> float | None:
    """A finite number from a Redis field (the clipper writes numbers as JSON), else None."""
    if value is None:
        return None
    try:
        found = float(as_text(value))
    except ValueError:
        return None
    return found if math.isfinite(found) else None


class ClipTally:
    """What the clips seen so far add up to: clips per channel and the latency histogram."""

    def __init__(self) -> None:
        self.lock = asyncio.Lock()
        self.reset()

    def reset(self) -> None:
        self.seen: set[str] = set()
        self.since = 0.0
        """The highest index score seen: later scrapes ask from there on."""
        self.clips: Counter[str] = Counter()
        self.counts = [0] * (len(LATENCY_BUCKETS) + 1)
        self.total_s = 0.0

    def add(self, clip_id: str, score: float, row: Sequence[Any]) -> None:
        """Count one clip from its record's (channel, spike_wall, wall) fields. A record that
        is gone (no channel) counts as seen, not as a clip."""
        self.seen.add(clip_id)
        self.since = max(self.since, score)
        channel, spike_wall, wall = row
        if channel is None:
            return
        self.clips[as_text(channel)] += 1
        latency = latency_of(spike_wall, wall)
        if latency is not None:
            self.counts[bisect.bisect_left(LATENCY_BUCKETS, latency)] += 1
            self.total_s += latency


async def update(redis: Redis, tally: ClipTally) -> ClipTally:
    """Count the clips added to the index since the last call (all of them the first time, or
    when the index is not what we counted)."""
    async with tally.lock:
        total, new = await _new_ids(redis, tally)
        if len(tally.seen) + len(new) != total:  # some were removed: count them all again
            tally.reset()
            total, new = await _new_ids(redis, tally)
        for start in range(0, len(new), PAGE):
            page = new[start:start + PAGE]
            async with redis.pipeline(transaction=False) as pipe:
                for clip_id, _ in page:
                    pipe.hmget(clip_key(clip_id), ["channel", "spike_wall", "wall"])
                rows = await pipe.execute()
            for (clip_id, score), row in zip(page, rows, strict=True):
                tally.add(clip_id, score, row)
    return tally


async def _new_ids(redis: Redis, tally: ClipTally) -> tuple[int, list[tuple[str, float]]]:
    """The index's size and the ids (with their scores) not seen yet, read in one step."""
    async with redis.pipeline(transaction=True) as pipe:  # one key: one step on a cluster too
        pipe.zcard(CLIP_INDEX_KEY)
        pipe.zrangebyscore(CLIP_INDEX_KEY, tally.since, "+inf", withscores=True)
        total, found = await pipe.execute()
    new = [(as_text(i), float(s)) for i, s in found if as_text(i) not in tally.seen]
    return int(total), new
