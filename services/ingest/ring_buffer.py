"""The ring buffer on disk: keep the last few minutes of segments, delete older ones.

Rules:
- keep every segment that ends less than `retention_s` before the newest segment's end;
- also keep every segment that ends after the earliest time a clip job has pinned
  (`shared.recording.pin`), so a clip that is still being cut never loses its pieces;
- delete the rest.

Each session folder also holds `segments.csv`: one line per segment (`seq,t,dur,name`) in
stream time. A worker that takes over a channel reads it to go on where the last one stopped.

Old session folders are removed by `sweep` once nothing of their channel is pinned.
"""

from __future__ import annotations

import contextlib
import shutil
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

INDEX_NAME = "segments.csv"


@dataclass(frozen=True)
class Stored:
    """A segment file on disk, with its place in stream time."""

    seq: int
    t: float
    dur: float
    name: str

    @property
    def end(self) -> float:
        return self.t + self.dur


def to_delete(stored: Iterable[Stored], retention_s: float, pin: float | None) -> list[Stored]:
    """The segments that may go: too old, and not needed by a pinned clip job."""
    items = list(stored)
    if not items:
        return []
    newest_end = max(s.end for s in items)
    keep_after = newest_end - retention_s
    if pin is not None:
        keep_after = min(keep_after, pin)
    return [s for s in items if s.end <= keep_after]


def delete(folder: Path, items: Iterable[Stored]) -> None:
    """Delete segment files; one that is already gone is fine."""
    for item in items:
        (folder / item.name).unlink(missing_ok=True)


def index_line(item: Stored) -> str:
    return f"{item.seq},{item.t:.6f},{item.dur:.6f},{item.name}\n"


def append_index(folder: Path, item: Stored) -> None:
    """Add one segment to the session's `segments.csv`."""
    with (folder / INDEX_NAME).open("a", encoding="utf-8") as file:
        file.write(index_line(item))


def read_index(folder: Path) -> list[Stored]:
    """Every segment the session's `segments.csv` lists (broken lines are skipped)."""
    path = folder / INDEX_NAME
    if not path.exists():
        return []
    found: list[Stored] = []
    for line in path.read_text(encoding="utf-8").splitlines():
        parts = line.strip().split(",")
        if len(parts) != 4:
            continue
        try:
            found.append(Stored(int(parts[0]), float(parts[1]), float(parts[2]), parts[3]))
        except ValueError:
            continue
    return found


def highest_seq_on_disk(folder: Path) -> int | None:
    """The biggest segment number among the `.ts` files in the folder."""
    numbers = []
    for path in folder.glob("seg_*.ts"):
        digits = path.stem.removeprefix("seg_")
        if digits.isdigit():
            numbers.append(int(digits))
    return max(numbers) if numbers else None


def plan_sweep(
    on_disk: Mapping[str, Iterable[str]],
    keep: Mapping[str, str],
    pinned: Iterable[str],
) -> list[tuple[str, str]]:
    """Which (channel, session) folders to remove.

    `on_disk` lists the session folders of each channel; `keep` maps a channel being watched
    to the session to keep; a channel in `pinned` keeps everything until its clip jobs finish.
    """
    hold = set(pinned)
    return [
        (channel, session)
        for channel, sessions in sorted(on_disk.items()) if channel not in hold
        for session in sorted(sessions) if keep.get(channel) != session
    ]


def sessions_on_disk(buffer_root: Path) -> dict[str, list[str]]:
    """Channel -> its session folders under `<data_dir>/buffer`."""
    if not buffer_root.is_dir():
        return {}
    return {
        ch.name: [s.name for s in ch.iterdir() if s.is_dir()]
        for ch in buffer_root.iterdir() if ch.is_dir()
    }


def remove_session(buffer_root: Path, channel: str, session: str) -> None:
    """Delete a whole session folder (and the channel folder when it is left empty)."""
    shutil.rmtree(buffer_root / channel / session, ignore_errors=True)
    with contextlib.suppress(OSError):
        (buffer_root / channel).rmdir()
