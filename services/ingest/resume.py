"""Where a session's recording got to on disk, for a worker that goes on with it. Pure, apart
from reading the session folder.

A worker that stops without warning (killed, or its machine gone) leaves behind:
- `segments.csv`, every segment it published;
- the segment list of the FFmpeg it ran (`.list-NNNNNN.csv`). That FFmpeg may have finished a
  segment or two more (it closes its last one when its input or output goes away) that the
  worker never got to publish. Those are "recovered": the next worker publishes them, so no
  recorded second is lost;
- maybe one segment file cut off in the middle, which no list names. It is left alone: its
  number is never used again, and the sweep removes it with the session.
"""

from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass, field
from pathlib import Path

from services.ingest.ring_buffer import Stored, highest_seq_on_disk, read_index
from services.ingest.segment_list import ListReader

LIST_GLOB = ".list-*.csv"


@dataclass(frozen=True)
class OnDisk:
    """What a session folder says about the recording so far."""

    stored: list[Stored] = field(default_factory=list)
    """Segments `segments.csv` lists whose files are still there."""
    recovered: list[tuple[Stored, float]] = field(default_factory=list)
    """Segments a stopped FFmpeg finished but nobody published, each with its file's Unix
    time, oldest first."""
    next_seq: int = 0
    """The next unused segment number."""
    end: tuple[float, float] | None = None
    """Stream time where the recording on disk stops, and the Unix time it got there (None
    when nothing was recorded)."""

    @property
    def ran_before(self) -> bool:
        return self.end is not None


def read_disk(folder: Path) -> OnDisk:
    """Read a session folder: its index, leftover segment lists and segment numbers."""
    index = read_index(folder)
    recovered = recover_listed(folder, index)
    on_disk = highest_seq_on_disk(folder)
    seqs = [s.seq for s in index] + [s.seq for s, _ in recovered]
    next_seq = max([*seqs, -1 if on_disk is None else on_disk]) + 1
    ends = [(s.end, wall) for s, wall in recovered[-1:]]
    ends += [(s.end, _mtime(folder / s.name)) for s in index[-1:]]
    end = max(ends) if ends else None
    stored = [s for s in index if (folder / s.name).exists()]
    return OnDisk(stored=stored, recovered=recovered, next_seq=next_seq, end=end)


def recover_listed(folder: Path, index: list[Stored]) -> list[tuple[Stored, float]]:
    """Segments named in a leftover FFmpeg list but not in the index, placed on the stream
    clock. A list file belongs to one connection: a segment of it that was published tells
    where that connection's time 0 is on the stream clock. A list none of whose segments was
    published cannot be placed, and is skipped."""
    known = {s.seq: s for s in index}
    found: list[tuple[Stored, float]] = []
    for path in sorted(folder.glob(LIST_GLOB)):
        try:
            text = path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
        entries = ListReader().feed(text)  # A line cut off at the end is left out.
        zero = next((known[e.seq].t - e.start for e in entries if e.seq in known), None)
        if zero is None:
            continue
        for entry in entries:
            file = folder / entry.name
            if entry.seq in known or entry.dur <= 0 or not file.exists():
                continue
            item = Stored(entry.seq, round(zero + entry.start, 6), round(entry.dur, 6),
                          entry.name)
            found.append((item, _mtime(file)))
    return sorted(found, key=lambda pair: pair[0].seq)


def remove_lists(folder: Path) -> None:
    """Delete leftover FFmpeg segment lists (once what they name is published)."""
    for path in folder.glob(LIST_GLOB):
        with contextlib.suppress(OSError):
            path.unlink()


def _mtime(path: Path) -> float:
    """When a file was last written; now, if it is gone."""
    try:
        return path.stat().st_mtime
    except OSError:
        return time.time()
