"""`clip-live graph`: who writes and who reads each stream, from the workers' declarations.

README.md shows the same table (`python -m launcher.graph` prints the block); a test checks
that the two agree.
"""

from __future__ import annotations

from typing import Any

from services.wiring import WORKERS
from shared import streams
from shared.streams import Topic
from shared.workers import Worker

BEGIN = "<!-- wiring:begin -->"
END = "<!-- wiring:end -->"

TOPICS: tuple[Topic[Any], ...] = tuple(v for v in vars(streams).values() if isinstance(v, Topic))
"""Every topic, in the order `shared/streams.py` declares them."""

LEGEND = """\
Streams per channel are clip-live:ch:{<channel>}:<name>; global ones are clip-live:{<name>}.
How each worker reads: (group) its copies share the messages through a consumer group;
(owner) only for the channels it owns; (looks) sees every message, without a group."""


def _reader(worker: Worker, topic: Topic[Any]) -> str:
    if topic in worker.looks and topic not in worker.reads:
        return f"{worker.name} (looks)"
    if worker.shape == "channels" and topic.per_channel:
        return f"{worker.name} (owner)"
    if worker.group != worker.name:
        return f"{worker.name} (group {worker.group})"
    return f"{worker.name} (group)"


def rows() -> list[tuple[str, str, str, str]]:
    """(stream, kind, written by, read by) for every topic."""
    found = []
    for topic in TOPICS:
        name = f"{topic.name} [{', '.join(topic.parts)}]" if topic.parts else topic.name
        writers = [w.name for w in WORKERS if topic in w.writes]
        readers = [_reader(w, topic) for w in WORKERS if topic in w.reads + w.looks]
        found.append((name, "channel" if topic.per_channel else "global",
                      ", ".join(writers) or "-", ", ".join(readers) or "-"))
    return found


def graph_text() -> str:
    """The table `clip-live graph` prints, with a short legend."""
    table = [("STREAM", "KIND", "WRITTEN BY", "READ BY"), *rows()]
    widths = [max(len(row[i]) for row in table) for i in range(3)]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row[:3], widths, strict=True))
             + "  " + row[3] for row in table]
    return "\n".join([*lines, "", LEGEND])


def readme_block() -> str:
    return f"{BEGIN}\n```\n{graph_text()}\n```\n{END}"


if __name__ == "__main__":
    print(readme_block())
