"""Helpers for the clipper tests: a recording made with FFmpeg, published the way ingest does,
a clipper running in this process, and checks with ffprobe."""

from __future__ import annotations

import asyncio
import contextlib
import csv
import json
import shutil
import subprocess
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from services.clipper.worker import WORKER
from shared.bus import Bus
from shared.channels import save_state
from shared.contracts import ChannelState, Clip, ClipProgress, ClipRequest, Segment
from shared.recording import buffer_dir
from shared.settings import Settings
from shared.streams import CLIP_PROGRESS, CLIP_REQUESTS, CLIPS, SEGMENTS
from tests.support import running_service, wait_until

SESSION = "s1"


@dataclass(frozen=True)
class Recorded:
    """One segment file FFmpeg wrote, with its stream times from the segment list."""

    seq: int
    path: Path
    t: float
    dur: float
    size: int


def record(folder: Path, seconds: int = 40) -> list[Recorded]:
    """Record `seconds` of test picture and tone as 2 s MPEG-TS segments (key frame every 2 s)."""
    folder.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        ["ffmpeg", "-v", "error", "-nostdin", "-y",
         "-f", "lavfi", "-i", "testsrc2=size=640x360:rate=30",
         "-f", "lavfi", "-i", "sine=frequency=440", "-t", str(seconds),
         "-c:v", "libx264", "-preset", "ultrafast", "-g", "60", "-keyint_min", "60",
         "-sc_threshold", "0", "-c:a", "aac", "-f", "segment", "-segment_time", "2",
         "-segment_format", "mpegts", "-segment_list", str(folder / "list.csv"),
         "-segment_list_type", "csv", "-reset_timestamps", "0", str(folder / "seg_%06d.ts")],
        check=True, timeout=120,
    )
    found = []
    with (folder / "list.csv").open() as rows:
        for seq, (name, start, end) in enumerate(csv.reader(rows)):
            path = folder / name
            found.append(Recorded(seq, path, float(start), float(end) - float(start),
                                  path.stat().st_size))
    return found


def place(recs: Sequence[Recorded], data_dir: Path, channel: str = "recorded",
          session: str = SESSION) -> list[Recorded]:
    """Copy the segment files where ingest records them (`<data_dir>/buffer/<channel>/<session>/`),
    the only place the clipper reads segments from. Returns the copies."""
    folder = buffer_dir(data_dir, channel, session)
    folder.mkdir(parents=True, exist_ok=True)
    copies = []
    for rec in recs:
        copy = folder / rec.path.name
        shutil.copyfile(rec.path, copy)
        copies.append(replace(rec, path=copy))
    return copies


def segment_message(rec: Recorded, channel: str, wall0: float, session: str = SESSION,
                    path: Path | None = None) -> Segment:
    """The `Segment` message ingest would publish for this file (`wall0` is the wall at t=0)."""
    return Segment(channel=channel, session=session, t=rec.t, dur=rec.dur, wall=wall0 + rec.t,
                   seq=rec.seq, path=str(path or rec.path), size=rec.size)


async def publish_segments(bus: Bus, channel: str, recs: Sequence[Recorded], wall0: float,
                           every_s: float = 0.0) -> None:
    """Publish the segments in order, `every_s` apart (0: all at once), as ingest does."""
    for rec in recs:
        await bus.publish(SEGMENTS, segment_message(rec, channel, wall0), channel=channel)
        if every_s:
            await asyncio.sleep(every_s)


async def set_state(bus: Bus, channel: str, state: str, session: str = SESSION) -> None:
    await save_state(bus.redis, ChannelState(
        channel=channel, session=session, state=state,  # type: ignore[arg-type]
        url=f"http://127.0.0.1:1/{channel}.m3u8", wall=time.time()))


async def ask_clip(bus: Bus, channel: str, job_id: str, t: float | None, pre: float,
                   post: float) -> None:
    await bus.publish(CLIP_REQUESTS, ClipRequest(channel=channel, job_id=job_id, t=t, pre=pre,
                                                 post=post, reason="test", wall=time.time()))


@contextlib.asynccontextmanager
async def running_clipper(settings: Settings) -> AsyncIterator[asyncio.Task[int]]:
    """Run the clipper service in this process, and stop it gently at the end."""
    from services.clipper import service

    async with running_service(WORKER, service.main, settings) as task:
        yield task


async def progress_of(bus: Bus, job_id: str) -> list[ClipProgress]:
    return [d.message for d in await bus.read(CLIP_PROGRESS, count=10_000)
            if d.message.job_id == job_id]


async def clips(bus: Bus) -> list[Clip]:
    return [d.message for d in await bus.read(CLIPS, count=10_000)]


async def wait_finished(bus: Bus, job_id: str, timeout: float = 30.0) -> ClipProgress:
    """Wait for the job's `done` or `failed` progress event, and return it."""

    async def ended() -> ClipProgress | None:
        return next((p for p in await progress_of(bus, job_id)
                     if p.status in ("done", "failed")), None)

    result: ClipProgress = await wait_until(ended, timeout)
    return result


def ffprobe(path: Path) -> dict[str, Any]:
    """ffprobe's view of a file's streams and format; fails the test on any error output."""
    done = subprocess.run(
        ["ffprobe", "-v", "error", "-show_streams", "-show_format", "-of", "json", str(path)],
        capture_output=True, text=True, timeout=30, check=True)
    assert done.stderr == "", done.stderr
    data: dict[str, Any] = json.loads(done.stdout)
    return data


def video_frames(clip: Clip) -> int:
    """How many video frames a clip's file holds (ffprobe counts its packets)."""
    done = subprocess.run(["ffprobe", "-v", "error", "-select_streams", "v", "-count_packets",
                           "-show_entries", "stream=nb_read_packets", "-of", "csv=p=0",
                           clip.video], capture_output=True, text=True, check=True)
    return int(done.stdout.strip())


def first_video_frame(path: Path) -> dict[str, Any]:
    done = subprocess.run(
        ["ffprobe", "-v", "error", "-select_streams", "v:0", "-read_intervals", "%+#1",
         "-show_entries", "frame=key_frame,pict_type,pts_time", "-of", "json", str(path)],
        capture_output=True, text=True, timeout=30, check=True)
    frame: dict[str, Any] = json.loads(done.stdout)["frames"][0]
    return frame


def decode_errors(path: Path) -> str:
    """Decode the whole file; return FFmpeg's error output (empty when it played cleanly)."""
    done = subprocess.run(["ffmpeg", "-v", "error", "-nostdin", "-i", str(path), "-f", "null", "-"],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stderr
