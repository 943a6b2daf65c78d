"""Where a finished clip is kept: its file names, its JSON sidecar, and its record in Redis."""

from __future__ import annotations

import fcntl
import json
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from redis.asyncio import Redis
from redis.typing import EncodableT, FieldT

from shared.contracts import Clip
from shared.files import write_text
from shared.recording import clips_dir
from shared.streams import CLIP_INDEX_KEY, clip_key

from .library import DiskRecord

MAX_SAME_NAME = 1000
RESTORE_PAGE = 500
"""Clips looked up in Redis per round trip when the library is put back from the disk."""


class ClaimLock:
    """An open handle on a clip's `.json`, locked (`flock`) while its job makes the clip.

    The lock says "a live job owns these files": the start-up sweep (`sweep.py`) leaves them
    alone. The system drops the lock by itself when the process dies, even by SIGKILL, so
    files a dead job left are free to clean."""

    def __init__(self, fd: int | None = None) -> None:
        self.fd = fd

    def close(self) -> None:
        """Drop the lock (once; later calls do nothing)."""
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None


@dataclass(frozen=True)
class ClipFiles:
    """The files of one clip: `clip_<stamp>.mp4`, `.srt`, `.json` and its `.jpg` picture."""

    stem: str
    video: Path
    captions: Path
    metadata: Path
    thumbnail: Path
    lock: ClaimLock = field(default_factory=ClaimLock, compare=False, repr=False)
    """Held from `reserve_files` until the sidecar is written or the files are released."""


def stamp(wall: float) -> str:
    """A Unix time as a UTC stamp for file names: `20261121T045012Z`."""
    return time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(wall))


def reserve_files(data_dir: Path, channel: str, wall: float) -> ClipFiles:
    """Pick free names for a clip made at Unix time `wall`, and claim them.

    The name is `clip_<UTC stamp>`; if another clip has it, `_2`, `_3`, ... is added. We claim a
    name by creating its `.json` file in one step that fails if the file exists, so two clippers
    never pick the same name, and we lock that file until the clip is done (see `ClaimLock`).
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
        lock = _claim(files.metadata)
        if lock is not None:
            return replace(files, lock=lock)
    raise FileExistsError(f"more than {MAX_SAME_NAME} clips named {base} in {folder}")


def _claim(path: Path) -> ClaimLock | None:
    """Create `path` (it must not exist yet) and lock it. None when the name is taken, or a
    start-up sweep holds it (it is about to remove it: we take the next name)."""
    try:
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
    except FileExistsError:
        return None
    lock = ClaimLock(fd)
    if try_lock(fd) and same_file(fd, path):
        return lock
    lock.close()
    return None


def try_lock(fd: int) -> bool:
    """Lock an open file for us alone, without waiting. False when someone else holds it."""
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def same_file(fd: int, path: Path) -> bool:
    """True when the open file `fd` is still the file at `path` (not removed or replaced)."""
    try:
        now = os.stat(path)
    except FileNotFoundError:
        return False
    held = os.fstat(fd)
    return (held.st_dev, held.st_ino) == (now.st_dev, now.st_ino)


def release_files(files: ClipFiles) -> None:
    """Remove whatever a failed job left of its clip's files, then drop its lock."""
    for path in (files.video, files.captions, files.metadata, files.thumbnail):
        path.unlink(missing_ok=True)
    files.lock.close()


def write_sidecar(files: ClipFiles, sidecar: dict[str, Any]) -> None:
    """Write the clip's `.json`: the last file of a clip, so the clip is whole and its lock
    is dropped."""
    write_text(files.metadata, json.dumps(sidecar, indent=2, sort_keys=True) + "\n")
    files.lock.close()


async def save_record(redis: Redis, clip: Clip, sidecar: dict[str, Any]) -> None:
    """Put the clip's metadata in a Redis hash, and its id in the index sorted by wall time."""
    await _write_record(redis, clip.clip_id, clip.wall, sidecar)


async def restore_records(redis: Redis, records: Sequence[DiskRecord]) -> int:
    """Write back the record of each clip on disk that Redis does not have (see `library`);
    a record Redis has is left as it is. Returns how many were written."""
    restored = 0
    for start in range(0, len(records), RESTORE_PAGE):
        page = records[start:start + RESTORE_PAGE]
        async with redis.pipeline(transaction=False) as pipe:
            for record in page:
                pipe.exists(clip_key(record.clip_id))
            known = await pipe.execute()
        for record, exists in zip(page, known, strict=True):
            if not exists:
                await _write_record(redis, record.clip_id, record.wall, record.sidecar)
                restored += 1
    return restored


async def _write_record(redis: Redis, clip_id: str, wall: float, sidecar: dict[str, Any]) -> None:
    fields: dict[FieldT, EncodableT] = {
        k: v if isinstance(v, str) else json.dumps(v) for k, v in sidecar.items()
    }
    async with redis.pipeline(transaction=True) as pipe:
        pipe.delete(clip_key(clip_id))
        pipe.hset(clip_key(clip_id), mapping=fields)
        pipe.zadd(CLIP_INDEX_KEY, {clip_id: wall})
        await pipe.execute()
