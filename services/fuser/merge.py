"""Put what the fuser reads from several streams back into stream-time order.

Each stream is read in batches. A stream whose batch came back full may have more waiting;
its messages past the end of that batch are not known yet. So a message is handed on only
once no full stream can still bring something earlier: the horizon is the latest time every
full stream has reached. Everything else waits for the next read. Without this, one stream's
batch of fifty seconds would close seconds that another stream's next batch still holds.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Entry:
    """One message read from a stream: where it is (stream and id) and its stream time."""

    stream: str
    id: str
    t: float
    message: Any


@dataclass
class TimeMerge:
    """Collects batches from many streams and hands out the entries that are safe, in time
    order (ties keep the order they were read in)."""

    held: list[Entry] = field(default_factory=list)
    horizon: float | None = None

    def add(self, batches: dict[str, list[Entry]], full: set[str]) -> None:
        """Take one read: each stream's entries, and the streams whose batch was full."""
        reached = [batches[s][-1].t for s in full if batches.get(s)]
        self.horizon = min(reached) if reached else None
        for entries in batches.values():
            self.held.extend(entries)

    def ready(self) -> list[Entry]:
        """The entries no later read can come before, oldest first."""
        if self.horizon is None:
            out, self.held = self.held, []
        else:
            limit = self.horizon
            out = [e for e in self.held if e.t <= limit]
            self.held = [e for e in self.held if e.t > limit]
        out.sort(key=lambda e: e.t)
        return out
