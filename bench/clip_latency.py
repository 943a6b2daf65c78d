"""Clipper numbers: the time from the post-roll being recorded to the clip file being ready, and
how far each clip's length is from the asked 30 s.

It records 40 s of 720p30 test video as 2 s segments, runs a real clipper on a private Redis, asks
for a clip (10 s before + 20 s after a spike), and publishes the segment that holds the end of the
post-roll only while the job waits for it, the way ingest would.

Run: `python -m bench.clip_latency`.
"""

from __future__ import annotations

import asyncio
import csv
import json
import statistics
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from shared.bus import Bus
from shared.channels import save_state
from shared.contracts import ChannelState, Clip, ClipRequest, Segment
from shared.embedded_redis import EmbeddedRedis
from shared.settings import Settings
from shared.streams import CLIP_PROGRESS, CLIP_REQUESTS, CLIPS, SEGMENTS
from tests.services.clipper.media import running_clipper

SPIKES = [12.3, 15.0, 17.7, 18.9, 20.0]
PRE, POST = 10.0, 20.0


def record(folder: Path) -> list[tuple[Path, float, float]]:
    """40 s of 720p30 test picture and tone as 2 s MPEG-TS segments: (path, t, dur) each."""
    subprocess.run(
        ["ffmpeg", "-v", "error", "-nostdin", "-y",
         "-f", "lavfi", "-i", "testsrc2=size=1280x720:rate=30",
         "-f", "lavfi", "-i", "sine=frequency=440", "-t", "40",
         "-c:v", "libx264", "-preset", "ultrafast", "-g", "60", "-keyint_min", "60",
         "-sc_threshold", "0", "-c:a", "aac", "-f", "segment", "-segment_time", "2",
         "-segment_format", "mpegts", "-segment_list", str(folder / "list.csv"),
         "-segment_list_type", "csv", "-reset_timestamps", "0", str(folder / "seg_%06d.ts")],
        check=True, timeout=300,
    )
    with (folder / "list.csv").open() as rows:
        return [(folder / name, float(a), float(b) - float(a)) for name, a, b in csv.reader(rows)]


async def one_clip(bus: Bus, n: int, spike: float, segs: list[tuple[Path, float, float]]
                   ) -> dict[str, float]:
    channel, session, wall0 = f"bench{n}", "s", time.time() - 40
    await save_state(bus.redis, ChannelState(channel=channel, session=session, state="live",
                                             url="bench", wall=time.time()))
    end = spike + POST
    messages = [Segment(channel=channel, session=session, t=t, dur=dur, wall=wall0 + t, seq=i,
                        path=str(path), size=path.stat().st_size)
                for i, (path, t, dur) in enumerate(segs)]
    before = [m for m in messages if m.t + m.dur < end]
    last = next(m for m in messages if m.t + m.dur >= end)
    await bus.publish_many(SEGMENTS, [(m, None) for m in before], channel=channel)
    job = f"bench-{n}"
    progress_from = (await bus.latest(CLIP_PROGRESS)) or None
    await bus.publish(CLIP_REQUESTS, ClipRequest(channel=channel, job_id=job, t=spike, pre=PRE,
                                                 post=POST, reason="bench", wall=time.time()))
    after = progress_from.id if progress_from else "0"
    while not any(d.message.job_id == job and d.message.status == "waiting"
                  for d in await bus.read(CLIP_PROGRESS, after=after, count=1000)):
        await asyncio.sleep(0.02)
    await asyncio.sleep(0.3)
    posted = time.time()
    await bus.publish(SEGMENTS, last, channel=channel)
    clip = await wait_clip(bus, job)
    seen = time.time()
    sidecar = json.loads(Path(clip.metadata).read_text())
    return {
        "seen_s": seen - posted,
        "file_s": sidecar["timings"]["post_roll_to_file_s"],
        "cut_s": sidecar["timings"]["cut_s"],
        "duration": clip.duration,
        "asked": PRE + POST,
    }


async def wait_clip(bus: Bus, job: str, timeout: float = 60.0) -> Clip:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for d in await bus.read(CLIPS, count=10_000):
            if d.message.job_id == job:
                return d.message
        await asyncio.sleep(0.01)
    raise TimeoutError(f"no clip for {job}")


async def measure(url: str, data_dir: Path, segs: list[tuple[Path, float, float]]
                  ) -> dict[str, Any]:
    settings = Settings(redis_url=url, data_dir=data_dir, read_block_ms=100, log_level="WARNING")
    bus = await Bus.connect(url, settings)
    try:
        async with running_clipper(settings):
            rows = [await one_clip(bus, n, spike, segs) for n, spike in enumerate(SPIKES)]
    finally:
        await bus.close()
    errors = [abs(r["duration"] - r["asked"]) for r in rows]
    return {
        "clips": len(rows),
        "post-roll -> file ready, median s": statistics.median(r["file_s"] for r in rows),
        "post-roll -> file ready, max s": max(r["file_s"] for r in rows),
        "post-roll -> new_clip event, median s": statistics.median(r["seen_s"] for r in rows),
        "ffmpeg join + probe, median s": statistics.median(r["cut_s"] for r in rows),
        "duration error vs 30 s, mean abs s": statistics.fmean(errors),
        "duration error vs 30 s, max abs s": max(errors),
    }


def run() -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        rec = folder / "data" / "buffer" / "bench"  # the clipper reads segments only there
        rec.mkdir(parents=True)
        segs = record(rec)
        with EmbeddedRedis(folder / "redis") as server:
            return asyncio.run(measure(server.url, folder / "data", segs))


if __name__ == "__main__":
    for key, value in run().items():
        print(f"{key:<40} {value:.3f}" if isinstance(value, float) else f"{key:<40} {value}")
