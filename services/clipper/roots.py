"""Which files the clipper may read: only segments inside the recordings folder.

A segment message names its file by path, and anyone who can write to the bus can write one.
So before the clipper looks at a file (even at its size), it checks that the path, with every
link followed and every `..` worked out, is inside `<data_dir>/buffer`, where ingest records.
"""

from __future__ import annotations

from pathlib import Path

BUFFER = "buffer"
"""The folder under the data dir that holds every recording (see `shared.recording.buffer_dir`)."""


def recordings_root(data_dir: Path) -> Path:
    """The folder that holds every channel's recorded segments."""
    return data_dir / BUFFER


def real_path(path: Path) -> Path | None:
    """The path with every link followed and every `..` worked out, or None when that cannot
    be done (a loop of links, a NUL byte, a part we may not look into)."""
    try:
        return path.resolve()
    except (OSError, RuntimeError, ValueError):
        return None


def inside(path: Path, root: Path) -> Path | None:
    """The real path of `path` when it lies inside `root` (links followed, for both), else
    None. The root itself does not count: it is a folder, not a segment."""
    real, real_root = real_path(path), real_path(root)
    if real is None or real_root is None or real == real_root:
        return None
    return real if real.is_relative_to(real_root) else None
