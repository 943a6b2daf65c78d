"""One VOD job, from the file to the ranked clips (the vod service runs it).

1. check the file (`media.scan`): its keyframes, and stretches too damaged to read; split it
   into parts (`parts.plan_parts`) and copy each part out, on keyframes;
2. start each part as a channel of its own, marked as a recording, so the same workers read
   it as fast as they keep up (see `shared.channels.vod_settings`); workers share channels
   through their leases, so with two worker sets each takes a part;
3. hand each part's chat to the bus as that part's sound and picture get to it, and gather
   the fuser's seconds and spikes of every part, put back on the VOD's clock;
4. when every part has ended, rank the moments, ask the clipper for the best `top`, and write
   them, their .json, vod.json and report.html to the out folder.

Progress goes to the bus (`VOD_PROGRESS`) about once a second: `clip-live vod` draws its
progress bar from it, and the dashboard shows it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

from services.chat.offline import ChatLogError
from services.vod.chat import chat_seconds
from services.vod.download import FetchFailed, FetchStopped, fetch
from services.vod.ended import ENDED, save_ended
from services.vod.media import NotMedia, media_length, scan
from services.vod.outputs import write_outputs
from services.vod.part_run import PartRun, cut_parts
from services.vod.parts import Skipped, damaged_stretches, plan_parts
from services.vod.rank import Moment, candidates, pick, with_spikes
from shared.bus import REDIS_DOWN, Bus
from shared.contracts import Clip, ClipRequest, VodProgress, VodRequest, VodSkip
from shared.netcheck import is_url
from shared.recording import unpin
from shared.settings import Settings
from shared.streams import CLIP_REQUESTS, CLIPS, VOD_PROGRESS

POLL_S = 0.25
CLIP_WAIT_S = 180.0
CLIPS_LOOK_BACK = 1000
"""How many recent clips a job looks through for the ones it asked for before."""
PIN_EVERY_S = 300.0
"""How often a running job pins its parts' recordings again (a pin runs out after a while)."""

log = logging.getLogger("clip_live.vod")


class JobFailed(Exception):
    """The job cannot go on; the message says why, in one line."""


@dataclass
class VodPlan:
    """What to analyse and where the results go."""

    video: Path
    source: str
    """What the user named: the file, or the URL the video was fetched from."""
    channel: str
    """Its parts are the channels `<channel>-1`, `<channel>-2`, ...; one part: `<channel>`."""
    length_s: float
    top: int
    out: Path
    chat: Path | None = None
    parts: int = 1


def plan_of(request: VodRequest, settings: Settings, video: Path) -> VodPlan:
    """The plan for a request whose video is (now) the file `video`. Raises JobFailed for a
    file that is missing or no video."""
    if not video.is_file():
        raise JobFailed(f"no such file: {video}")
    chat = Path(request.chat) if request.chat else None
    if chat is not None and not chat.is_file():
        raise JobFailed(f"no such chat file: {chat}")
    try:
        length = media_length(video)
    except NotMedia as err:
        raise JobFailed(str(err)) from None
    return VodPlan(video=video, source=request.source, channel=f"vod-{request.job_id}",
                   length_s=length, top=request.top, out=out_folder(request, settings),
                   chat=chat, parts=request.parts)


def out_folder(request: VodRequest, settings: Settings) -> Path:
    """Where the job's results go: the request's folder, else `<data folder>/vods/<job id>`."""
    out = Path(request.out) if request.out else settings.data_dir / "vods" / request.job_id
    return out.resolve()


@dataclass
class Progress:
    """How far the job is."""

    done_s: float = 0.0
    started: float = field(default_factory=time.monotonic)

    @property
    def speed(self) -> float:
        """Seconds of the VOD judged per second of wall time so far."""
        return self.done_s / max(1e-6, time.monotonic() - self.started)


class VodJob:
    """`await run()`: the job, start to end. It gives up, unfinished, once `stop` is set."""

    def __init__(self, bus: Bus, settings: Settings, request: VodRequest,
                 stop: asyncio.Event) -> None:
        self.bus = bus
        self.settings = settings
        self.request = request
        self.stop = stop
        self.progress = Progress()
        self.plan: VodPlan | None = None
        self.parts: list[PartRun] = []
        self.skipped: list[Skipped] = []
        self._last_told = 0.0
        self._last_pinned = 0.0

    async def run(self) -> str | None:
        """Run the job; return how it ended ("done: ...", "failed: ..."), or None when it was
        stopped first."""
        folder = self._fresh_folder()
        try:
            clips = await self._run(folder)
        except FetchStopped:
            clips = None
        except (JobFailed, ChatLogError, OSError, ValueError) as err:
            log.error("VOD job %s failed: %s", self.request.job_id, err)
            await self._tell("failed", detail=str(err))
            return f"failed: {err}"
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        if clips is None:
            with contextlib.suppress(*REDIS_DOWN):
                await self._tell("stopped")
            return None
        return f"done: {len(clips)} clip(s)"

    def _fresh_folder(self) -> Path:
        """A folder of its own for this run of the job, for the fetched VOD and its parts.
        A run taken over from a copy that died removes what that one left, and its parts get
        new names, so ingest starts them over rather than reading a file being rewritten."""
        root = self.settings.data_dir.resolve() / "vod-parts"
        for old in root.glob(f"{self.request.job_id}-*"):
            shutil.rmtree(old, ignore_errors=True)
        return root / f"{self.request.job_id}-{secrets.token_hex(3)}"

    async def _run(self, folder: Path) -> list[Clip] | None:
        video = await self._fetch(folder) if is_url(self.request.source) else Path(
            self.request.source)
        self.plan = plan = await asyncio.to_thread(plan_of, self.request, self.settings, video)
        await self._tell("checking")
        found = await asyncio.to_thread(scan, plan.video)
        parts, self.skipped = plan_parts(
            plan.length_s, found.keyframes, plan.parts,
            lead_s=max(self.settings.clip_pre, 3.0 * self.settings.fuser_warmup_s),
            tail_s=self.settings.clip_post + 1.0, damaged=damaged_stretches(found.bad_sound))
        for skip in self.skipped:
            log.warning("skipping %.1f-%.1f s of %s: %s", skip.start, skip.end, plan.source,
                        skip.why)
        if not parts:
            raise JobFailed("no part of the file could be read")
        chat = (await asyncio.to_thread(chat_seconds, plan.chat, self.settings, plan.channel, "",
                                        plan.length_s)) if plan.chat else []
        await self._tell("cutting parts")
        self.parts = await asyncio.to_thread(cut_parts, plan, parts, chat, folder,
                                             self.stop.is_set)
        log.info("%s: %d part(s): %s", plan.source, len(parts),
                 ", ".join(f"{p.keep_from:.0f}-{p.keep_to:.0f} s" for p in parts))
        if self.stop.is_set():
            return None
        for part in self.parts:
            await part.start_channel(self.bus, self.request.job_id)
        self._last_pinned = time.monotonic()
        if not await self._analyse():
            return None
        await self._tell("cutting clips")
        rows = with_spikes([r for p in self.parts for r in p.kept_rows()],
                           [s for p in self.parts for s in p.kept_spikes()])
        picked = pick(candidates(rows, chat), plan.top, self.settings.clip_pre,
                      self.settings.clip_post)
        clips = await self._cut(picked)
        if clips is None:
            return None
        await asyncio.to_thread(write_outputs, plan, picked, clips, rows, chat, self.skipped)
        for part in self.parts:
            await unpin(self.bus.redis, part.channel, self.request.job_id)
        self.progress.done_s = plan.length_s
        await self._tell("done", clips=[c.clip_id for c in clips])
        return clips

    async def _fetch(self, folder: Path) -> Path:
        """Fetch the past broadcast at the request's URL into `folder` (see `download.py`)."""
        await self._tell("fetching", detail=f"fetching {self.request.source}")
        loop = asyncio.get_running_loop()

        def progress(done: int) -> None:
            tell = self._tell("fetching", detail=f"fetched {done >> 20} MB", every_s=1.0)
            asyncio.run_coroutine_threadsafe(tell, loop)

        try:
            return await asyncio.to_thread(fetch, self.request.source, folder / "source.ts",
                                           self.settings, progress, self.stop.is_set)
        except FetchFailed as err:
            raise JobFailed(str(err)) from None

    async def _analyse(self) -> bool:
        """Follow every part until all have ended. False when told to stop first."""
        while not self.stop.is_set():
            with _redis_may_blink():
                for part in self.parts:
                    if not part.over:
                        await part.follow(self.bus, self.settings)
                    if part.failed and not part.told_failed:
                        part.told_failed = True
                        log.error("part %d (%.0f-%.0f s) could not be read: %s",
                                  part.part.index + 1, part.part.keep_from, part.part.keep_to,
                                  part.failed)
                        self.skipped.append(Skipped(part.part.keep_from, part.part.keep_to,
                                                    f"could not be read: {part.failed}"))
                if time.monotonic() - self._last_pinned > PIN_EVERY_S:
                    for part in self.parts:
                        await part.keep_recording(self.bus, self.request.job_id)
                    self._last_pinned = time.monotonic()
                self.progress.done_s = sum(p.done_s for p in self.parts) + sum(
                    s.end - s.start for s in self.skipped)
                await self._tell("analysing", every_s=1.0)
                if all(p.over for p in self.parts):
                    return True
            await asyncio.sleep(POLL_S)
        return False

    async def _cut(self, picked: list[Moment]) -> list[Clip] | None:
        """Ask the mesh's clipper for each picked moment; wait for the clips (in rank order),
        their times put back on the VOD's clock. None when told to stop first.

        A clip job's id comes from the VOD job's and the rank, so a job taken over from a copy
        that died finds the clips that copy had already asked for (the clipper skips a job it
        did before), instead of waiting for them again."""
        recent = await self.bus.read_back(CLIPS, count=CLIPS_LOOK_BACK)
        last = recent[0].id if recent else "0"
        jobs: dict[str, tuple[int, PartRun]] = {}
        got: dict[int, Clip] = {}
        made = {item.message.job_id: item.message for item in recent}
        for rank, moment in enumerate(picked):
            part = next(p for p in self.parts if p.keeps(moment.peak))
            job_id = f"{self.request.job_id}-clip{rank + 1}"
            jobs[job_id] = (rank, part)
            if job_id in made:
                got[rank] = part.on_vod_clock(made[job_id])
                continue
            await self.bus.publish(CLIP_REQUESTS, ClipRequest(
                channel=part.channel, job_id=job_id, session=part.session,
                t=moment.peak - part.part.start, pre=self.settings.clip_pre,
                post=self.settings.clip_post, reason="vod", wall=time.time()))
        deadline = time.monotonic() + CLIP_WAIT_S
        while len(got) < len(jobs) and time.monotonic() < deadline:
            if self.stop.is_set():
                return None
            with _redis_may_blink():
                for item in await self.bus.read(CLIPS, after=last, block_ms=500):
                    last = item.id
                    if item.message.job_id in jobs:
                        rank, part = jobs[item.message.job_id]
                        got[rank] = part.on_vod_clock(item.message)
        if len(got) < len(jobs):
            raise JobFailed(f"the clipper made {len(got)} of {len(jobs)} clips in "
                            f"{CLIP_WAIT_S:.0f} s")
        return [got[i] for i in range(len(jobs))]

    async def _tell(self, stage: str, clips: list[str] | None = None, detail: str = "",
                    every_s: float = 0.0) -> None:
        """Publish how far the job is (at most once per `every_s`)."""
        if time.monotonic() - self._last_told < every_s:
            return
        self._last_told = time.monotonic()
        length = self.plan.length_s if self.plan else 0.0
        out = self.plan.out if self.plan else out_folder(self.request, self.settings)
        progress = VodProgress(
            job_id=self.request.job_id, source=self.request.source,
            stage=stage,  # type: ignore[arg-type]
            done_s=min(self.progress.done_s, length), length_s=length,
            speed=self.progress.speed, parts=len(self.parts),
            skipped=[VodSkip(start=s.start, end=s.end, why=s.why) for s in self.skipped],
            clips=clips or [], out=str(out), detail=detail, wall=time.time())
        if stage in ENDED:  # On disk first: the API still finds it when the bus has not.
            try:
                await asyncio.to_thread(save_ended, progress)
            except OSError as err:
                log.warning("cannot keep VOD job %s's end in %s: %s", self.request.job_id,
                            out, err)
        await self.bus.publish(VOD_PROGRESS, progress)


def _redis_may_blink() -> contextlib.suppress:
    """Redis away for a moment (paused, restarting): just poll again."""
    return contextlib.suppress(*REDIS_DOWN)
