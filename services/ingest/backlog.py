"""VOD mode's back-pressure: how far behind is the slowest reader of a channel's streams?

A VOD is read as fast as the workers keep up, not in real time. After each piece of audio,
ingest looks at every consumer group of every stream of the channel (the workers that read
audio, segments, pictures and captions through groups) and waits while one of them is more
than `ingest_backlog_max_s` of stream time behind the newest entry: it has not yet been handed
what came since, or has been handed it and not finished it. The streams are found by their
names, so a new worker is waited for with no change here. (The fuser reads without a group;
in VOD mode it is given a longer lateness instead.)

Without that, a slow worker would fall far behind the others, and the fuser would close
seconds before that worker's signal came.
"""

from __future__ import annotations

import json
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import ResponseError

from shared.bus import DATA_FIELD
from shared.streams import channel_pattern


async def channel_streams(redis: Redis, channel: str) -> list[str]:
    """The names of every stream of `channel` on the bus."""
    found = [key async for key in redis.scan_iter(match=channel_pattern(channel),
                                                  _type="STREAM")]
    return sorted(_text(key) for key in found)


def entry_t(fields: Any) -> float | None:
    """The stream time `t` in an entry's message, or None when it has none. Pure."""
    raw = {(k.decode() if isinstance(k, bytes) else k): v for k, v in (fields or {}).items()}
    try:
        t = json.loads(raw[DATA_FIELD]).get("t")
    except (KeyError, ValueError, AttributeError):
        return None
    return float(t) if isinstance(t, int | float) else None


async def _t_at(redis: Redis, stream: str, entry_id: str) -> float | None:
    found: Any = await redis.xrange(stream, min=entry_id, max="+", count=1)
    return entry_t(found[0][1]) if found else None


async def stream_lag_s(redis: Redis, stream: str) -> float:
    """Stream seconds between the newest entry of `stream` and where its slowest consumer
    group is: its oldest entry handed but not acknowledged, else the entry after the last one
    it was handed. 0 when the stream or its groups do not exist yet."""
    try:
        groups: Any = await redis.xinfo_groups(stream)
    except ResponseError:  # no such stream yet
        return 0.0
    newest: Any = await redis.xrevrange(stream, count=1)
    newest_t = entry_t(newest[0][1]) if newest else None
    if newest_t is None:
        return 0.0
    worst = 0.0
    for group in groups:
        info = {(k.decode() if isinstance(k, bytes) else k): v for k, v in group.items()}
        name = _text(info["name"])
        at: float | None = None
        if int(info.get("pending") or 0):
            summary: Any = await redis.xpending(stream, name)
            if summary and summary.get("min"):
                at = await _t_at(redis, stream, _text(summary["min"]))
        if at is None:
            delivered = _text(info.get("last-delivered-id") or "0-0")
            at = await _t_at(redis, stream, f"({delivered}")
        if at is not None:
            worst = max(worst, newest_t - at)
    return worst


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)
