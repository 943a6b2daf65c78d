"""Making sure each long job (a clip, a VOD) is done once, even with many workers.

Two things help:

1. A job record in Redis (`clip_job_key`). While a worker runs a job, the record holds the
   worker's name and runs out soon unless the worker keeps renewing it. When the job ends, the
   record says "done" or "failed" for a day, so the same job sent again is not cut twice.
2. A clip job can wait half a minute for its post-roll; a VOD job runs for minutes. The bus
   hands a message that sat that long without an acknowledgement to another worker (it thinks
   the first worker died). So while we work, we keep telling Redis the message is still ours
   (XCLAIM by ourselves, which resets its idle time and does not count as a new delivery).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any

from redis.asyncio import Redis

from shared.bus import REDIS_DOWN, Bus, Delivery
from shared.leases import KeyLease
from shared.streams import clip_job_key
from shared.timing import sleep_unless

log = logging.getLogger("clip_live.jobs")

FINISHED_TTL_S = 24 * 3600
"""How long a finished job's record is kept, to skip the same job sent again."""


def timings(claim_idle_ms: int) -> tuple[float, float]:
    """How long a running job's record lives, and how often we renew it (seconds).

    The bus gives a message to another worker after `claim_idle_ms` without news. The record must
    run out before that, so that when a worker dies, the worker that takes its message over finds
    the job free. We renew four times per `claim_idle_ms`, so a short hiccup loses nothing.
    """
    idle_s = claim_idle_ms / 1000
    return 0.9 * idle_s, idle_s / 4

class JobClaim:
    """The job record of one job, held by one worker."""

    def __init__(self, redis: Redis, job_id: str, worker: str, ttl_s: float) -> None:
        self.redis = redis
        self.key = clip_job_key(job_id)
        self.worker = worker
        self.lease = KeyLease(redis, self.key, f"running:{worker}", max(100, int(ttl_s * 1000)))

    async def take(self) -> str | None:
        """Take the job. Returns None when it is ours now, else why we must not do it."""
        if await self.lease.take():
            return None
        value: Any = await self.redis.get(self.key)
        text = value.decode() if isinstance(value, bytes) else str(value)
        if text.startswith("running:"):
            return f"another worker ({text.removeprefix('running:')}) is on it"
        return f"it was {text.split(':', 1)[0]} before"

    async def renew(self) -> bool:
        """Keep the record alive. False when it no longer names us."""
        return await self.lease.renew()

    async def release(self) -> None:
        """Give the job back unfinished (we stop, or hit a bug), so another try may take it."""
        await self.lease.release()

    async def finish(self, outcome: str) -> None:
        """Mark the job done or failed, for a day."""
        await self.redis.set(self.key, outcome, ex=FINISHED_TTL_S)


@contextlib.asynccontextmanager
async def kept_alive(
    claim: JobClaim, bus: Bus, delivery: Delivery[Any], group: str, consumer: str, every_s: float
) -> AsyncIterator[None]:
    """While the body runs, renew the job record and the message's idle time every `every_s`."""
    done = asyncio.Event()

    async def keep() -> None:
        while True:
            await sleep_unless(done, every_s)
            if done.is_set():
                return
            try:
                await claim.renew()
                if not await bus.touch(delivery, group, consumer):
                    log.warning("another worker took over the message of this job",
                                extra={"id": delivery.id})
            except REDIS_DOWN as err:
                log.warning("cannot keep the job alive: %s", err)

    task = asyncio.create_task(keep())
    try:
        yield
    finally:
        # Ask the helper to stop, and let its Redis call finish: cancelling a Redis call in the
        # middle can be lost on Python 3.11 (the task then never ends).
        done.set()
        await asyncio.wait({task}, timeout=max(5.0, 3 * every_s))
        if not task.done():
            task.cancel()
