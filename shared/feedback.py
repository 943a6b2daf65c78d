"""Keep or drop a clip: the user's verdict, which later becomes a label for the nightly retrain.

`judge_clip` moves the clip's three files (`.mp4`, `.srt`, `.json`) into
`<data_dir>/keep/<channel>/` or `<data_dir>/drop/<channel>/`, and writes the new paths and the
verdict into the clip's Redis hash and into its JSON sidecar. Judging a clip again moves it again
(a kept clip can still be dropped). Files are only ever moved inside the data folder.
"""

from __future__ import annotations

import json
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from redis.asyncio import Redis
from redis.typing import EncodableT, FieldT

from shared.contracts import check_channel
from shared.files import write_text
from shared.settings import Settings
from shared.streams import clip_key
from shared.text import as_text

Verdict = Literal["keep", "drop"]
VERDICTS: tuple[Verdict, ...] = ("keep", "drop")
FILE_FIELDS = ("video", "captions", "metadata", "thumbnail")
"""The hash fields that hold the clip's file paths."""
LOCK_TTL_MS = 10_000


class ClipNotFound(LookupError):
    """No clip has this id."""


class ClipBusy(RuntimeError):
    """Another request is judging this clip right now."""


class ClipOutsideData(ValueError):
    """The clip's record points at a file outside the data folder; we will not move it."""


@dataclass(frozen=True)
class JudgedClip:
    """Where a judged clip's files are now."""

    clip_id: str
    channel: str
    verdict: Verdict
    video: Path | None
    captions: Path | None
    metadata: Path | None


def verdict_dir(data_dir: Path, verdict: Verdict, channel: str) -> Path:
    """The folder for a channel's kept or dropped clips."""
    if verdict not in VERDICTS:
        raise ValueError(f"verdict must be one of {VERDICTS}, not {verdict!r}")
    return data_dir / verdict / check_channel(channel)


def inside(path: Path, folder: Path) -> bool:
    """True when `path` (after following links and `..`) lies inside `folder`. A path the
    system cannot name (a NUL byte, a lone surrogate) lies inside nothing."""
    try:
        return path.resolve().is_relative_to(folder.resolve())
    except ValueError:
        return False


async def judge_clip(redis: Redis, settings: Settings, clip_id: str,
                     verdict: Verdict) -> JudgedClip:
    """Move the clip's files to the keep or drop folder and record the verdict.

    Raises `ClipNotFound`, `ClipBusy` (someone else is judging it) or `ClipOutsideData`.
    """
    key = clip_key(clip_id)
    lock = f"{key}:judging"
    if not await redis.set(lock, "1", nx=True, px=LOCK_TTL_MS):
        raise ClipBusy(f"clip {clip_id} is being judged by another request")
    try:
        raw: dict[Any, Any] = await redis.hgetall(key)
        if not raw:
            raise ClipNotFound(f"no clip {clip_id}")
        fields = {as_text(k): as_text(v) for k, v in raw.items()}
        channel = fields.get("channel", "")
        target = verdict_dir(settings.data_dir.resolve(), verdict, channel)
        moved = _move_files(fields, settings.data_dir.resolve(), target)
        now = time.time()
        _update_sidecar(moved.get("metadata"), moved, verdict, now)
        update: dict[FieldT, EncodableT] = {name: str(path) for name, path in moved.items()}
        update.update({"verdict": verdict, "verdict_wall": json.dumps(now)})
        await redis.hset(key, mapping=update)
    finally:
        await redis.delete(lock)
    return JudgedClip(clip_id=clip_id, channel=channel, verdict=verdict,
                      video=moved.get("video"), captions=moved.get("captions"),
                      metadata=moved.get("metadata"))


def _move_files(fields: dict[str, str], data_dir: Path, target: Path) -> dict[str, Path]:
    """Move each of the clip's files into `target`. Returns where each one is now.

    A file that is already gone from its old place but present in `target` (an earlier move that
    was cut short) counts as moved. A file found nowhere is left out.
    """
    sources: dict[str, Path] = {}
    for name in FILE_FIELDS:
        value = fields.get(name, "")
        if not value:
            continue
        path = Path(value).resolve()
        if not inside(path, data_dir):
            raise ClipOutsideData(f"the clip's {name} file is outside the data folder")
        sources[name] = path
    target.mkdir(parents=True, exist_ok=True)
    moved: dict[str, Path] = {}
    for name, source in sources.items():
        destination = target / source.name
        if source == destination:
            moved[name] = destination
        elif source.exists():
            shutil.move(source, destination)
            moved[name] = destination
        elif destination.exists():
            moved[name] = destination
    return moved


def _update_sidecar(path: Path | None, moved: dict[str, Path], verdict: Verdict,
                    now: float) -> None:
    """Write the new paths and the verdict into the clip's JSON sidecar, if it has one."""
    if path is None or not path.is_file():
        return
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return  # A broken sidecar is left as it is; Redis still has the verdict.
    if not isinstance(data, dict):
        return
    data.update({name: str(p) for name, p in moved.items()})
    data.update({"verdict": verdict, "verdict_wall": now})
    write_text(path, json.dumps(data, indent=2, sort_keys=True) + "\n")
