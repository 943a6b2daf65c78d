"""What an export reads: the clip's record, its video's shape, its words and its faces.

Words come from the channel's final captions on the bus; faces from the face worker's
FACE_FRAMES for the clip's time, or, when there are none, from the face detector run on the
clip's own frames (a few per second).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from services.clipper import index
from services.clipper.cut import run_program
from services.clipper.plan import ClipClock, Piece
from shared.bus import Bus
from shared.contracts import FaceFrame
from shared.streams import FACE_FRAMES, clip_key
from shared.text import as_text

from .captions import TimedWord
from .crop import Box, FaceSample

FACE_FRAME_HEIGHT = 480
"""The face worker's frames are at most this tall (the motion worker shrinks them so): its
boxes are scaled up by the source height over this."""
DETECT_FPS = 3.0
"""Frames per second the face detector reads when the live face data is missing."""
DETECT_HEIGHT = 480


class ExportError(Exception):
    """The short cannot be made. The message says why, for a person to read."""


@dataclass(frozen=True)
class VideoInfo:
    """What ffprobe says about the clip's video."""

    width: int
    height: int
    fps: float
    duration: float
    has_audio: bool


async def find_clip(bus: Bus, clip_id: str) -> dict[str, Any]:
    """The clip's metadata: its `.json` sidecar where it can be read, else its Redis record."""
    raw: dict[Any, Any] = await bus.redis.hgetall(clip_key(clip_id))
    if not raw:
        raise ExportError(f"no clip {clip_id!r} (see the dashboard or the clips folder for ids)")
    fields = {as_text(k): as_text(v) for k, v in raw.items()}
    sidecar = Path(fields.get("metadata", ""))
    if fields.get("metadata") and sidecar.is_file():
        loaded: dict[str, Any] = json.loads(sidecar.read_text(encoding="utf-8"))
        return loaded
    record: dict[str, Any] = {}
    for key, value in fields.items():
        try:
            record[key] = json.loads(value)
        except ValueError:
            record[key] = value
    return record


async def video_info(path: Path) -> VideoInfo:
    """The size, frame rate, length and audio of a video file."""
    code, out, err = await run_program(
        ["ffprobe", "-v", "error", "-show_entries",
         "format=duration:stream=codec_type,width,height,avg_frame_rate", "-of", "json",
         str(path)], 30.0)
    if code != 0:
        raise ExportError(f"ffprobe cannot read {path}: {err.strip()[-300:]}")
    data = json.loads(out or "{}")
    streams = data.get("streams", [])
    video = next((s for s in streams if s.get("codec_type") == "video"), None)
    if video is None:
        raise ExportError(f"{path.name} has no video to make a short from")
    num, _, den = str(video.get("avg_frame_rate", "30/1")).partition("/")
    fps = float(num) / float(den or 1) if float(den or 1) else 30.0
    return VideoInfo(width=int(video["width"]), height=int(video["height"]),
                     fps=fps if 1 <= fps <= 240 else 30.0,
                     duration=float(data.get("format", {}).get("duration", 0.0)),
                     has_audio=any(s.get("codec_type") == "audio" for s in streams))


def clip_clock(record: dict[str, Any]) -> ClipClock:
    """Stream time to clip time, from the segments the sidecar lists."""
    pieces = [Piece(seq=int(s["seq"]), t=float(s["t"]), dur=float(s["dur"]),
                    path=str(s.get("path", ""))) for s in record.get("segments", [])]
    return ClipClock.of(pieces)


def _since_wall(record: dict[str, Any]) -> float:
    """About the Unix time of the clip's first frame (to skip older messages)."""
    spike_wall = float(record.get("spike_wall") or record.get("wall") or 0.0)
    return spike_wall - max(0.0, float(record.get("t", 0.0)) - float(record.get("start", 0.0)))


async def read_words(bus: Bus, record: dict[str, Any], duration: float) -> list[TimedWord]:
    """The words said in the clip, in clip time, from the channel's final captions."""
    clock = clip_clock(record)
    if not clock.pieces:
        return []
    captions = await index.read_captions(bus, str(record["channel"]),
                                         str(record.get("session", "")), _since_wall(record))
    words: list[TimedWord] = []
    for caption in captions:
        if not caption.final:
            continue
        for word in caption.words:
            if word.end <= clock.start or word.start >= clock.end:
                continue
            start, end = clock.at(word.start), clock.at(word.end)
            if end > start and start < duration:
                words.append(TimedWord(text=word.text, start=start, end=end))
    return sorted(words, key=lambda w: w.start)


async def read_faces(bus: Bus, record: dict[str, Any], info: VideoInfo) -> list[FaceSample]:
    """The face worker's boxes for the clip's time, in clip time and source pixels."""
    clock = clip_clock(record)
    if not clock.pieces:
        return []
    found, _ = await index.read_all(bus, FACE_FRAMES, str(record["channel"]),
                                    str(record.get("session", "")),
                                    after=index.id_at(_since_wall(record) - 60.0))
    scale = info.height / min(info.height, FACE_FRAME_HEIGHT)
    samples: list[FaceSample] = []
    for delivery in found:
        frame: FaceFrame = delivery.message
        if not clock.start <= frame.t < clock.end:
            continue
        boxes = tuple(Box(b.x * scale, b.y * scale, b.w * scale, b.h * scale)
                      for b in sorted(frame.faces, key=lambda b: -b.w * b.h))
        samples.append(FaceSample(t=clock.at(frame.t), boxes=boxes))
    return samples


def detect_faces(path: Path, info: VideoInfo) -> list[FaceSample]:
    """Run the face detector on a few frames a second of the clip (blocking: call it from a
    thread). Boxes are in source pixels."""
    import av

    from services.face.detect import find_faces

    scale = info.height / min(info.height, DETECT_HEIGHT)
    samples: list[FaceSample] = []
    next_t = 0.0
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        for frame in container.decode(stream):
            t = float(frame.time or 0.0)
            if t + 1e-3 < next_t:
                continue
            next_t = t + 1.0 / DETECT_FPS
            height = min(frame.height, DETECT_HEIGHT)
            width = max(2, round(frame.width * height / frame.height))
            picture = np.asarray(frame.to_ndarray(width=width, height=height, format="bgr24"),
                                 dtype=np.uint8)
            boxes = tuple(Box(b.x * scale, b.y * scale, b.w * scale, b.h * scale)
                          for b in find_faces(picture))
            samples.append(FaceSample(t=t, boxes=boxes))
    return samples
