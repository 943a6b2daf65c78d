"""Join the signals into one-second buckets on the stream clock.

Each signal reports how far it has come (its watermark). A second closes when every signal we
expect has passed it, or when the newest signal is `lateness` seconds past it, whatever came
in. A signal that never reported for a second is recorded as missing, never as zero.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from shared.contracts import AudioFeatures, ChatSecond, FaceSecond, Motion, Semantic

Signal = AudioFeatures | Motion | Semantic | ChatSecond | FaceSecond

SIGNAL_NAMES: dict[type, str] = {
    AudioFeatures: "audio", Motion: "motion", Semantic: "semantic", ChatSecond: "chat",
    FaceSecond: "face",
}

STEADY_SIGNALS = ("audio", "motion", "face")
"""Signals that report every second while they run. Semantic speaks only when words come,
and chat is judged later, over the chat delay, so they never hold a second open."""


@dataclass
class Second:
    """Everything heard and seen in the second that starts at `t`."""

    t: int
    session: str = ""
    wall: float = 0.0
    audio: dict[float, AudioFeatures] = field(default_factory=dict)
    motion: dict[float, Motion] = field(default_factory=dict)
    semantic: dict[float, Semantic] = field(default_factory=dict)
    face: dict[float, FaceSecond] = field(default_factory=dict)


class Bucketer:
    """Collects messages into seconds and hands out the seconds that are done."""

    def __init__(self, lateness: float) -> None:
        self.lateness = lateness
        self.open: dict[int, Second] = {}
        self.watermarks: dict[str, float] = {}
        self.closed_until = 0  # Every second before this one is closed.
        self.late_messages = 0

    def add(self, message: Signal) -> None:
        """Put a message into the seconds it covers. Duplicates replace themselves; messages
        for seconds already closed are counted and dropped."""
        name = SIGNAL_NAMES[type(message)]
        end = message.t + max(message.dur, 1e-6)
        self.watermarks[name] = max(self.watermarks.get(name, 0.0), end)
        if isinstance(message, ChatSecond):
            return  # Chat is judged over a delay window elsewhere.
        first = math.floor(message.t)
        last = first if name != "semantic" else max(first, math.ceil(end) - 1)
        for t in range(first, last + 1):
            if t < self.closed_until:
                self.late_messages += 1
                continue
            second = self.open.setdefault(t, Second(t, message.session,
                                                    message.wall + (t - message.t)))
            getattr(second, name)[message.t] = message

    def ready(self) -> list[Second]:
        """The seconds that can close now, oldest first (with empty ones for holes)."""
        steady = [self.watermarks[s] for s in STEADY_SIGNALS if s in self.watermarks]
        if not self.watermarks:
            return []
        newest = max(self.watermarks.values())
        done_by_watermark = math.floor(min(steady)) if steady else self.closed_until
        done_by_lateness = math.floor(newest - self.lateness)
        until = max(done_by_watermark, done_by_lateness)
        return self._close_until(until)

    def flush(self) -> list[Second]:
        """Close everything still open (the stream ended)."""
        if not self.open:
            return []
        return self._close_until(max(self.open) + 1)

    def _close_until(self, until: int) -> list[Second]:
        if until <= self.closed_until:
            return []
        start = self.closed_until if self.closed_until else min(self.open, default=until)
        closed: list[Second] = []
        for t in range(start, until):
            second = self.open.pop(t, None)
            if second is not None or closed:
                closed.append(second or Second(t))
        for t in [t for t in self.open if t < until]:
            self.open.pop(t)
            self.late_messages += 1
        self.closed_until = until
        return closed
