"""Motion: how much the picture moves, from the stream's own motion vectors."""

from __future__ import annotations

from collections.abc import Sequence

from services.fuser.zscore import RobustZ
from shared.contracts import Motion
from shared.streams import MOTION

from .base import Feature, FuserSignal, Values


def summarize(parts: Sequence[Motion]) -> Values:
    if not parts:
        return {"motion_avg": None}
    frames = sum(max(m.frames, 1) for m in parts)
    return {"motion_avg": sum(m.motion_avg * max(m.frames, 1) for m in parts) / frames}


SIGNAL = FuserSignal(
    name="motion", topic=MOTION, summarize=summarize, order=20,
    features=(Feature("motion_z", "motion_avg", 0.5, lambda w: RobustZ(warmup=w, floor=0.25)),),
)
