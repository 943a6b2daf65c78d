"""Read the list FFmpeg writes as it finishes each segment. Pure.

FFmpeg's segment muxer (`-segment_list_type csv`) adds one line per finished file:
`seg_000012.ts,24.000000,26.000000` — the file name, and where it starts and ends in the
connection's media time (seconds). Lines can arrive in pieces, so `ListReader` keeps any
unfinished line until the rest comes.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass

_SEQ = re.compile(r"(\d+)\.ts$")


@dataclass(frozen=True)
class ListEntry:
    """One finished segment, in the connection's own time."""

    name: str
    start: float
    end: float

    @property
    def dur(self) -> float:
        return max(0.0, self.end - self.start)

    @property
    def seq(self) -> int:
        """The segment's number, taken from its file name."""
        return seq_of(self.name)


def seq_of(name: str) -> int:
    """`seg_000012.ts` -> 12. Raises ValueError for a name without a number."""
    match = _SEQ.search(name)
    if not match:
        raise ValueError(f"no segment number in {name!r}")
    return int(match.group(1))


def parse_line(line: str) -> ListEntry | None:
    """One CSV line, or None if the line is empty or broken."""
    line = line.strip()
    if not line:
        return None
    try:
        row = next(csv.reader([line]))
        name, start, end = row[0], float(row[1]), float(row[2])
        seq_of(name)
    except (StopIteration, IndexError, ValueError):
        return None
    return ListEntry(name=name, start=start, end=end)


class ListReader:
    """Turns pieces of the list file's text into entries, one per whole line."""

    def __init__(self) -> None:
        self._rest = ""

    def feed(self, text: str) -> list[ListEntry]:
        """Add new text. Returns the entries of the lines it completed."""
        text = self._rest + text
        *lines, self._rest = text.split("\n")
        return [e for e in (parse_line(line) for line in lines) if e is not None]
