"""Where a finished clip is kept: its file names, its JSON sidecar, and its record in Redis."""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from redis.asyncio import Redis
from redis.typing import EncodableT, FieldT

from shared.contracts import Clip
from shared.recording import clips_dir
from shared.streams import CLIP_INDEX_KEY, clip_key

MAX_SAME_NAME = 1000


@dataclass(frozen=True)
class ClipFiles:
    """The files of one clip: `clip_<stamp>.mp4`, `.srt`, `.json` and its `.jpg` picture."""

    stem: str
    video: Path
    captions: Path
    metadata: Path
    thumbnail: Path


def stamp(wall: float) -> str:
    """A Unix time as a UTC stamp for file names: `20261121T045012Z`."""
    return time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(wall))


def reserve_files(data_dir: Path, channel: str, wall: float) -> ClipFiles:
    """Pick free names for a clip made at Unix time `wall`, and claim them.

    The name is `clip_<UTC stamp>`; if another clip has it, `_2`, `_3`, ... is added. We claim a
    name by creating its `.json` file in one step that fails if the file exists, so two clippers
    never pick the same name.
    """
    folder = clips_dir(data_dir, channel)
    folder.mkdir(parents=True, exist_ok=True)
    base = f"clip_{stamp(wall)}"
    for n in range(1, MAX_SAME_NAME + 1):
        stem = base if n == 1 else f"{base}_{n}"
        files = ClipFiles(stem=stem, video=folder / f"{stem}.mp4",
                          captions=folder / f"{stem}.srt", metadata=folder / f"{stem}.json",
                          thumbnail=folder / f"{stem}.jpg")
        if files.video.exists() or files.captions.exists() or files.thumbnail.exists():
            continue
        try:
            os.close(os.open(files.metadata, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644))
        except FileExistsError:
            continue
        return files
    raise FileExistsError(f"more than {MAX_SAME_NAME} clips named {base} in {folder}")


def release_files(files: ClipFiles) -> None:
    """Remove whatever a failed job left of its clip's files."""
    for path in (files.video, files.captions, files.metadata, files.thumbnail):
        path.unlink(missing_ok=True)


def write_text(path: Path, text: str) -> None:
    """Write a file so that readers see either nothing or all of it."""
    part = path.with_name(f".{path.name}.part")
    part.write_text(text, encoding="utf-8")
    os.replace(part, path)


def write_sidecar(files: ClipFiles, sidecar: dict[str, Any]) -> None:
    write_text(files.metadata, json.dumps(sidecar, indent=2, sort_keys=True) + "\n")


async def save_record(redis: Redis, clip: Clip, sidecar: dict[str, Any]) -> None:
    """Put the clip's metadata in a Redis hash, and its id in the index sorted by wall time."""
    fields: dict[FieldT, EncodableT] = {
        k: v if isinstance(v, str) else json.dumps(v) for k, v in sidecar.items()
    }
    async with redis.pipeline(transaction=True) as pipe:
        pipe.delete(clip_key(clip.clip_id))
        pipe.hset(clip_key(clip.clip_id), mapping=fields)
        pipe.zadd(CLIP_INDEX_KEY, {clip.clip_id: clip.wall})
        await pipe.execute()
