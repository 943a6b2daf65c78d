"""Follow one VOD through the running mesh, from the file to the ranked clips.

A thread of its own (like `launcher/follow.py`) runs `VodJob.follow` on asyncio:

1. check the file (`media.scan`): its keyframes, and stretches too damaged to read; split it
   into parts (`parts.plan_parts`) and copy each part out, on keyframes;
2. start each part as a channel of its own: the workers share channels through their leases,
   so with two worker sets each takes a part (see `parts.py` for the overlaps);
3. hand each part's chat to the bus as that part's sound and picture get to it, and gather
   the fuser's seconds of every part, put back on the VOD's clock;
4. when every part has ended, rank the moments, ask the clipper for the best `top` (the
   mesh's own clipper cuts them, with .srt and thumbnail), and write them, their .json and
   report.html to the out folder.

Progress goes to the terminal (`show`) and to the bus (`VOD_PROGRESS`). The supervisor's loop
reads `outcome` to learn that the job is over.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import shutil
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from launcher.run_report import Outcome
from launcher.vod.chat import chat_seconds
from launcher.vod.media import scan
from launcher.vod.outputs import write_outputs
from launcher.vod.part_run import PartRun, cut_parts
from launcher.vod.parts import Skipped, damaged_stretches, plan_parts
from launcher.vod.rank import Moment, candidates, pick, with_spikes
from shared.bus import REDIS_DOWN, Bus
from shared.contracts import (
    ChatSecond,
    Clip,
    ClipRequest,
    EventRow,
    Spike,
    VodProgress,
    VodSkip,
)
from shared.settings import Settings
from shared.streams import CLIP_REQUESTS, CLIPS, VOD_PROGRESS

POLL_S = 0.25
CLIP_WAIT_S = 180.0

log = logging.getLogger("clip_live.vod")


@dataclass
class VodPlan:
    """What to analyse and where the results go."""

    video: Path
    channel: str
    length_s: float
    top: int
    out: Path
    chat: Path | None = None
    parts: int = 1


@dataclass
class Progress:
    """How far the job is, for the progress bar and the bus."""

    done_s: float = 0.0
    started: float = field(default_factory=time.monotonic)
    stage: str = "starting the workers"

    @property
    def speed(self) -> float:
        """Seconds of the VOD judged per second of wall time so far."""
        return self.done_s / max(1e-6, time.monotonic() - self.started)


class VodJob:
    """Start with `start()`; stop with `stop()`. `outcome` is set when the job is over."""

    def __init__(self, settings: Settings, redis_url: str, plan: VodPlan,
                 show: Callable[[Progress], None]) -> None:
        self.settings = settings.model_copy(update={"redis_url": redis_url})
        self.plan = plan
        self.show = show
        self.job_id = uuid.uuid4().hex[:12]
        self.progress = Progress()
        self.outcome: Outcome | None = None
        self.parts: list[PartRun] = []
        self.skipped: list[Skipped] = []
        self.chat: list[ChatSecond] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="vod", daemon=True)
        self._last_told = 0.0

    @property
    def rows(self) -> list[EventRow]:
        """Every part's kept seconds, on the VOD's clock."""
        return sorted((r for p in self.parts for r in p.kept_rows()), key=lambda r: r.t)

    @property
    def spikes(self) -> list[Spike]:
        """Every part's kept spikes, on the VOD's clock."""
        return [s for p in self.parts for s in p.kept_spikes()]

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(10)

    def _run(self) -> None:
        try:
            self.outcome = asyncio.run(self.follow())
        except Exception as err:  # the run must end, with the reason shown
            self.outcome = Outcome(1, f"clip-live vod: {type(err).__name__}: {err}")

    async def follow(self) -> Outcome | None:
        assert self.settings.redis_url
        bus = await Bus.connect(self.settings.redis_url, self.settings)
        folder = self.settings.data_dir.resolve() / "vod-parts" / self.job_id
        try:
            if not await self._prepare(bus, folder):
                await self._stopped(bus)
                return None
            for part in self.parts:
                await part.start_channel(bus)
            self.progress.stage = "analysing"
            if not await self._analyse(bus):
                await self._stopped(bus)
                return None
            await self._tell(bus, "cutting clips", force=True)
            rows = with_spikes(self.rows, self.spikes)
            picked = pick(candidates(rows, self.chat), self.plan.top,
                          self.settings.clip_pre, self.settings.clip_post)
            clips = await self._cut(bus, picked)
            if clips is None:
                await self._stopped(bus)
                return None
            write_outputs(self.plan, picked, clips, rows, self.chat, self.skipped)
            await self._tell(bus, "done", clips=[c.video for c in clips], force=True)
            skipped = f"; {len(self.skipped)} stretch(es) skipped, see report.html" \
                if self.skipped else ""
            return Outcome(0, f"{len(clips)} clip(s) of the best moments in "
                              f"{self.plan.out}{skipped}")
        except Exception as err:
            with contextlib.suppress(*REDIS_DOWN):
                await self._tell(bus, "failed", detail=str(err), force=True)
            raise
        finally:
            shutil.rmtree(folder, ignore_errors=True)
            await bus.close()

    async def _prepare(self, bus: Bus, folder: Path) -> bool:
        """Check the file, plan the parts and cut them out. False when told to stop first."""
        await self._tell(bus, "checking", force=True)
        found = await asyncio.to_thread(scan, self.plan.video)
        parts, self.skipped = plan_parts(
            self.plan.length_s, found.keyframes, self.plan.parts,
            lead_s=max(self.settings.clip_pre, 3.0 * self.settings.fuser_warmup_s),
            tail_s=self.settings.clip_post + 1.0, damaged=damaged_stretches(found.bad_sound))
        for skip in self.skipped:
            log.warning("skipping %.1f-%.1f s of %s: %s", skip.start, skip.end,
                        self.plan.video.name, skip.why)
        if not parts:
            raise RuntimeError("no part of the file could be read")
        if self.plan.chat:
            self.chat = chat_seconds(self.plan.chat, self.settings, self.plan.channel, "",
                                     self.plan.length_s)
        await self._tell(bus, "cutting parts", force=True)
        self.parts = await asyncio.to_thread(cut_parts, self.plan, parts, self.chat, folder,
                                             self._stop)
        log.info("%s: %d part(s): %s", self.plan.video.name, len(parts),
                 ", ".join(f"{p.keep_from:.0f}-{p.keep_to:.0f} s" for p in parts))
        return not self._stop.is_set()

    async def _analyse(self, bus: Bus) -> bool:
        """Follow every part until all have ended. False when told to stop first."""
        while not self._stop.is_set():
            with _redis_may_blink():
                for part in self.parts:
                    if not part.over:
                        await part.follow(bus, self.settings)
                    if part.failed and not part.told_failed:
                        part.told_failed = True
                        log.error("part %d (%.0f-%.0f s) could not be read: %s",
                                  part.part.index + 1, part.part.keep_from, part.part.keep_to,
                                  part.failed)
                        self.skipped.append(Skipped(part.part.keep_from, part.part.keep_to,
                                                    f"could not be read: {part.failed}"))
                self.progress.done_s = sum(p.done_s for p in self.parts) + sum(
                    s.end - s.start for s in self.skipped)
                await self._tell(bus, "analysing")
                if all(p.over for p in self.parts):
                    return True
            await asyncio.sleep(POLL_S)
        return False

    async def _cut(self, bus: Bus, picked: list[Moment]) -> list[Clip] | None:
        """Ask the mesh's clipper for each picked moment; wait for the clips (in rank order),
        their times put back on the VOD's clock."""
        after = (await bus.latest(CLIPS))
        last = after.id if after else "0"
        jobs: dict[str, tuple[int, PartRun]] = {}
        for rank, moment in enumerate(picked):
            part = next(p for p in self.parts if p.keeps(moment.peak))
            job_id = f"vod-{self.job_id}-{rank + 1}"
            jobs[job_id] = (rank, part)
            await bus.publish(CLIP_REQUESTS, ClipRequest(
                channel=part.channel, job_id=job_id, session=part.session,
                t=moment.peak - part.part.start, pre=self.settings.clip_pre,
                post=self.settings.clip_post, reason="vod", wall=time.time()))
        got: dict[int, Clip] = {}
        deadline = time.monotonic() + CLIP_WAIT_S
        while len(got) < len(jobs) and time.monotonic() < deadline:
            if self._stop.is_set():
                return None
            with _redis_may_blink():
                for item in await bus.read(CLIPS, after=last, block_ms=500):
                    last = item.id
                    if item.message.job_id in jobs:
                        rank, part = jobs[item.message.job_id]
                        got[rank] = part.on_vod_clock(item.message)
        if len(got) < len(jobs):
            raise RuntimeError(f"the clipper made {len(got)} of {len(jobs)} clips in "
                               f"{CLIP_WAIT_S:.0f} s")
        return [got[i] for i in range(len(jobs))]

    async def _stopped(self, bus: Bus) -> None:
        with contextlib.suppress(*REDIS_DOWN):
            await self._tell(bus, "stopped", force=True)
        return None

    async def _tell(self, bus: Bus, stage: str, clips: list[str] | None = None,
                    detail: str = "", force: bool = False) -> None:
        """Show the progress here, and on the bus about once a second (or now: `force`)."""
        self.progress.stage = stage
        self.show(self.progress)
        if not force and time.monotonic() - self._last_told < 1.0:
            return
        self._last_told = time.monotonic()
        await bus.publish(VOD_PROGRESS, VodProgress(
            job_id=self.job_id, source=str(self.plan.video), stage=stage,  # type: ignore[arg-type]
            done_s=min(self.progress.done_s, self.plan.length_s), length_s=self.plan.length_s,
            speed=self.progress.speed, parts=len(self.parts),
            skipped=[VodSkip(start=s.start, end=s.end, why=s.why) for s in self.skipped],
            clips=clips or [], out=str(self.plan.out), detail=detail, wall=time.time()))


def _redis_may_blink() -> contextlib.suppress:
    """Redis away for a moment (paused, restarting): just poll again."""
    return contextlib.suppress(*REDIS_DOWN)
