"""The vod service: take VOD jobs from the bus and run each to its ranked clips (`job.py`).

All copies read the one `vod-requests` stream in the consumer group "vod", one job at a time,
so each job goes to one copy. A job's record (`shared/job_claim.py`) makes sure one copy runs
it; if that copy dies, the record runs out and the bus hands the job to another copy, which
starts it over plainly. A job stopped with its service is left unacknowledged for the same
reason.
"""

from __future__ import annotations

import asyncio
from typing import Any

from services.vod.job import VodJob
from services.vod.worker import WORKER
from shared.bus import Bus, Delivery
from shared.contracts import VodRequest
from shared.job_claim import JobClaim, kept_alive, timings
from shared.runtime import ServiceContext


async def main(ctx: ServiceContext) -> None:
    # A bus of our own that takes one job per read, sharing the service's Redis connection.
    bus = Bus(ctx.bus.redis, ctx.settings.model_copy(update={"read_batch": 1}))
    consumer = ctx.consumer_name()

    async def handle(delivery: Delivery[Any]) -> None:
        request: VodRequest = delivery.message
        extra = {"job": request.job_id}
        ttl_s, keep_every = timings(ctx.settings.claim_idle_ms)
        claim = JobClaim(bus.redis, request.job_id, consumer, ttl_s)
        skip = await claim.take()
        if skip:
            ctx.log.info("skipping VOD job: %s", skip, extra=extra)
            return
        ended: str | None = None
        ctx.detail = f"VOD job {request.job_id}: {request.source}"
        ctx.log.info("VOD job %s: %s", request.job_id, request.source, extra=extra)
        try:
            async with kept_alive(claim, bus, delivery, WORKER.group, consumer, keep_every):
                ended = await VodJob(bus, ctx.settings, request, ctx.stop).run()
            if ended is None:  # stopped with the service: not done, so not acknowledged
                raise asyncio.CancelledError
            await claim.finish(ended)
            ctx.log.info("VOD job %s %s", request.job_id, ended, extra=extra)
        finally:
            ctx.detail = ""
            if ended is None:
                await claim.release()

    ctx.log.info("waiting for VOD jobs")
    await ctx.consume(handle, bus=bus, consumer=consumer)
