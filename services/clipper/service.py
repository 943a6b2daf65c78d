"""The clipper service: take clip jobs from the bus, make the clips, tell everyone.

It keeps no state of its own. All clippers read the one `clip-requests` stream in the consumer
group "clipper" (see `worker.py`), so each job goes to one of them. Each clipper works on
`clip_workers` jobs at once (one reader per job), and takes one job at a time from the stream,
so that a busy clipper leaves the next job to a free one.
"""

from __future__ import annotations

import asyncio
import functools
import time
from typing import Any

from services.export.jobs import export_job
from shared.bus import REDIS_DOWN, Bus, Delivery
from shared.contracts import ClipProgress, ClipRequest
from shared.job_claim import JobClaim, kept_alive, timings
from shared.runtime import ServiceContext
from shared.streams import CLIP_PROGRESS, CLIPS

from .job import ClipJob, JobFailed, Status
from .library import records_on_disk
from .store import restore_records
from .sweep import sweep_clips
from .worker import WORKER

GROUP = WORKER.group


async def main(ctx: ServiceContext) -> None:
    """Clean what a dead clipper left and put back the clip records Redis lost, then run
    `clip_workers` job readers until the service is asked to stop."""
    await clean_up(ctx)
    # A bus of our own that takes one job per read, sharing the service's Redis connection.
    bus = Bus(ctx.bus.redis, ctx.settings.model_copy(update={"read_batch": 1}))
    active: set[str] = set()
    readers = [Clipper(ctx, bus, ctx.consumer_name(), active)
               for _ in range(ctx.settings.clip_workers)]
    ctx.log.info("waiting for clip jobs", extra={"workers": len(readers)})
    await asyncio.gather(*(reader.run() for reader in readers))


async def clean_up(ctx: ServiceContext) -> None:
    """Remove the part files and unfinished clips that jobs left when their clipper died
    (see `sweep.py`), and say how many, once."""
    swept = await asyncio.to_thread(sweep_clips, ctx.settings.clips_dir)
    ctx.log.info("start-up cleanup: removed %d file(s) left by clip jobs that died",
                 len(swept.removed), extra={"removed": len(swept.removed)})
    if swept.failed:
        ctx.log.warning("start-up cleanup could not remove %d file(s): %s", len(swept.failed),
                        "; ".join(swept.failed[:5]))
    await restore_library(ctx)


async def restore_library(ctx: ServiceContext) -> None:
    """Put back in Redis the record of every clip on disk that Redis lacks (it lost its data),
    so the API lists every clip there is. Redis away: tried again at the next start."""
    records = await asyncio.to_thread(records_on_disk, ctx.settings.data_dir)
    try:
        restored = await restore_records(ctx.bus.redis, records)
    except REDIS_DOWN as err:
        ctx.log.warning("could not check the clip library against the disk: %s", err)
        return
    if restored:
        ctx.log.info("put back %d of the %d clip record(s) on disk that Redis did not have",
                     restored, len(records), extra={"restored": restored})


class Clipper:
    """One job reader: one consumer in the group, one job at a time."""

    def __init__(self, ctx: ServiceContext, bus: Bus, consumer: str, active: set[str]) -> None:
        self.ctx = ctx
        self.bus = bus
        self.consumer = consumer
        self.log = ctx.log
        self.active = active
        """The jobs this process works on now (shared by its readers), for the heartbeat."""

    async def run(self) -> None:
        await self.ctx.consume(self.handle, bus=self.bus, consumer=self.consumer)

    async def handle(self, delivery: Delivery[Any]) -> None:
        """Do one job. Expected failures are reported and the job is done (acknowledged)."""
        request: ClipRequest = delivery.message
        extra = {"channel": request.channel, "job": request.job_id}
        settings = self.ctx.settings
        ttl_s, keep_every = timings(settings.claim_idle_ms)
        claim = JobClaim(self.bus.redis, request.job_id, self.consumer, ttl_s)
        skip = await claim.take()
        if skip:
            self.log.info("skipping clip job: %s", skip, extra=extra)
            return
        finished = False
        self._working(request.job_id, True)
        try:
            await self.progress(request, "queued", 0, f"taken by {self.consumer}")
            job = ClipJob(self.bus, settings, request, self.consumer,
                          functools.partial(self.progress, request))
            try:
                async with kept_alive(claim, self.bus, delivery, GROUP, self.consumer, keep_every):
                    clip, sidecar = await job.run()
            except JobFailed as err:
                self.log.warning("clip job failed: %s", err, extra=extra)
                await self.progress(request, "failed", 100, str(err))
                await claim.finish("failed")
                finished = True
                return
            await self.bus.publish(CLIPS, clip)
            await self.progress(request, "done", 100, clip.note or "the clip is ready")
            await claim.finish(f"done:{clip.clip_id}")
            finished = True
            self.log.info(
                "clip ready: %s (%.1f s%s)", clip.video, clip.duration,
                ", partial" if clip.partial else "",
                extra={**extra, "post_roll_to_file_s":
                       sidecar["timings"]["post_roll_to_file_s"]},
            )
            if settings.export_new_clips:  # a short of it too (progress: export-<clip id>)
                await export_job(self.bus, clip.clip_id, clip.channel, settings.export_layout,
                                 settings.export_size, settings.export_style,
                                 settings.export_facecams)
        finally:
            self._working(request.job_id, False)
            if not finished:
                await claim.release()

    def _working(self, job_id: str, busy: bool) -> None:
        """Keep the list of running jobs, and show it in the heartbeat (`clip-live status`)."""
        if busy:
            self.active.add(job_id)
        else:
            self.active.discard(job_id)
        self.ctx.detail = f"{len(self.active)} clip job(s) running" if self.active else ""

    async def progress(self, request: ClipRequest, status: Status, percent: float,
                       detail: str) -> None:
        """Publish a `clipProgress` event."""
        await self.bus.publish(CLIP_PROGRESS, ClipProgress(
            channel=request.channel, job_id=request.job_id, status=status, percent=percent,
            detail=detail, wall=time.time()))
