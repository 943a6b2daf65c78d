"""Where the recording ring buffer lives on disk, and how clip jobs keep parts of it.

Ingest writes 2-second MPEG-TS segments under `<data_dir>/buffer/<channel>/<session>/` and deletes
old ones. A clip job "pins" the stream time it still needs, so ingest keeps those segments until
the job is done and unpins.
"""

from __future__ import annotations

from pathlib import Path

from redis.asyncio import Redis

from shared.contracts import check_channel
from shared.streams import pins_key


def buffer_dir(data_dir: Path, channel: str, session: str) -> Path:
    """The folder that holds one session's segments."""
    return data_dir / "buffer" / check_channel(channel) / session


def clips_dir(data_dir: Path, channel: str) -> Path:
    """The folder that holds a channel's finished clips."""
    return data_dir / "clips" / check_channel(channel)


async def pin(redis: Redis, channel: str, job_id: str, from_t: float) -> None:
    """Keep every segment that ends after `from_t` until `unpin` is called for this job."""
    await redis.zadd(pins_key(channel), {job_id: from_t})


async def unpin(redis: Redis, channel: str, job_id: str) -> None:
    await redis.zrem(pins_key(channel), job_id)


async def earliest_pin(redis: Redis, channel: str) -> float | None:
    """The earliest stream time any clip job still needs, or None when nothing is pinned."""
    rows = await redis.zrange(pins_key(channel), 0, 0, withscores=True)
    return float(rows[0][1]) if rows else None
