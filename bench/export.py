"""Short export numbers: seconds to make a 1080x1920 short of a 30 s 720p clip (target: 15 s
or less on a 2-core machine), and how that splits into decoding, filtering (crop, scale,
captions) and encoding (H.264 + AAC with loudnorm). Face data comes from the face worker's
frames in Redis (2 a second, as the mesh gives it); running the detector instead, when they
are missing, is timed on its own.

The clip: scikit-image's astronaut (a real face) gliding across a colour ramp, pink noise for
sound, a word every 0.4 s."""

from __future__ import annotations

import asyncio
import json
import resource
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from skimage import data

from services.clipper.store import save_record
from services.export import sources
from services.export.captions import STYLES, TimedWord, to_ass
from services.export.command import ffmpeg_args
from services.export.layout import plan_layout
from services.export.runner import export_clip
from shared.bus import Bus
from shared.contracts import Caption, Clip, FaceBox, FaceFrame, Word
from shared.embedded_redis import EmbeddedRedis
from shared.settings import Settings
from shared.streams import CAPTIONS, FACE_FRAMES

WIDTH, HEIGHT, FPS, SECONDS = 1280, 720, 30, 30.0
FACE = 220
T0 = 50.0


def face_left(t: float) -> float:
    """The face glides right and back once over the clip."""
    return 100 + (WIDTH - FACE - 200) * (0.5 - 0.5 * np.cos(2 * np.pi * t / SECONDS))


def make_clip(path: Path) -> None:
    """Write the 30 s 720p test clip (H.264 + AAC, as the clipper's clips are)."""
    face = cv2.resize(np.ascontiguousarray(data.astronaut()[:, :, ::-1]), (FACE, FACE))
    base = np.zeros((HEIGHT, WIDTH, 3), np.uint8)
    base[:, :, 2] = np.linspace(0, 255, WIDTH).astype(np.uint8)
    base[:, :, 1] = 60
    process = subprocess.Popen(
        ["ffmpeg", "-hide_banner", "-loglevel", "error", "-y", "-f", "rawvideo", "-pix_fmt",
         "bgr24", "-s", f"{WIDTH}x{HEIGHT}", "-r", str(FPS), "-i", "-", "-f", "lavfi", "-i",
         f"anoisesrc=color=pink:amplitude=0.05:sample_rate=48000:duration={SECONDS}",
         "-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p", "-c:a", "aac",
         "-shortest", str(path)], stdin=subprocess.PIPE)
    assert process.stdin is not None
    for n in range(round(SECONDS * FPS)):
        frame = base.copy()
        left = round(face_left(n / FPS))
        frame[150:150 + FACE, left:left + FACE] = face
        process.stdin.write(frame.tobytes())
    process.stdin.close()
    assert process.wait() == 0


async def store(bus: Bus, data_dir: Path, video: Path) -> str:
    """Store the clip and publish its words and face frames as the mesh would."""
    folder = data_dir / "clips" / "bench"
    folder.mkdir(parents=True)
    target = folder / "clip_bench.mp4"
    video.replace(target)
    now = time.time()
    clip = Clip(channel="bench", clip_id="bench-clip_bench", job_id="j", session="s",
                t=T0 + 15, start=T0, duration=SECONDS, video=str(target), captions="",
                metadata=str(folder / "clip_bench.json"), reason="bench", wall=now)
    sidecar = clip.model_dump(mode="json")
    sidecar.update({"spike_wall": now, "segments": [
        {"seq": 0, "t": T0, "dur": SECONDS, "path": str(target), "size": 0}]})
    Path(clip.metadata).write_text(json.dumps(sidecar), encoding="utf-8")
    await save_record(bus.redis, clip, sidecar)
    words = [Word(text=f"word{n}", start=T0 + n * 0.4, end=T0 + n * 0.4 + 0.3)
             for n in range(int(SECONDS / 0.4))]
    await bus.publish(CAPTIONS, Caption(channel="bench", session="s", t=T0, dur=SECONDS,
                                        wall=now, text="", final=True, words=words),
                      channel="bench")
    shrink = 480 / HEIGHT  # the face worker sees 480p frames
    for n in range(int(SECONDS * 2)):
        t = n / 2
        box = FaceBox(x=round((face_left(t) + 40) * shrink), y=round(190 * shrink),
                      w=round(140 * shrink), h=round(140 * shrink), emotions={}, dominant="")
        await bus.publish(FACE_FRAMES, FaceFrame(channel="bench", session="s", t=T0 + t,
                                                 dur=0.0, wall=now, faces=[box]),
                          channel="bench")
    return clip.clip_id


def _children_cpu() -> float:
    """CPU seconds (user + system) of the programs this process ran and waited for: less
    swayed than wall time by other work on a shared machine."""
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    return used.ru_utime + used.ru_stime


def timed(args: list[str]) -> float:
    started = time.monotonic()
    subprocess.run(args, check=True, capture_output=True)
    return time.monotonic() - started


async def measure(folder: Path) -> dict[str, Any]:
    source = folder / "source.mp4"
    make_clip(source)
    with EmbeddedRedis(folder / "redis") as server:
        settings = Settings(redis_url=server.url, data_dir=folder / "data")
        bus = await Bus.connect(server.url, settings)
        try:
            clip_id = await store(bus, settings.data_dir, source)
            cpu_before = _children_cpu()
            result = await export_clip(bus, clip_id, size="1080x1920")
            ffmpeg_cpu = _children_cpu() - cpu_before
            record = await sources.find_clip(bus, clip_id)
        finally:
            await bus.close()
    video = Path(record["video"])
    info = await sources.video_info(video)
    started = time.monotonic()
    faces = sources.detect_faces(video, info)
    detector_s = time.monotonic() - started
    plan = plan_layout("crop", faces, info.width, info.height, info.fps, info.duration,
                       1080, 1920)
    decode_s = timed(["ffmpeg", "-v", "error", "-i", str(video), "-f", "null", "-"])
    # The same graph without the encoders: decoding plus filtering.
    ass = folder / "bench.ass"
    ass.write_text(to_ass([TimedWord(f"word{n}", n * 0.4, n * 0.4 + 0.3)
                           for n in range(75)], 1080, 1920, SECONDS, STYLES["bold"]))
    args = ffmpeg_args(video, folder / "x.mp4", folder / "x.jpg", plan, 1080, 1920, ass, None,
                       True, 15.0)
    graph = args[args.index("-filter_complex") + 1]
    filter_s = timed(["ffmpeg", "-v", "error", "-i", str(video), "-filter_complex", graph,
                      "-map", "[v]", "-map", "[a]", "-f", "null", "-",
                      "-map", "[th]", "-frames:v", "1", "-update", "1", "-y",
                      str(folder / "y.jpg")])
    total = result.timings["total_s"]
    ffmpeg = result.timings["ffmpeg_s"]
    return {
        "clip": f"{SECONDS:.0f} s {WIDTH}x{HEIGHT} {FPS} fps -> 1080x1920",
        "export_total_s": total,
        "export_ffmpeg_s": ffmpeg,
        "export_read_and_plan_s": round(total - ffmpeg, 3),
        "export_ffmpeg_cpu_s": round(ffmpeg_cpu, 3),
        "split_decode_s": round(decode_s, 3),
        "split_filter_s": round(max(0.0, filter_s - decode_s), 3),
        "split_encode_s": round(max(0.0, ffmpeg - filter_s), 3),
        "detector_when_no_live_faces_s": round(detector_s, 3),
        "layout": result.layout,
        "short_mb": round(Path(result.video).stat().st_size / 1e6, 2),
        "target_s": 15.0,
    }


def run() -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as folder:
        return asyncio.run(measure(Path(folder)))


if __name__ == "__main__":
    print(json.dumps(run(), indent=1))
