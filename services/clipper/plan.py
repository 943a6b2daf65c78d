"""Which recorded segments make a clip. Pure: plain data in, plain data out.

A clip is asked for around a spike at stream time `t`: `pre` seconds before it and `post` seconds
after it. We never cut inside a segment. Each segment starts on a key frame, so we take whole
segments: from the one that holds `t - pre` to the one that holds `t + post`. The clip can come
out up to one segment longer than asked, but it always starts on a clean picture.

The recording can have gaps (the source dropped, or ingest restarted): stream time goes on, but
no segment covers those seconds. A clip across a gap joins what was recorded on either side and
says where the gap was. A window that ends inside a gap is complete once a segment after the gap
is here, since nothing more will ever come for it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import pairwise

EPS = 0.05
"""Times closer than this (seconds) count as the same time. Segment times carry small float
errors, and a frame lasts about 0.03 s."""


@dataclass(frozen=True)
class Piece:
    """One recorded segment, as the clipper sees it."""

    seq: int
    t: float
    dur: float
    path: str
    size: int = 0
    wall: float = 0.0
    """Unix time when the segment's first frame was captured."""
    arrived: float = 0.0
    """Unix time when the segment's message reached Redis (0 when unknown)."""

    @property
    def end(self) -> float:
        return self.t + self.dur


@dataclass(frozen=True)
class Window:
    """The stretch of stream time the clip should show."""

    spike: float
    start: float
    end: float
    asked_start: float
    """`t - pre` as asked; it may be below 0 when the spike was near the stream's start."""


@dataclass(frozen=True)
class ClipPlan:
    """What to join, and how far along we are."""

    window: Window
    pieces: tuple[Piece, ...]
    complete: bool
    """True when nothing more will come for the window: the segment that holds its end is here,
    or a later one is (the window ends in a gap of the recording)."""
    fraction: float
    """How much of the window the pieces cover, 0.0 to 1.0."""
    notes: tuple[str, ...]
    """Holes and short starts, in words."""

    @property
    def start(self) -> float:
        """Stream time of the clip's first frame (the first piece's start)."""
        return self.pieces[0].t if self.pieces else self.window.start

    @property
    def end(self) -> float:
        return self.pieces[-1].end if self.pieces else self.window.start

    @property
    def expected_duration(self) -> float:
        """How long the joined clip should be: first piece's start to last piece's end."""
        return max(0.0, self.end - self.start)


def make_window(t: float, pre: float, post: float) -> Window:
    """The window `t - pre .. t + post`, not starting before the stream's 0."""
    return Window(spike=t, start=max(0.0, t - pre), end=t + post, asked_start=t - pre)


def ordered(pieces: Iterable[Piece]) -> list[Piece]:
    """Pieces sorted by time, each segment number once (the newest message wins)."""
    by_seq: dict[int, Piece] = {}
    for piece in pieces:
        by_seq[piece.seq] = piece
    return sorted(by_seq.values(), key=lambda p: (p.t, p.seq))


def plan_clip(pieces: Iterable[Piece], window: Window) -> ClipPlan:
    """Pick the whole segments that overlap the window, and say whether the end is here."""
    every = ordered(pieces)
    chosen = [
        p for p in every
        if p.t < window.end - EPS and p.end > window.start + EPS and p.dur > 0
    ]
    after = next((p for p in every if p.t >= window.end - EPS and p.dur > 0), None)
    complete = (bool(chosen) and chosen[-1].end >= window.end - EPS) or after is not None
    return ClipPlan(window=window, pieces=tuple(chosen), complete=complete,
                    fraction=_covered(chosen, window),
                    notes=tuple(_notes(chosen, window, after)))


def _covered(chosen: list[Piece], window: Window) -> float:
    """The share of the window that the chosen pieces cover."""
    length = window.end - window.start
    if length <= 0:
        return 1.0
    inside = sum(max(0.0, min(p.end, window.end) - max(p.t, window.start)) for p in chosen)
    return max(0.0, min(1.0, inside / length))


def _notes(chosen: list[Piece], window: Window, after: Piece | None = None) -> list[str]:
    """Say in words where the pieces do not cover the window. `after` is the first segment
    past the window, if one came."""
    if not chosen:
        gap = (f" (a gap in the recording: the next segment starts at t={after.t:.1f} s)"
               if after else "")
        return [f"no recorded segment covers t={window.start:.1f}..{window.end:.1f} s{gap}"]
    notes: list[str] = []
    if chosen[0].t > window.start + EPS:
        notes.append(f"the recording starts late: nothing before t={chosen[0].t:.1f} s "
                     f"(asked from t={window.start:.1f} s)")
    for left, right in pairwise(chosen):
        hole = right.t - left.end
        if hole > EPS:
            notes.append(f"a {hole:.1f} s hole in the recording at t={left.end:.1f} s "
                         f"(nothing was recorded until t={right.t:.1f} s)")
    if chosen[-1].end < window.end - EPS and after is not None:
        notes.append(f"a gap in the recording from t={chosen[-1].end:.1f} s to "
                     f"t={after.t:.1f} s (asked up to t={window.end:.1f} s)")
    elif chosen[-1].end < window.end - EPS:
        notes.append(f"the recording stops early: nothing after t={chosen[-1].end:.1f} s "
                     f"(asked up to t={window.end:.1f} s)")
    return notes


def wall_at(t: float, ref_t: float, ref_wall: float) -> float:
    """The Unix time of stream time `t`, from one message that has both a `t` and a `wall`."""
    return ref_wall + (t - ref_t)


def nearest(pieces: Iterable[Piece], t: float) -> Piece | None:
    """The piece that holds `t`, or else the one closest to it."""
    best: Piece | None = None
    best_gap = float("inf")
    for piece in pieces:
        gap = 0.0 if piece.t <= t < piece.end else min(abs(piece.t - t), abs(piece.end - t))
        if gap < best_gap:
            best, best_gap = piece, gap
    return best


@dataclass(frozen=True)
class ClipClock:
    """Stream time to time in the clip file. The file holds only the segments joined: a gap in
    the recording, or a segment left out, is not in it, so later times move back by it."""

    pieces: tuple[Piece, ...]

    @classmethod
    def of(cls, pieces: Sequence[Piece], joined: Sequence[int] | None = None) -> ClipClock:
        """The clock of a clip made of `pieces` (only those numbered in `joined`, if given)."""
        keep = set(joined) if joined is not None else None
        return cls(tuple(p for p in pieces if keep is None or p.seq in keep))

    @property
    def start(self) -> float:
        return self.pieces[0].t if self.pieces else 0.0

    @property
    def end(self) -> float:
        return self.pieces[-1].end if self.pieces else 0.0

    @property
    def duration(self) -> float:
        """How long the clip file should be: the joined segments, one after another."""
        return sum(p.dur for p in self.pieces)

    def at(self, t: float) -> float:
        """Where stream time `t` is in the clip file. A time in a hole maps to where the next
        segment starts; times before or after the clip to its start or its end."""
        elapsed = 0.0
        for piece in self.pieces:
            if t < piece.t:
                return elapsed
            if t < piece.end:
                return elapsed + t - piece.t
            elapsed += piece.dur
        return elapsed
