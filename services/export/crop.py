"""Where the 9:16 window sits in each frame of a 16:9 clip. Pure: plain values in and out.

The window follows one face (the "main" face) and never jumps to another one. It stays still
while that face moves inside a dead zone around the window's centre; when the face leaves the
dead zone, the window glides after it with limited speed and acceleration (eased in and out),
so it never jitters and never snaps.

All boxes and positions are in pixels of the source video; times in seconds of the clip.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Box:
    """A face box: left, top, width, height."""

    x: float
    y: float
    w: float
    h: float

    @property
    def cx(self) -> float:
        return self.x + self.w / 2

    @property
    def cy(self) -> float:
        return self.y + self.h / 2


@dataclass(frozen=True)
class FaceSample:
    """The faces seen in the frame at clip time `t`."""

    t: float
    boxes: tuple[Box, ...]


@dataclass(frozen=True)
class Motion:
    """How the window moves. Lengths are parts of the window's width."""

    dead_zone: float = 0.12
    """The face may wander this far from the window's centre before the window moves."""
    settle: float = 0.02
    """The window stops following once it is this close to the face."""
    max_speed: float = 1.0
    """Window widths per second, at most."""
    max_accel: float = 4.0
    """Window widths per second per second, at most: the motion eases in and out."""
    gain: float = 4.0
    """Per second: how fast the window heads for the face (speed = gain x distance)."""
    same_face: float = 0.5
    """A box this near the tracked face's last place is the same face."""
    switch_after_s: float = 1.5
    """After the tracked face has been gone this long, the largest face becomes the main one."""


def even(value: float) -> int:
    """The nearest even whole number (video sizes and offsets must be even for yuv420p)."""
    return int(round(value / 2) * 2)


def crop_width(width: int, height: int, aspect: float = 9 / 16) -> int:
    """The width of the tallest window of this aspect (width / height) that fits the frame."""
    return min(width, even(height * aspect))


def track_main_face(samples: Sequence[FaceSample], window_w: float,
                    motion: Motion = Motion()) -> list[tuple[float, float]]:
    """The centre x of the main face at each sample time where it was seen.

    The main face starts as the largest face first seen. At each later sample, only a box near
    its last place counts as it (the nearest one), so the track never hops to another person.
    If it stays away longer than `switch_after_s`, the largest face seen then takes over.
    """
    track: list[tuple[float, float]] = []
    last: Box | None = None
    last_t = -math.inf
    for sample in sorted(samples, key=lambda s: s.t):
        if not sample.boxes:
            continue
        if last is None or sample.t - last_t > motion.switch_after_s:
            chosen = max(sample.boxes, key=lambda b: b.w * b.h)
        else:
            prev = last
            near = [b for b in sample.boxes
                    if abs(b.cx - prev.cx) <= motion.same_face * window_w + prev.w / 2]
            if not near:
                continue
            chosen = min(near, key=lambda b: abs(b.cx - prev.cx) + abs(b.cy - prev.cy))
        last, last_t = chosen, sample.t
        track.append((sample.t, chosen.cx))
    return track


def target_at(track: Sequence[tuple[float, float]], t: float) -> float:
    """Where the main face is at time `t`: straight lines between samples, held at the ends."""
    if t <= track[0][0]:
        return track[0][1]
    for (t0, x0), (t1, x1) in itertools.pairwise(track):
        if t <= t1:
            return x0 + (x1 - x0) * (t - t0) / (t1 - t0) if t1 > t0 else x1
    return track[-1][1]


def crop_path(samples: Sequence[FaceSample], width: int, height: int, fps: float,
              duration: float, motion: Motion = Motion()) -> list[int]:
    """The window's left edge for each frame (`duration * fps` frames), even numbers.

    No face at all gives a still window in the middle of the frame.
    """
    window_w = crop_width(width, height)
    frames = max(1, math.ceil(duration * fps - 1e-6))
    lowest, highest = window_w / 2, width - window_w / 2
    track = track_main_face(samples, window_w, motion)
    if not track:
        return [even((width - window_w) / 2)] * frames
    dt = 1.0 / fps
    dead, settle = motion.dead_zone * window_w, motion.settle * window_w
    top_speed, accel = motion.max_speed * window_w, motion.max_accel * window_w
    centre = min(max(target_at(track, 0.0), lowest), highest)
    speed = 0.0
    moving = False
    lefts: list[int] = []
    for n in range(frames):
        goal = min(max(target_at(track, n * dt), lowest), highest)
        gap = goal - centre
        if not moving and abs(gap) > dead:
            moving = True
        elif moving and abs(gap) < settle:
            moving = False
        wanted = max(-top_speed, min(top_speed, motion.gain * gap)) if moving else 0.0
        step = accel * dt
        speed = max(speed - step, min(speed + step, wanted))
        centre += speed * dt
        if (goal - centre) * gap < 0 and moving:  # passed the face: stop on it, no overshoot
            centre, speed = goal, 0.0
        if centre <= lowest or centre >= highest:
            centre, speed = min(max(centre, lowest), highest), 0.0
        lefts.append(min(max(0, even(centre - window_w / 2)), width - window_w))
    return lefts
