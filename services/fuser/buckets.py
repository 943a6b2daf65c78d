"""Join the signals into one-second buckets on the stream clock.

Each signal reports how far it has come (its watermark). A second closes when every steady
signal has passed it by `settle` seconds, or has fallen further behind the newest signal than it
is allowed to (its own declared lateness, else `lateness`), whatever came in. The settle time is
there because copies of a worker that share one channel's messages (two audio_features, say)
may publish them a little out of order: the newest message is not the end of what came. A
signal that never reported for a second is recorded as missing, never as zero. Which signals
are steady, span seconds, react later or run late comes from their declarations.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from services.fuser import signals
from shared.contracts import Stamped

Signal = Stamped
"""A message of any signal the fuser reads."""


@dataclass
class Second:
    """Everything heard and seen in the second that starts at `t`: per signal name, its
    messages by their start time."""

    t: int
    session: str = ""
    wall: float = 0.0
    heard: dict[str, dict[float, Stamped]] = field(default_factory=dict)

    def messages(self, name: str) -> list[Stamped]:
        return list(self.heard.get(name, {}).values())


class Bucketer:
    """Collects messages into seconds and hands out the seconds that are done."""

    def __init__(self, lateness: float, settle: float = 0.0) -> None:
        self.lateness = lateness
        self.settle = settle
        self.open: dict[int, Second] = {}
        self.watermarks: dict[str, float] = {}
        self.closed_until = 0  # Every second before this one is closed.
        self.late_messages = 0
        self.late: list[tuple[str, float]] = []  # (signal, seconds behind) not reported yet

    def add(self, message: Stamped) -> None:
        """Put a message into the seconds it covers. Duplicates replace themselves; messages
        for seconds already closed are counted and dropped. A signal that reacts later only
        moves its watermark: it is judged over its delay window elsewhere."""
        signal = signals.by_model(type(message))
        end = message.t + max(message.dur, 1e-6)
        self.watermarks[signal.name] = max(self.watermarks.get(signal.name, 0.0), end)
        if signal.reacts_later:
            return
        first = math.floor(message.t)
        last = max(first, math.ceil(end) - 1) if signal.spans else first
        for t in range(first, last + 1):
            if t < self.closed_until:
                self.late_messages += 1
                newest = max(self.watermarks.values())
                self.late.append((signal.name, round(newest - end, 2)))
                continue
            second = self.open.setdefault(t, Second(t, message.session,
                                                    message.wall + (t - message.t)))
            second.heard.setdefault(signal.name, {})[message.t] = message

    def ready(self) -> list[Second]:
        """The seconds that can close now, oldest first (with empty ones for holes)."""
        if not self.watermarks:
            return []
        newest = max(self.watermarks.values())
        until = math.floor(newest - self.lateness)  # When no steady signal has spoken yet.
        waits = [max(math.floor(self.watermarks[s.name] - self.settle),
                     math.floor(newest - (s.lateness_s or self.lateness)))
                 for s in signals.signals()
                 if s.steady and not s.reacts_later and s.name in self.watermarks]
        if waits:
            until = min(waits)
        return self._close_until(until)

    def flush(self) -> list[Second]:
        """Close everything still open (the stream ended)."""
        if not self.open:
            return []
        return self._close_until(max(self.open) + 1)

    def _close_until(self, until: int) -> list[Second]:
        if until <= self.closed_until:
            return []
        first = not self.closed_until  # Nothing closed yet: the stream starts at its first data.
        start = min(self.open, default=until) if first else self.closed_until
        closed: list[Second] = []
        for t in range(start, until):
            second = self.open.pop(t, None)
            if second is not None or closed or not first:  # A hole is a row too.
                closed.append(second or Second(t))
        for t in [t for t in self.open if t < until]:
            self.open.pop(t)
            self.late_messages += 1
        self.closed_until = until
        return closed
