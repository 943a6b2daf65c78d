"""Start-up cleanup: the files a clip job left when its clipper died in the middle of it.

A job claims a clip name by making an empty `clip_<stamp>.json` and locking it (`store.py`).
It writes each file as a hidden `.<name>.part` first and renames it when whole, and it writes
the real `.json` last of all. So a clipper killed mid-job can leave, in `clips/<channel>/`:

- `.part` files: a cut, a trial join, a picture or captions that never finished;
- an empty `.json` (the claim), maybe with the `.mp4`, `.srt` or `.jpg` already done.

That clip was never announced (its record goes to Redis only after the `.json` is written),
and its job is done again by the next clipper, so all of it goes. Never touched:

- a finished clip: its `.json` has content. Even an empty `.srt` beside it stays (a clip with
  no captions has one);
- the files of a job that runs right now (in another clipper): its `.json` is locked. The
  system drops that lock when a process dies, even by SIGKILL, so a dead job's files are free.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from .store import same_file, try_lock

CLIP_PREFIX = "clip_"
PART = ".part"
CLIP_FILES = (".mp4", ".srt", ".jpg")
"""The files of a clip besides its `.json`."""


@dataclass
class Swept:
    """What a sweep removed, and what it could not remove."""

    removed: list[Path] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    """One line per file that could not be removed, with the reason."""


def owner_stem(name: str) -> str | None:
    """The clip name a hidden part file belongs to (`.clip_X.mp4.part` -> `clip_X`), or None
    when it names no clip."""
    if not (name.startswith(".") and name.endswith(PART)):
        return None
    stem = name[1:].split(".", 1)[0]
    return stem if stem.startswith(CLIP_PREFIX) else None


def sweep_clips(clips_root: Path) -> Swept:
    """Remove what dead clip jobs left in every channel's clips folder under `clips_root`."""
    swept = Swept()
    if not clips_root.is_dir():
        return swept
    for folder in sorted(clips_root.iterdir()):
        if folder.is_dir() and not folder.is_symlink():
            sweep_folder(folder, swept)
    return swept


def sweep_folder(folder: Path, swept: Swept) -> None:
    """Remove the unfinished clips and the stale part files of one clips folder."""
    for claim in sorted(folder.glob(f"{CLIP_PREFIX}*.json")):
        fd = _take_unfinished(claim)
        if fd is None:
            continue  # finished, or a live job holds it
        try:
            stem = claim.name.removesuffix(".json")
            for path in [folder / f"{stem}{ext}" for ext in CLIP_FILES] + _parts(folder, stem):
                _remove(path, swept)
            _remove(claim, swept)  # last: while it is there, nobody else takes this name
        finally:
            os.close(fd)
    for part in sorted(folder.glob(f".*{PART}")):
        owner = owner_stem(part.name)
        if owner is None or not _held(folder / f"{owner}.json"):
            _remove(part, swept)


def _parts(folder: Path, stem: str) -> list[Path]:
    return [p for p in folder.glob(f".{stem}.*{PART}") if owner_stem(p.name) == stem]


def _take_unfinished(claim: Path) -> int | None:
    """Lock an empty `.json` that no live job holds, and return its open handle; None when
    the clip is finished (the file has content), or held, or gone."""
    try:
        fd = os.open(claim, os.O_RDONLY)
    except OSError:
        return None
    if try_lock(fd) and os.fstat(fd).st_size == 0 and same_file(fd, claim):
        return fd
    os.close(fd)
    return None


def _held(claim: Path) -> bool:
    """True when a live job holds this clip's `.json` locked."""
    try:
        fd = os.open(claim, os.O_RDONLY)
    except OSError:
        return False
    try:
        return not try_lock(fd)
    finally:
        os.close(fd)  # closing drops a lock we took just to look


def _remove(path: Path, swept: Swept) -> None:
    try:
        path.unlink()
    except FileNotFoundError:
        return  # never there, or another clipper's sweep took it first
    except OSError as err:
        swept.failed.append(f"{path.name}: {err.strerror or type(err).__name__}")
        return
    swept.removed.append(path)
