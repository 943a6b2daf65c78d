"""Which layout a short gets, and the rectangles it cuts from the source. Pure.

- `crop`: one 9:16 window that follows the main face (see `crop.py`).
- `stack`: the facecam on top, the gameplay below. Used when the faces sit still in one
  corner of the stream: that is a facecam laid over the game.
- `auto`: `stack` when a facecam corner is found, else `crop`.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from .crop import Box, FaceSample, crop_path, crop_width, even

LayoutName = Literal["auto", "crop", "stack"]
LAYOUTS: tuple[LayoutName, ...] = ("auto", "crop", "stack")

TOP_SHARE = 0.4
"""The facecam panel's share of the short's height in `stack`."""
CORNER = 0.3
"""A facecam's centre lies in the outer 30% of the frame, both across and down."""
STEADY = 0.05
"""A facecam's face moves less than this part of the frame's width from its usual place."""
SEEN_SHARE = 0.6
"""The corner face must be in at least this share of the frames that have faces."""
SMALL_FACE = 0.12
"""A facecam's face is narrower than this part of the frame (a big face is a camera stream)."""
CAM_ZOOM = 2.6
"""The facecam panel shows this many face heights."""


@dataclass(frozen=True)
class Rect:
    """A rectangle of the source: left, top, width, height (even numbers)."""

    x: int
    y: int
    w: int
    h: int


@dataclass(frozen=True)
class Plan:
    """How the short is cut from the source."""

    layout: Literal["crop", "stack"]
    lefts: tuple[int, ...] = ()
    """`crop`: the window's left edge for each frame."""
    window: Rect | None = None
    """`crop`: the window's size (its `x` is the first frame's)."""
    facecam: Rect | None = None
    """`stack`: the part of the source shown in the top panel."""
    game: Rect | None = None
    """`stack`: the part of the source shown below it."""
    note: str = ""
    """What was decided, in words (e.g. "no face: centre crop")."""


def _in_corner(box: Box, width: int, height: int) -> bool:
    fx, fy = box.cx / width, box.cy / height
    return (fx < CORNER or fx > 1 - CORNER) and (fy < CORNER or fy > 1 - CORNER)


def find_facecam(samples: Sequence[FaceSample], width: int, height: int) -> Box | None:
    """The usual face box of a facecam in a corner, or None when the faces are not one."""
    seen = [s for s in samples if s.boxes]
    if not seen:
        return None
    corner = [b for s in seen for b in s.boxes[:1] if _in_corner(b, width, height)]
    if len(corner) < SEEN_SHARE * len(seen):
        return None
    usual = Box(*(statistics.median(getattr(b, k) for b in corner) for k in "xywh"))
    if usual.w > SMALL_FACE * width:
        return None
    steady = [b for b in corner if abs(b.cx - usual.cx) < STEADY * width
              and abs(b.cy - usual.cy) < STEADY * width]
    return usual if len(steady) >= SEEN_SHARE * len(seen) else None


def fit_rect(cx: float, cy: float, w: float, h: float, width: int, height: int) -> Rect:
    """A rectangle of size w x h around (cx, cy), made to fit in the frame (shrunk if it must
    be, keeping its shape, then moved inside)."""
    scale = min(1.0, width / w, height / h)
    w, h = even(w * scale), even(h * scale)
    x = min(max(0, even(cx - w / 2)), width - w)
    y = min(max(0, even(cy - h / 2)), height - h)
    return Rect(x, y, w, h)


def stack_rects(face: Box, width: int, height: int, out_w: int,
                out_h: int) -> tuple[Rect, Rect]:
    """The facecam and gameplay rectangles for `stack`, shaped like their panels."""
    top_h = even(out_h * TOP_SHARE)
    cam_h = face.h * CAM_ZOOM
    cam = fit_rect(face.cx, face.cy, cam_h * out_w / top_h, cam_h, width, height)
    game_aspect = out_w / (out_h - top_h)
    game = fit_rect(width / 2, height / 2, height * game_aspect, height, width, height)
    return cam, game


def panel_rect(given: Rect, width: int, height: int, out_w: int, out_h: int) -> Rect:
    """A facecam rectangle set by hand, cut to the top panel's shape around its centre (so
    nothing is stretched), inside the frame."""
    aspect = out_w / even(out_h * TOP_SHARE)
    w, h = float(given.w), float(given.h)
    if w / h > aspect:
        w = h * aspect
    else:
        h = w / aspect
    return fit_rect(given.x + given.w / 2, given.y + given.h / 2, w, h, width, height)


def plan_layout(asked: LayoutName, samples: Sequence[FaceSample], width: int, height: int,
                fps: float, duration: float, out_w: int, out_h: int,
                facecam: Rect | None = None) -> Plan:
    """Pick the layout (for `auto`) and work out what to cut. Never fails: with no face, a
    still centre window; `stack` asked for with no facecam corner found puts the main face
    (where it was in the middle sample) in the top panel, and with no face at all falls back
    to a centre `crop`. A `facecam` rectangle set by hand makes `auto` and `stack` use it."""
    if facecam is not None and asked in ("auto", "stack"):
        game = stack_rects(Box(0, 0, 2, 2), width, height, out_w, out_h)[1]
        return Plan(layout="stack", facecam=panel_rect(facecam, width, height, out_w, out_h),
                    game=game, note="stack: the facecam rectangle set for the channel")
    cam = find_facecam(samples, width, height)
    if asked == "stack" or (asked == "auto" and cam is not None):
        if cam is None:
            firsts = [s.boxes[0] for s in samples if s.boxes]
            if not firsts:
                return _crop(samples, width, height, fps, duration,
                             "stack asked for, but no face found: centre crop")
            cam = firsts[len(firsts) // 2]
            note = "stack: no steady facecam corner found, so the main face is the top panel"
        else:
            note = "stack: a facecam sits in a corner"
        facecam, game = stack_rects(cam, width, height, out_w, out_h)
        return Plan(layout="stack", facecam=facecam, game=game, note=note)
    note = "crop: the window follows the main face"
    if not any(s.boxes for s in samples):
        note = "crop: no face found, so the window stays in the centre"
    return _crop(samples, width, height, fps, duration, note)


def _crop(samples: Sequence[FaceSample], width: int, height: int, fps: float, duration: float,
          note: str) -> Plan:
    lefts = crop_path(samples, width, height, fps, duration)
    window_w = crop_width(width, height)
    window_h = min(height, even(window_w * 16 / 9))  # a source taller than 9:16 is cut too
    window = Rect(lefts[0], even((height - window_h) / 2), window_w, window_h)
    return Plan(layout="crop", lefts=tuple(lefts), window=window, note=note)
