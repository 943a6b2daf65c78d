"""From faces per frame to one summary per second of stream time.

The frames of one channel come about twice a second. We gather them by whole second of stream
time (`floor(t)`) and summarise each second once it is closed:

- a second closes as soon as every frame of it is in: motion marks the last frame of each
  segment with the stream time the segment covered, and a second closes once the segments
  done so far cover it without a hole (two motion replicas may finish neighbouring segments
  out of order; a hole waits for the segment that fills it);
- or when a frame at least `lateness_s` past its end has been seen (a segment whose frames
  never all came);
- or when no frame came for a while (`close_all`, called by the worker), so the last seconds of a
  stream that stops are not held forever;
- a frame for a second that is already closed is too late: it is dropped and counted.

Only the streamer's face counts: in each frame, the largest face.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from services.face.emotion import LABELS, dominant

COVER_SLACK_S = 0.05
"""Segment times are rounded: ends this close count as touching."""
EXCITEMENT_WEIGHTS = {"happy": 1.0, "surprise": 1.0, "fear": 1.0, "angry": 0.25,
                      "neutral": -1.0, "sad": -1.0, "disgust": -1.0, "contempt": -1.0}
"""What each emotion's probability adds to a face's excitement (see `excitement`)."""


def excitement(emotions: dict[str, float]) -> float:
    """How excited a face looks, from -1 (calm) to 1 (excited).

    Each emotion's probability times its weight in EXCITEMENT_WEIGHTS, summed and clipped to
    [-1, 1]. Joy, surprise and fear count for; calm (neutral, sad) and disgust and contempt
    count against, so they never make a face look excited. Anger counts only a quarter: the
    model calls most disgusted faces angry, so anger alone (at most 0.25) must never reach
    the vote line, while a shout, read as anger mixed with surprise or fear, still can.
    With probabilities that sum to 1 the value already lies in [-1, 1]; the clip guards
    against models that do not. No emotions (no face) gives 0.
    """
    if not emotions:
        return 0.0
    score = sum(EXCITEMENT_WEIGHTS.get(k, 0.0) * p for k, p in emotions.items())
    return max(-1.0, min(1.0, score))


@dataclass(frozen=True, slots=True)
class FrameFaces:
    """What one frame showed: its stream time and the main face's emotions (None: no face)."""

    session: str
    t: float
    wall: float
    emotions: dict[str, float] | None


@dataclass(frozen=True, slots=True)
class SecondSummary:
    """One second of the streamer's face."""

    session: str
    t: float  # start of the second, in stream time
    wall: float  # Unix time at that start
    frames: int  # frames seen in this second
    present: bool  # a face was in at least half of those frames
    emotions: dict[str, float]  # mean over frames with a face; empty when not present
    dominant: str
    excitement: float


def summarise(session: str, second: int, frames: list[FrameFaces]) -> SecondSummary:
    """The summary of one second from its frames (at least one)."""
    with_face = [f.emotions for f in frames if f.emotions is not None]
    present = 2 * len(with_face) >= len(frames) and bool(with_face)
    emotions: dict[str, float] = {}
    if present:
        emotions = {k: sum(e.get(k, 0.0) for e in with_face) / len(with_face) for k in LABELS}
    first = min(frames, key=lambda f: f.t)
    return SecondSummary(session=session, t=float(second), wall=first.wall - (first.t - second),
                         frames=len(frames), present=present, emotions=emotions,
                         dominant=dominant(emotions), excitement=excitement(emotions))


@dataclass
class SecondBuffer:
    """Open seconds of one channel, waiting to be closed and summarised."""

    lateness_s: float = 0.0
    dropped: int = 0  # frames that came for a second already closed
    _session: str = ""
    _open: dict[int, list[FrameFaces]] = field(default_factory=dict)
    _closed_before: int = 0  # every second below this one is closed
    _covered_until: float | None = None  # segments are done up to here, without a hole
    _waiting: list[tuple[float, float]] = field(default_factory=list)  # done, after a hole

    def add(self, frame: FrameFaces,
            batch: tuple[float, float] | None = None) -> list[SecondSummary]:
        """Take one frame, and with the last frame of a segment the stream time the segment
        covered. Returns the seconds that closed, oldest first (maybe none)."""
        done: list[SecondSummary] = []
        if frame.session != self._session:  # a new session: the old one's seconds are over
            done = self.close_all()
            self._session, self._closed_before = frame.session, 0
            self._covered_until, self._waiting = None, []
        second = math.floor(frame.t + 1e-6)
        if second < self._closed_before:
            self.dropped += 1
        else:
            self._open.setdefault(second, []).append(frame)
        self._closed_before = max(self._closed_before,
                                  math.floor(frame.t - self.lateness_s + 1e-6))
        if batch is not None:
            self._closed_before = max(self._closed_before, self._cover(*batch))
        ready = sorted(s for s in self._open if s < self._closed_before)
        return done + [summarise(self._session, s, self._open.pop(s)) for s in ready]

    def _cover(self, start: float, end: float) -> int:
        """Add a segment that is done; returns the first second not yet covered, without a
        hole, by the segments done (and the seconds closed anyway)."""
        if self._covered_until is None:  # The first segment we see: nothing came before it.
            self._covered_until = end
        else:
            self._waiting.append((start, end))
        until = max(self._covered_until, float(self._closed_before))
        for a, b in sorted(self._waiting):
            if a <= until + COVER_SLACK_S:
                until = max(until, b)
        self._waiting = [(a, b) for a, b in self._waiting if b > until]
        self._covered_until = until
        return math.floor(until + COVER_SLACK_S)

    def restore(self, frames: list[FrameFaces], closed_before: int) -> None:
        """Take back the frames a worker that stopped held in open seconds (oldest first, one
        session). Seconds before `closed_before` were summarised already."""
        if not frames:
            return
        self._session = frames[0].session
        self._closed_before = max(self._closed_before, closed_before)
        for frame in frames:
            second = math.floor(frame.t + 1e-6)
            if second >= self._closed_before:
                self._open.setdefault(second, []).append(frame)

    def close_all(self) -> list[SecondSummary]:
        """Close every open second now (no frame came for a while). Oldest first."""
        ready = sorted(self._open)
        if ready:
            self._closed_before = max(self._closed_before, ready[-1] + 1)
        return [summarise(self._session, s, self._open.pop(s)) for s in ready]

    @property
    def has_open(self) -> bool:
        """True while some second waits to be closed."""
        return bool(self._open)
