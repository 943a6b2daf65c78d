"""One connection to a source: from opening it until its media stops.

It opens the source (through streamlink, or FFmpeg alone), runs one FFmpeg, and hands what comes
out to a `Sink`: half-second audio chunks and finished segments, each already placed on the
stream clock. It stops FFmpeg when the source stalls (no audio for a while) or when the channel
is no longer ours, and returns an `Outcome` that says what happened.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from streamlink import Streamlink

from services.ingest.chunker import Chunker, PcmChunk
from services.ingest.ffmpeg_args import SAMPLE_RATE, build_args
from services.ingest.process import FfmpegProcess, StreamlinkPump
from services.ingest.reasons import ffmpeg_reason
from services.ingest.segment_list import ListEntry, ListReader, seq_of
from services.ingest.sources import Source, ffmpeg_source
from services.ingest.streamlink_open import NoPlugin, OpenError, open_in_thread
from shared.settings import Settings

log = logging.getLogger("clip_live.ingest.connection")

LIST_POLL_S = 0.25
CHECK_EVERY_S = 1.0
STOP_GRACE_S = 5.0
"""How long FFmpeg gets to end by itself once asked to stop, before it is killed."""
LAST_LIST_S = 1.0
"""At least this long to publish the segments FFmpeg listed last."""


class Sink(Protocol):
    """Where a connection's media goes (the channel task)."""

    async def begin(self) -> float:
        """The first media of this connection arrived: return its start on the stream clock."""
        ...

    async def audio(self, chunks: list[PcmChunk], wall: float) -> None: ...

    async def segment(self, seq: int, t: float, dur: float, name: str, wall: float) -> None: ...

    async def still_wanted(self) -> bool:
        """False when the channel was stopped or restarted, or ingest is stopping: then the
        connection ends."""
        ...


@dataclass(frozen=True)
class Outcome:
    """How a connection ended."""

    got_media: bool
    reason: str
    next_seq: int
    unwanted: bool = False
    """True when it ended because the channel is no longer ours to run."""


@dataclass
class Plan:
    """What a connection needs to know."""

    source: Source
    folder: Path
    start_number: int
    quality: str
    settings: Settings
    streamlink: Streamlink


async def connect(plan: Plan, sink: Sink) -> Outcome:
    """Open the source, run FFmpeg until the media stops, and say how it ended."""
    source, pump = plan.source, None
    if source.reads_stdin:
        try:
            reader = await open_in_thread(plan.streamlink, source.target, plan.quality,
                                          plan.settings.ingest_low_latency)
            pump = StreamlinkPump(reader)
        except NoPlugin:
            if not source.ffmpeg_fallback:
                return Outcome(False, "no streamlink plugin knows this URL", plan.start_number)
            log.info("no streamlink plugin for %s; FFmpeg opens it itself", source.target)
            source = ffmpeg_source(source.url, source.target)
        except OpenError as err:
            return Outcome(False, str(err), plan.start_number)
    list_path = plan.folder / f".list-{plan.start_number:06d}.csv"
    args = build_args(source, out_dir=plan.folder, segment_list=list_path,
                      start_number=plan.start_number, segment_s=plan.settings.segment_s,
                      ffmpeg=plan.settings.ffmpeg_path)
    try:
        proc = await FfmpegProcess.start(args, stdin_fd=pump.read_fd if pump else None)
    except OSError as err:
        if pump:
            pump.close()
        return Outcome(False, f"cannot start FFmpeg ({plan.settings.ffmpeg_path}): {err}",
                       plan.start_number)
    if pump:
        pump.start()
    run = _Run(plan, sink, proc, pump, list_path)
    try:
        return await run.go()
    finally:
        if pump:
            pump.close()
        if proc.proc.returncode is None:
            await proc.stop(STOP_GRACE_S)
        list_path.unlink(missing_ok=True)


class _Run:
    """The running part of one connection."""

    def __init__(self, plan: Plan, sink: Sink, proc: FfmpegProcess, pump: StreamlinkPump | None,
                 list_path: Path) -> None:
        self.plan, self.sink, self.proc, self.pump = plan, sink, proc, pump
        self.list_path = list_path
        self.chunker: Chunker | None = None
        self.start_t = 0.0
        self._begin_lock = asyncio.Lock()
        self.listed: set[int] = set()
        self.stop_reason = ""
        self.unwanted = False
        self._lister: asyncio.Task[None] | None = None

    async def go(self) -> Outcome:
        done = asyncio.Event()
        lister = self._lister = asyncio.create_task(self._follow_list(done))
        cancelled = False
        # All the ending shares one deadline, so a stop never takes much longer than it.
        deadline = 0.0
        try:
            await self._read_audio()
        except asyncio.CancelledError:
            # We are asked to stop (the channel was stopped, or the service is stopping):
            # let FFmpeg finish its last segment and hand over what is left, then stop.
            cancelled = True
            self._stop("ingest stopped running this channel")
            deadline = time.monotonic() + STOP_GRACE_S
            await self._drain(deadline)
        finally:
            done.set()  # FFmpeg has closed its output: read the segment list one last time.
        deadline = deadline or time.monotonic() + STOP_GRACE_S
        await self.proc.finish(_left(deadline))
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(max(_left(deadline), LAST_LIST_S)):
                await asyncio.shield(lister)
        if not lister.done():
            lister.cancel()
        await self._flush_audio()
        code = await self.proc.wait()
        reason = self.stop_reason or ffmpeg_reason(self.proc.errors, code)
        if self.pump and self.pump.error and not self.stop_reason:
            reason = f"{reason} (streamlink: {self.pump.error})"
        outcome = Outcome(self.chunker is not None, reason, self._tidy_files(), self.unwanted)
        if cancelled:
            raise asyncio.CancelledError
        return outcome

    async def _begin(self) -> None:
        async with self._begin_lock:
            if self.chunker is None:
                self.start_t = await self.sink.begin()
                self.chunker = Chunker(self.start_t, SAMPLE_RATE)

    async def _read_audio(self) -> None:
        """Read PCM until FFmpeg closes it; stop FFmpeg on a stall or when no longer wanted."""
        settings = self.plan.settings
        started = time.monotonic()
        last_data: float | None = None
        next_check = started + CHECK_EVERY_S
        stop_asked: float | None = None
        while True:
            limit = settings.stall_timeout_s if last_data else settings.ingest_open_timeout_s
            quiet = time.monotonic() - (last_data or started)
            data = await self.proc.read(min(CHECK_EVERY_S, max(0.05, limit - quiet)))
            now = time.monotonic()
            if data == b"":
                return
            if data:
                await self._take(data)
                last_data = time.monotonic()  # after: in VOD mode taking may wait a while
            elif stop_asked is None and now - (last_data or started) >= limit:
                what = "no audio" if last_data else "no audio after connecting"
                self._stop(f"{what} for {limit:g} s (stalled)")
                stop_asked = now
            elif stop_asked is not None and now - stop_asked > STOP_GRACE_S:
                self.proc.proc.kill()
            if self._lister is not None and self._lister.done():
                self._lister.result()  # Publishing segments failed: stop with that error.
            if now >= next_check and stop_asked is None:
                next_check = now + CHECK_EVERY_S
                if not await self.sink.still_wanted():
                    self.unwanted = True
                    self._stop("the channel was stopped or restarted, or ingest is stopping")
                    stop_asked = now

    async def _take(self, data: bytes) -> None:
        """New PCM bytes: cut them into chunks and hand those on."""
        await self._begin()
        assert self.chunker is not None
        chunks = self.chunker.feed(data)
        if chunks:
            await self.sink.audio(chunks, time.time())

    async def _drain(self, deadline: float) -> None:
        """After asking FFmpeg to stop: take the PCM it still gives, until it ends (or it is
        killed at `deadline`)."""
        while time.monotonic() < deadline:
            data = await self.proc.read(min(0.5, _left(deadline)))
            if data == b"":
                return
            if data:
                await self._take(data)
        self.proc.proc.kill()

    def _stop(self, reason: str) -> None:
        self.stop_reason = reason
        if self.pump:
            self.pump.close()
        self.proc.stop_soon()

    async def _flush_audio(self) -> None:
        if self.chunker is None:
            return
        last = self.chunker.flush()
        if last is not None:
            await self.sink.audio([last], time.time())

    async def _follow_list(self, done: asyncio.Event) -> None:
        """Read new lines of FFmpeg's segment list as they come, until `done` (then once more)."""
        reader, offset = ListReader(), 0
        while True:
            finished = done.is_set()
            text, offset = _read_from(self.list_path, offset)
            for entry in reader.feed(text):
                await self._publish(entry)
            if finished:
                return
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(LIST_POLL_S):
                    await done.wait()

    async def _publish(self, entry: ListEntry) -> None:
        await self._begin()
        self.listed.add(entry.seq)
        t = round(self.start_t + entry.start, 6)
        await self.sink.segment(entry.seq, t, round(entry.dur, 6), entry.name, time.time())

    def _tidy_files(self) -> int:
        """Delete files FFmpeg began but never listed (cut short); return the next number."""
        highest = self.plan.start_number - 1
        for path in self.plan.folder.glob("seg_*.ts"):
            try:
                seq = seq_of(path.name)
            except ValueError:
                continue
            highest = max(highest, seq)
            if seq >= self.plan.start_number and seq not in self.listed:
                path.unlink(missing_ok=True)
        return highest + 1


def _left(deadline: float) -> float:
    """Seconds until `deadline` (a little more than none, so waits stay valid)."""
    return max(0.05, deadline - time.monotonic())


def _read_from(path: Path, offset: int) -> tuple[str, int]:
    """New text of a file from byte `offset` on (nothing if the file is not there yet)."""
    try:
        with path.open("rb") as file:
            file.seek(offset)
            data = file.read()
    except FileNotFoundError:
        return "", offset
    return data.decode(errors="replace"), offset + len(data)
