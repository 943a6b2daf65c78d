"""Join recorded segments into one MP4 with FFmpeg, without re-encoding.

We use FFmpeg's concat *protocol*: it reads the `.ts` files one after the other as if they were
one long file (`-i "concat:a.ts|b.ts"`), then copies the packets into an MP4 (`-c copy`). This is
fast (about 0.1 s for 30 s of video) and leaves no gaps at the joins, since the segments are
whole MPEG-TS pieces of one recording.

FFmpeg does not complain about a cut-off `.ts` file: it just makes a shorter clip. So we check
every segment file first, and first of all that it lies inside the recordings folder (a
message may name any file). One bad segment (outside, cut off, not MPEG-TS, or holding data
FFmpeg cannot copy) never costs the whole clip: it is left out, the rest is joined, and the
result says which segments were left out and why.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import stat
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from .roots import inside

MAX_LEFT_OUT = 3
"""At most this many segments are left out of one clip for faults FFmpeg finds."""
TS_PACKET = 188
TS_SYNC = 0x47


class CutError(Exception):
    """A clip could not be made. The message says which file and why, in plain words."""


@dataclass(frozen=True)
class SegmentFile:
    """A segment file to join, and the size the segment index says it has (0: unknown)."""

    path: Path
    seq: int
    size: int = 0


@dataclass(frozen=True)
class Probe:
    """What ffprobe says about a media file."""

    duration: float
    streams: tuple[str, ...]
    """The kind of each stream: "video", "audio", ..."""


@dataclass(frozen=True)
class CutResult:
    """A finished clip file."""

    path: Path
    size: int
    probe: Probe
    seconds: float
    """How long joining took (FFmpeg and the ffprobe check)."""
    finished: float
    """Unix time when the file was ready."""
    dropped: tuple[str, ...] = ()
    """Segments left out of the clip, each with the reason."""
    joined: tuple[int, ...] = ()
    """The numbers of the segments the clip is made of, in order."""


def check_segment(seg: SegmentFile, root: Path) -> Path:
    """Make sure a segment file is a whole MPEG-TS file inside the recordings folder `root`.
    Returns its real path (links followed), for FFmpeg to read. Raises `CutError` when it is
    not fit.

    The place is checked first, before the file is even looked at: a message may name any
    file, and what we say about one outside the recordings (that it is there, its size) must
    never reach the clip's note.
    """
    name = f"segment {seg.seq} ({str(seg.path)[:300]})"
    real = inside(seg.path, root)
    if real is None:
        raise CutError(f"{name} is outside the recordings folder, so it was not read")
    try:
        info = real.stat()
    except FileNotFoundError:
        raise CutError(f"{name} is missing: the recording no longer has it") from None
    except OSError as err:
        raise CutError(f"{name} cannot be read: {err.strerror or type(err).__name__}") from None
    if not stat.S_ISREG(info.st_mode):
        raise CutError(f"{name} is not a plain file")
    size = info.st_size
    if size == 0:
        raise CutError(f"{name} is empty")
    if seg.size and size != seg.size:
        raise CutError(f"{name} is {size} bytes but the segment index says {seg.size}: "
                       "it was cut off or changed")
    if size % TS_PACKET:
        raise CutError(f"{name} is {size} bytes, not whole {TS_PACKET}-byte MPEG-TS packets: "
                       "it was cut off")
    with real.open("rb") as file:
        for offset in sorted({0, TS_PACKET, size - TS_PACKET}):
            if offset >= size:
                continue
            file.seek(offset)
            if file.read(1) != bytes([TS_SYNC]):
                raise CutError(f"{name} is not MPEG-TS (no sync byte at byte {offset})")
    return real


def concat_input(paths: Sequence[Path]) -> str:
    """The `concat:a.ts|b.ts` input for FFmpeg. A `|` inside a path would break it."""
    for path in paths:
        if "|" in str(path):
            raise CutError(f"segment path {path} holds a '|', "
                           "which the concat protocol cannot read")
    return "concat:" + "|".join(str(p) for p in paths)


def ffmpeg_args(paths: Sequence[Path], out: Path) -> list[str]:
    """The FFmpeg command that joins `paths` into the MP4 file `out`.

    Only video and audio are kept (a Twitch stream also carries timed metadata, which MP4 cannot
    hold). The MP4 writer turns ADTS AAC from the `.ts` files into MP4 AAC by itself (it adds the
    `aac_adtstoasc` filter when needed), so other audio codecs work too.
    """
    return [
        "ffmpeg", "-hide_banner", "-nostdin", "-v", "error", "-y",
        "-i", concat_input(paths),
        "-map", "0:v?", "-map", "0:a?", "-c", "copy",
        "-movflags", "+faststart", "-f", "mp4", str(out),
    ]


async def run_program(args: Sequence[str], timeout_s: float) -> tuple[int, str, str]:
    """Run a program; return its exit code, standard output and error output (as text)."""
    try:
        process = await asyncio.create_subprocess_exec(
            *args, stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
    except FileNotFoundError:
        raise CutError(f"{args[0]} is not installed (not found on PATH)") from None
    try:
        async with asyncio.timeout(timeout_s):
            out, err = await process.communicate()
    except TimeoutError:
        process.kill()
        await process.wait()
        raise CutError(f"{args[0]} took longer than {timeout_s:.0f} s and was stopped") from None
    except asyncio.CancelledError:
        with contextlib.suppress(ProcessLookupError):
            process.kill()
        await process.wait()
        raise
    return process.returncode or 0, out.decode(errors="replace"), err.decode(errors="replace")


async def probe(path: Path, timeout_s: float = 30.0) -> Probe:
    """Ask ffprobe for a file's length and its kinds of streams."""
    code, out, err = await run_program(
        ["ffprobe", "-v", "error", "-show_entries", "format=duration:stream=codec_type",
         "-of", "json", str(path)], timeout_s)
    if code != 0:
        raise CutError(f"ffprobe cannot read {path.name}: {_last_lines(err)}")
    data = json.loads(out or "{}")
    kinds = tuple(str(s.get("codec_type", "")) for s in data.get("streams", []))
    try:
        duration = float(data.get("format", {}).get("duration", 0.0))
    except (TypeError, ValueError):
        duration = 0.0
    return Probe(duration=duration, streams=kinds)


async def cut_clip(segments: Sequence[SegmentFile], out: Path, timeout_s: float, *,
                   root: Path) -> CutResult:
    """Join the segments into `out` (an MP4), leaving out any bad one, and any one outside
    the recordings folder `root`. The file appears only when it is whole."""
    if not segments:
        raise CutError("there are no segments to join")
    usable, dropped = [], []
    for seg in segments:
        try:
            usable.append(replace(seg, path=check_segment(seg, root)))
        except CutError as why:
            dropped.append(str(why))
    if not usable:
        raise CutError(f"no segment can be used: {'; '.join(dropped)}")
    out.parent.mkdir(parents=True, exist_ok=True)
    part = out.with_name(f".{out.name}.part")
    started = time.monotonic()
    try:
        code, errors = await _join(usable, part, timeout_s)
        for _ in range(MAX_LEFT_OUT):  # Find the segment that breaks the join, leave it out.
            if code == 0 or len(usable) < 2:
                break
            bad, fault = await _first_bad(usable, errors, out, timeout_s)
            usable.remove(bad)
            dropped.append(f"segment {bad.seq} cannot be copied: {fault}")
            code, errors = await _join(usable, part, timeout_s)
        if code != 0:
            raise CutError(f"ffmpeg could not join {len(usable)} segment(s) "
                           f"(exit code {code}): {_last_lines(errors)}")
        info = await probe(part)
        if "video" not in info.streams and "audio" not in info.streams:
            raise CutError("ffmpeg made a clip with no video and no audio in it")
        os.replace(part, out)
    finally:
        part.unlink(missing_ok=True)
    return CutResult(path=out, size=out.stat().st_size, probe=info,
                     seconds=time.monotonic() - started, finished=time.time(),
                     dropped=tuple(dropped), joined=tuple(seg.seq for seg in usable))


async def _join(segments: Sequence[SegmentFile], part: Path, timeout_s: float) -> tuple[int, str]:
    code, _, err = await run_program(ffmpeg_args([s.path for s in segments], part), timeout_s)
    return code, err


async def _first_bad(segments: list[SegmentFile], errors: str, out: Path,
                     timeout_s: float) -> tuple[SegmentFile, str]:
    """The segment at which joining `segments` first fails, and FFmpeg's words. FFmpeg stops
    at the first fault, so if the first n segments join, so do fewer: a binary search over
    how many to join finds it in a few tries. (A bad segment may join on its own and fail
    only after another one, so each is not tried alone.)"""
    good, failing = 0, len(segments)  # joining `failing` segments fails (we just saw it)
    trial = out.with_name(f".{out.stem}.trial{out.suffix}.part")  # named for its clip
    try:
        while failing - good > 1:
            middle = (good + failing) // 2
            code, said = await _join(segments[:middle], trial, timeout_s)
            if code == 0:
                good = middle
            else:
                failing, errors = middle, said
    finally:
        trial.unlink(missing_ok=True)
    return segments[failing - 1], _last_lines(errors) or "ffmpeg failed"


def _last_lines(text: str, lines: int = 3) -> str:
    kept = [line.strip() for line in text.strip().splitlines() if line.strip()][-lines:]
    return " / ".join(kept) or "no error text"
