"""The clip library as the disk holds it: every finished clip's `.json` sidecar.

A sidecar holds the whole of its clip's record (the same fields as the clip's hash in Redis; a
verdict updates both), and a clip's files always lie beside its sidecar: in `clips/<channel>/`,
or in `keep/<channel>/` or `drop/<channel>/` once judged. So when Redis has lost its data
(restarted without saving it, flushed, or kept under older key names), the library can be put
back from the disk: `records_on_disk` reads it, and `store.restore_records` writes back what
Redis lacks. Pure file reading, no Redis.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from shared.feedback import FILE_FIELDS, VERDICTS

log = logging.getLogger("clip_live.clipper.library")

CLIP_FOLDERS = ("clips", *VERDICTS)
"""The folders under the data folder that hold a channel's clips, one folder per channel."""


@dataclass(frozen=True)
class DiskRecord:
    """One finished clip as its sidecar describes it."""

    clip_id: str
    wall: float
    sidecar: dict[str, Any]


def records_on_disk(data_dir: Path) -> list[DiskRecord]:
    """Every finished clip on disk, oldest first. Skipped: a claim still empty (its job runs,
    or died and the sweep removes it), a hidden `.part` file, and a sidecar that is not a
    clip's record (logged). Each file path in a record is set to the file beside the sidecar,
    so a data folder that moved (another mount point) still finds its files."""
    found = []
    for folder in CLIP_FOLDERS:
        for path in sorted((data_dir / folder).glob("*/clip_*.json")):
            record = read_record(path)
            if record is not None:
                found.append(record)
    found.sort(key=lambda r: r.wall)
    return found


def read_record(path: Path) -> DiskRecord | None:
    """The record in one sidecar, or None for an empty claim or a file that is not one."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        log.warning("cannot read the clip sidecar %s: %s", path, err)
        return None
    if not text.strip():
        return None  # A claim: its clip is not finished.
    try:
        sidecar = json.loads(text)
        clip_id, wall = sidecar["clip_id"], float(sidecar["wall"])
    except (ValueError, KeyError, TypeError) as err:
        log.warning("skipping %s: not a clip's record (%s)", path, err)
        return None
    if not isinstance(clip_id, str) or not clip_id:
        log.warning("skipping %s: no clip id", path)
        return None
    for name in FILE_FIELDS:
        value = sidecar.get(name)
        if value:
            beside = path.with_name(Path(str(value)).name)
            sidecar[name] = str(beside) if beside.is_file() else value
    return DiskRecord(clip_id=clip_id, wall=wall, sidecar=sidecar)
