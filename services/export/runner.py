"""Make a short from a finished clip: read its words and faces, plan the layout and the
captions, run the one FFmpeg pass, and record the export in the clip's `.json` and Redis hash.

Bad input gives an `ExportError` with a clear message (unknown clip, missing video); a clip
with no words gets no captions, a clip with no face a still centre window: both are noted.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from services.clipper.cut import CutError, run_program
from shared.bus import Bus
from shared.files import write_text
from shared.streams import clip_key

from . import sources
from .captions import STYLES, to_ass
from .command import Encode, ffmpeg_args, sendcmd_text
from .layout import LayoutName, Rect, plan_layout
from .sources import ExportError

DEFAULT_ENCODE = Encode()

Progress = Callable[[str, float], Awaitable[None]]
"""Told how far the export is: (what it is doing, percent)."""


@dataclass
class ExportResult:
    """A finished short and how it was made."""

    clip_id: str
    video: str
    thumbnail: str
    layout: str
    size: str
    style: str
    words: int
    faces_from: str
    """"live" (the face worker's data), "detector" (run now) or "none"."""
    notes: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    wall: float = 0.0


def parse_rect(text: str, width: int, height: int) -> Rect:
    """"X,Y,W,H" (pixels of the source) as a Rect inside a width x height frame. Raises
    ExportError for anything else."""
    parts = [p.strip() for p in text.split(",")]
    if len(parts) != 4 or not all(p.isdigit() for p in parts):
        raise ExportError(f"facecam must look like X,Y,W,H in pixels, not {text!r}")
    x, y, w, h = (int(p) for p in parts)
    if w < 16 or h < 16 or x + w > width or y + h > height:
        raise ExportError(f"facecam {text!r} is not inside the {width}x{height} video")
    return Rect(x, y, w, h)


def parse_size(text: str) -> tuple[int, int]:
    """"1080x1920" as (1080, 1920). Raises ExportError for anything else."""
    width, sep, height = text.lower().partition("x")
    if not sep or not width.isdigit() or not height.isdigit():
        raise ExportError(f"size must look like 1080x1920, not {text!r}")
    w, h = int(width), int(height)
    if not (64 <= w <= 4096 and 64 <= h <= 4096) or w % 2 or h % 2:
        raise ExportError(f"size {text!r}: each side must be even and 64..4096 pixels")
    return w, h


async def _nothing(_: str, __: float) -> None:
    return None


async def export_clip(bus: Bus, clip_id: str, layout: LayoutName = "auto",
                      size: str = "1080x1920", style: str = "bold",
                      progress: Progress = _nothing, encode: Encode = DEFAULT_ENCODE,
                      timeout_s: float = 600.0, facecam: str = "",
                      facecams: Mapping[str, str] | None = None) -> ExportResult:
    """Make the short of clip `clip_id`. Raises ExportError when it cannot.

    `facecam` ("X,Y,W,H" in source pixels), or else the clip's channel's entry in `facecams`,
    sets where the facecam is instead of finding it from the faces."""
    started = time.monotonic()
    out_w, out_h = parse_size(size)
    if style not in STYLES:
        raise ExportError(f"unknown caption style {style!r}; choose one of {sorted(STYLES)}")
    await progress("reading the clip", 5)
    record = await sources.find_clip(bus, clip_id)
    video = Path(str(record.get("video", "")))
    if not video.is_file():
        raise ExportError(f"clip {clip_id}: its video {video} is missing")
    info = await sources.video_info(video)
    notes: list[str] = []
    words = await sources.read_words(bus, record, info.duration)
    if not words:
        notes.append("no words with times found for this clip: no captions")
    faces = await sources.read_faces(bus, record, info)
    faces_from = "live"
    read_s = time.monotonic() - started
    if not any(s.boxes for s in faces):
        await progress("finding faces", 15)
        faces = await asyncio.to_thread(sources.detect_faces, video, info)
        faces_from = "detector" if any(s.boxes for s in faces) else "none"
    detect_s = time.monotonic() - started - read_s
    given = facecam or (facecams or {}).get(str(record.get("channel", "")), "")
    cam = parse_rect(given, info.width, info.height) if given else None
    plan = plan_layout(layout, faces, info.width, info.height, info.fps, info.duration,
                       out_w, out_h, cam)
    notes.append(plan.note)
    folder, stem = video.parent, video.stem
    out = folder / f"{stem}_short.mp4"
    thumb = folder / f"{stem}_short.jpg"
    ass = folder / f".{stem}_short.ass" if words else None
    commands = (folder / f".{stem}_short.cmd"
                if plan.layout == "crop" and len(set(plan.lefts)) > 1 else None)
    if ass is not None:
        ass.write_text(to_ass(words, out_w, out_h, info.duration, STYLES[style]),
                       encoding="utf-8")
    if commands is not None:
        commands.write_text(sendcmd_text(plan.lefts, info.fps), encoding="utf-8")
    spike_at = float(record.get("t", 0.0))
    thumb_at = sources.clip_clock(record).at(spike_at) if record.get("segments") else 0.0
    thumb_at = min(max(0.0, thumb_at), max(0.0, info.duration - 0.5))
    await progress("encoding", 30)
    encode_started = time.monotonic()
    part = out.with_name(f".{out.name}.part.mp4")
    args = ffmpeg_args(video, part, thumb, plan, out_w, out_h, ass, commands,
                       info.has_audio, thumb_at, encode)
    try:
        code, _, err = await run_program(args, timeout_s)
    except CutError as error:
        raise ExportError(f"clip {clip_id}: {error}") from None
    finally:
        for temp in (ass, commands):
            if temp is not None:
                temp.unlink(missing_ok=True)
    if code != 0:
        part.unlink(missing_ok=True)
        raise ExportError(f"clip {clip_id}: FFmpeg failed: {err.strip()[-400:]}")
    part.replace(out)
    result = ExportResult(
        clip_id=clip_id, video=str(out.resolve()), thumbnail=str(thumb.resolve()),
        layout=plan.layout, size=f"{out_w}x{out_h}", style=style, words=len(words),
        faces_from=faces_from, notes=notes, wall=time.time(),
        timings={"read_s": round(read_s, 3), "faces_s": round(detect_s, 3),
                 "ffmpeg_s": round(time.monotonic() - encode_started, 3),
                 "total_s": round(time.monotonic() - started, 3)})
    await progress("saving", 95)
    await record_export(bus, clip_id, record, result)
    await progress("done", 100)
    return result


async def record_export(bus: Bus, clip_id: str, record: dict[str, Any],
                        result: ExportResult) -> None:
    """Add the export to the clip's `.json` sidecar and to its Redis hash (`exports`, a JSON
    list; an export of the same file replaces the older entry)."""
    entry = asdict(result)
    exports = [e for e in record.get("exports", []) or []
               if isinstance(e, dict) and e.get("video") != result.video]
    exports.append(entry)
    sidecar = Path(str(record.get("metadata", "")))
    if record.get("metadata") and sidecar.is_file():
        data: dict[str, Any] = json.loads(sidecar.read_text(encoding="utf-8"))
        data["exports"] = exports
        write_text(sidecar, json.dumps(data, indent=2, sort_keys=True) + "\n")
    await bus.redis.hset(clip_key(clip_id), "exports", json.dumps(exports))
