"""One clip job, step by step:

1. find the spike time (`t`, or "now": the newest stream time the channel has);
2. pin the recording from `t - pre` on, so ingest does not delete what we need;
3. wait until the segment that holds `t + post` is recorded (or the stream ends, or we waited
   long enough: then we cut what exists and say so);
4. join the whole segments with FFmpeg, take one picture at the spike (`.jpg`), write the
   captions (`.srt`) and the metadata (`.json`, with why the clip was made);
5. put the metadata in Redis;
6. unpin, whatever happened.

Expected troubles (an unknown channel, a missing or broken segment file) raise `JobFailed` with a
message a person can act on.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from shared.bus import Bus
from shared.contracts import Clip, ClipRequest, ClipWhy
from shared.files import write_text
from shared.recording import pin, unpin
from shared.settings import Settings

from . import index
from .cut import CutError, CutResult, SegmentFile, cut_clip
from .plan import (
    ClipClock,
    ClipPlan,
    Piece,
    Window,
    make_window,
    nearest,
    plan_clip,
    wall_at,
)
from .roots import recordings_root
from .srt import cues_for_clip, to_srt
from .store import ClipFiles, release_files, reserve_files, save_record, write_sidecar
from .thumb import make_thumbnail, thumbnail_at

WAIT_STEP_MS = 500
"""How long one wait for new segments lasts before we look at the channel's state again."""

Status = Literal["queued", "waiting", "cutting", "done", "failed"]

Progress = Callable[[Status, float, str], Awaitable[None]]
"""Tells the world how far the job is: (status, percent, detail)."""


class JobFailed(Exception):
    """The job cannot make a clip. The message says why, for a person to read."""


@dataclass(frozen=True)
class Spike:
    """Where the clip is: the spike time, its session, and how we know."""

    t: float
    session: str
    source: str
    ref_t: float
    ref_wall: float
    """One stream time with its Unix time, to turn stream times into Unix times."""


@dataclass
class Waited:
    """The outcome of waiting for segments."""

    plan: ClipPlan
    why_short: str
    """Empty when every segment came; else why we cut before they did."""
    seconds: float
    ready_wall: float
    """Unix time when the last segment we use (or the decision to stop waiting) came."""


class ClipJob:
    """Makes one clip for one request."""

    def __init__(self, bus: Bus, settings: Settings, request: ClipRequest, worker: str,
                 progress: Progress) -> None:
        self.bus = bus
        self.settings = settings
        self.request = request
        self.channel = request.channel
        self.worker = worker
        self.progress = progress

    async def run(self) -> tuple[Clip, dict[str, Any]]:
        """Make the clip. Returns the `Clip` event and the full metadata."""
        spike = await self.find_spike()
        window = make_window(spike.t, self.request.pre, self.request.post)
        await pin(self.bus.redis, self.channel, self.request.job_id, window.start)
        try:
            waited = await self.wait_for_segments(spike, window)
            return await self.make_clip(spike, waited)
        finally:
            await unpin(self.bus.redis, self.channel, self.request.job_id)

    async def find_spike(self) -> Spike:
        """The spike's stream time and session. "Now" is the newest time the channel has."""
        newest = await index.newest_time(self.bus, self.channel, self.request.session or None)
        if newest is None:
            state = await index.channel_state(self.bus, self.channel)
            if state is None:
                raise JobFailed(f"unknown channel {self.channel!r}: nothing was ever recorded "
                                "for it (no channel state, no segments, no audio)")
            if self.request.session:
                raise JobFailed(f"channel {self.channel!r} has no recording of session "
                                f"{self.request.session!r}")
            raise JobFailed(f"channel {self.channel!r} has nothing recorded yet "
                            f"(it is {state.state})")
        if self.request.t is None:
            return Spike(t=newest.t, session=newest.session, ref_t=newest.t,
                         ref_wall=newest.wall, source=f"now: the end of the newest {newest.source}")
        return Spike(t=self.request.t, session=newest.session, ref_t=newest.t,
                     ref_wall=newest.wall, source="the request")

    async def wait_for_segments(self, spike: Spike, window: Window) -> Waited:
        """Read the segment index until the window's end is recorded, or we must stop waiting."""
        started = time.monotonic()
        # Wait as long as the stream needs to reach the window's end, plus a margin; never
        # longer than the post-roll plus that margin (a spike far ahead of the stream waits no
        # longer than a spike "now").
        ahead = min(max(0.0, window.end - spike.ref_t), self.request.post)
        budget = ahead + self.settings.clip_wait_extra_s
        since_wall = wall_at(window.start, spike.ref_t, spike.ref_wall)
        data_dir = self.settings.data_dir
        pieces, last_id = await index.read_segments(self.bus, self.channel, spike.session,
                                                    since_wall, data_dir)
        shown = -1.0
        while True:
            plan = plan_clip(pieces, window)
            percent = round(5 + 75 * plan.fraction)
            if percent != shown:
                shown = percent
                await self.progress("waiting", percent, _wait_detail(plan))
            if plan.complete:
                ready = max((p.arrived for p in plan.pieces), default=time.time())
                return Waited(plan, "", time.monotonic() - started, ready)
            state = await index.channel_state(self.bus, self.channel)
            ended = index.has_ended(state, spike.session)
            left = budget - (time.monotonic() - started)
            if ended or left <= 0:
                why = ended or f"the post-roll did not come within {budget:.0f} s"
                return Waited(plan, why, time.monotonic() - started, time.time())
            new, last_id = await index.read_new_segments(
                self.bus, self.channel, spike.session, last_id,
                max(1, min(WAIT_STEP_MS, int(left * 1000))), data_dir)
            pieces.extend(new)

    async def make_clip(self, spike: Spike, waited: Waited) -> tuple[Clip, dict[str, Any]]:
        """Cut the planned segments, write the files, and save the metadata."""
        plan = waited.plan
        if not plan.pieces:
            reason = f" ({waited.why_short})" if waited.why_short else ""
            raise JobFailed(f"no recorded segment covers t={plan.window.start:.1f}.."
                            f"{plan.window.end:.1f} s{reason}")
        detail = f"joining {len(plan.pieces)} segment(s)"
        if waited.why_short:
            detail += f": {waited.why_short}, so the clip has what was recorded"
        await self.progress("cutting", 85, detail)
        ref = nearest(plan.pieces, spike.t)
        spike_wall = (wall_at(spike.t, ref.t, ref.wall) if ref and ref.wall
                      else wall_at(spike.t, spike.ref_t, spike.ref_wall))
        files = reserve_files(self.settings.data_dir, self.channel, spike_wall)
        try:
            result = await self._cut(plan.pieces, files)
            thumb_started = time.monotonic()
            thumbnail, thumb_note = await self._thumbnail(spike, plan, result, files)
            thumb_s = time.monotonic() - thumb_started
            captions_srt, cue_count = await self._captions(spike, plan, result)
            write_text(files.captions, captions_srt)
            clip, sidecar = self._describe(spike, spike_wall, waited, files, result,
                                           thumbnail, thumb_note)
            sidecar["timings"]["thumbnail_s"] = round(thumb_s, 3)
            state = await index.channel_state(self.bus, self.channel)
            sidecar["source_url"] = state.url if state else ""
            sidecar["captions_count"] = cue_count
            sidecar["captions_bytes"] = files.captions.stat().st_size
            write_sidecar(files, sidecar)
            await save_record(self.bus.redis, clip, sidecar)
        except BaseException:
            release_files(files)
            raise
        return clip, sidecar

    async def _cut(self, pieces: tuple[Piece, ...], files: ClipFiles) -> CutResult:
        segments = [SegmentFile(path=Path(p.path), seq=p.seq, size=p.size) for p in pieces]
        try:
            return await cut_clip(segments, files.video, self.settings.clip_cut_timeout_s,
                                  root=recordings_root(self.settings.data_dir))
        except CutError as err:
            raise JobFailed(str(err)) from None

    async def _thumbnail(self, spike: Spike, plan: ClipPlan, result: CutResult,
                         files: ClipFiles) -> tuple[str, str]:
        """Take the clip's picture at the spike. Returns its path ('' for none) and a note
        when that failed: a clip without a picture is still a clip."""
        if "video" not in result.probe.streams:
            return "", ""
        at = thumbnail_at(ClipClock.of(plan.pieces, result.joined).at(spike.t),
                          result.probe.duration)
        try:
            await make_thumbnail(files.video, files.thumbnail, at,
                                 self.settings.clip_cut_timeout_s)
        except CutError as err:
            return "", f"no picture: {err}"
        return str(files.thumbnail.resolve()), ""

    def _why(self, spike: Spike) -> ClipWhy:
        """Why the clip was made: the fuser's reasons, or the request's reason ("manual")."""
        given = self.request.why or ClipWhy(trigger=self.request.reason or "manual")
        return given.model_copy(update={"t": spike.t})

    async def _captions(self, spike: Spike, plan: ClipPlan,
                        result: CutResult) -> tuple[str, int]:
        """The clip's SRT text from the channel's final captions, and how many cues it has."""
        since_wall = wall_at(plan.start, spike.ref_t, spike.ref_wall)
        captions = await index.read_captions(self.bus, self.channel, spike.session, since_wall)
        cues = cues_for_clip(captions, ClipClock.of(plan.pieces, result.joined))
        return to_srt(cues), len(cues)

    def _describe(self, spike: Spike, spike_wall: float, waited: Waited, files: ClipFiles,
                  result: CutResult, thumbnail: str,
                  thumb_note: str) -> tuple[Clip, dict[str, Any]]:
        """The `Clip` event and the full metadata for the sidecar and Redis."""
        plan, request = waited.plan, self.request
        notes = [waited.why_short, *plan.notes] if waited.why_short else list(plan.notes)
        notes += [f"left out {why}" for why in result.dropped]
        if thumb_note:
            notes.append(thumb_note)
        expected = ClipClock.of(plan.pieces, result.joined).duration
        if abs(result.probe.duration - expected) > 1.0:
            notes.append(f"the clip is {result.probe.duration:.1f} s long, "
                         f"but its segments add up to {expected:.1f} s")
        now = time.time()
        clip = Clip(
            channel=self.channel, clip_id=f"{self.channel}-{files.stem}", job_id=request.job_id,
            session=spike.session, t=spike.t, start=plan.start, duration=result.probe.duration,
            video=str(files.video.resolve()), captions=str(files.captions.resolve()),
            metadata=str(files.metadata.resolve()), reason=request.reason,
            partial=bool(waited.why_short or plan.notes or result.dropped), note="; ".join(notes),
            wall=now,
            why=self._why(spike), thumbnail=thumbnail,
        )
        sidecar: dict[str, Any] = clip.model_dump(mode="json")
        sidecar.update({
            "source_url": "",
            "spike_wall": spike_wall,
            "spike_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(spike_wall)),
            "spike_from": spike.source,
            "asked": {"t": spike.t, "pre": request.pre, "post": request.post,
                      "start": plan.window.start, "end": plan.window.end},
            "end": plan.end,
            "expected_duration": plan.expected_duration,
            "streams": list(result.probe.streams),
            "segments": [{"seq": p.seq, "path": p.path, "t": p.t, "dur": p.dur, "size": p.size}
                         for p in plan.pieces],
            "video_bytes": result.size,
            "worker": self.worker,
            "timings": {
                "waited_s": round(waited.seconds, 3),
                "cut_s": round(result.seconds, 3),
                "post_roll_to_file_s": round(result.finished - waited.ready_wall, 3),
            },
        })
        return clip, sidecar


def _wait_detail(plan: ClipPlan) -> str:
    if plan.complete:
        return f"the recording up to t={plan.window.end:.1f} s is here"
    have = f"have up to t={plan.end:.1f} s" if plan.pieces else "have none of it yet"
    return f"waiting for the recording up to t={plan.window.end:.1f} s ({have})"
