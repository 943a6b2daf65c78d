"""Where the recording ring buffer lives on disk, and how clip jobs keep parts of it.

Ingest writes 2-second MPEG-TS segments under `<data_dir>/buffer/<channel>/<session>/` and deletes
old ones. A clip job "pins" the stream time it still needs, so ingest keeps those segments until
the job is done and unpins. A pin also runs out by itself after `PIN_TTL_S`: a job whose worker
was killed, or that went to the dead-letter stream, never unpins, and its pin must not keep
the ring buffer growing for ever.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from redis.asyncio import Redis

from shared.contracts import check_channel
from shared.streams import pins_key
from shared.text import as_text


def buffer_dir(data_dir: Path, channel: str, session: str) -> Path:
    """The folder that holds one session's segments."""
    return data_dir / "buffer" / check_channel(channel) / session


def clips_dir(data_dir: Path, channel: str) -> Path:
    """The folder that holds a channel's finished clips."""
    return data_dir / "clips" / check_channel(channel)


PIN_TTL_S = 900.0
"""A pin runs out this long after it was made (a clip job takes a minute or two at most)."""


async def pin(redis: Redis, channel: str, job_id: str, from_t: float,
              now: float | None = None) -> None:
    """Keep every segment that ends after `from_t` until `unpin` is called for this job, or
    the pin runs out. The member is `<job id> <run-out time>`."""
    await unpin(redis, channel, job_id)
    until = (now or time.time()) + PIN_TTL_S
    await redis.zadd(pins_key(channel), {f"{job_id} {until:.0f}": from_t})


async def unpin(redis: Redis, channel: str, job_id: str) -> None:
    members: Any = await redis.zrange(pins_key(channel), 0, -1)
    mine = [m for m in members if _text(m).split(" ")[0] == job_id]
    if mine:
        await redis.zrem(pins_key(channel), *mine)


async def earliest_pin(redis: Redis, channel: str, now: float | None = None) -> float | None:
    """The earliest stream time any clip job still needs, or None when nothing is pinned.
    Pins that ran out are dropped on the way."""
    now = now or time.time()
    rows: Any = await redis.zrange(pins_key(channel), 0, -1, withscores=True)
    live: list[tuple[Any, float]] = []
    gone: list[tuple[Any, float]] = []
    for member, score in rows:
        _, _, until = _text(member).partition(" ")
        try:
            expired = float(until) < now
        except ValueError:
            expired = True  # Not a pin we made.
        (gone if expired else live).append((member, score))
    if gone:
        await redis.zrem(pins_key(channel), *[m for m, _ in gone])
    return float(live[0][1]) if live else None


def _text(value: Any) -> str:
    try:
        return as_text(value)
    except UnicodeDecodeError:
        return ""  # Not a pin we made: it never matches a job and counts as run out.
