"""Join the signals into one-second buckets on the stream clock.

A second closes as soon as every steady signal has covered it: its messages reach past the
second's end with no hole before it (`Coverage`). Copies of a worker that share one channel's
messages (two audio_features, say) may publish them a little out of order, so the newest
message alone does not say a second is done; the hole before it says it is not. A signal
that has fallen further behind the newest one than it is allowed to (its own declared
lateness, else `lateness`), or whose hole stays open that long, no longer holds the second. A
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


JOIN_SLACK_S = 0.05  # a smaller space between two messages is rounding, not a hole


class Coverage:
    """How far one signal's messages cover the stream from its first one, with no hole."""

    def __init__(self) -> None:
        self.until: float | None = None  # every stretch before this has come
        self.ahead: list[tuple[float, float]] = []  # stretches that came after a hole

    def add(self, start: float, end: float) -> None:
        if self.until is None:
            self.until = start
        self.ahead.append((start, end))
        self._join()

    def skip_to(self, t: float) -> None:
        """Seconds before `t` closed without waiting for this signal: its hole there is over."""
        if self.until is not None and t > self.until:
            self.until = t
            self._join()

    def _join(self) -> None:
        until = self.until if self.until is not None else 0.0
        self.ahead.sort()
        for start, end in self.ahead:
            if start > until + JOIN_SLACK_S:
                break
            until = max(until, end)
        self.until = until
        self.ahead = [(start, end) for start, end in self.ahead if end > until]


class Bucketer:
    """Collects messages into seconds and hands out the seconds that are done."""

    def __init__(self, lateness: float) -> None:
        self.lateness = lateness
        self.open: dict[int, Second] = {}
        self.watermarks: dict[str, float] = {}
        self.coverage: dict[str, Coverage] = {}
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
        if signal.steady:
            self.coverage.setdefault(signal.name, Coverage()).add(message.t, end)
        for name in signal.fills(message) if signal.fills else ():
            if name in self.coverage:  # nothing will come there: no second waits for it
                self.coverage[name].add(message.t, end)
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
        closed: list[Second] = []
        while more := self._close_until(self._done_until()):  # a hole waited out may let
            closed += more  # the seconds after it, which were in already, close too
        return closed

    def _done_until(self) -> int:
        """The first second that cannot close yet."""
        if not self.watermarks:
            return 0
        newest = max(self.watermarks.values())
        waits = [max(math.floor(self.coverage[s.name].until or 0.0),
                     math.floor(newest - (s.lateness_s or self.lateness)))
                 for s in signals.signals()
                 if s.steady and not s.reacts_later and s.name in self.coverage]
        # When no steady signal has spoken yet: wait `lateness` past the newest message.
        return min(waits) if waits else math.floor(newest - self.lateness)

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
        for coverage in self.coverage.values():
            coverage.skip_to(until)
        return closed
