"""Split a VOD into parts that workers can analyse at the same time. Pure: plain values in,
plain values out.

Each part is cut on keyframes (so it can be copied out without encoding) and reaches a
little before and after the stretch it is kept for: before, so the z-scores have warmed up
and a clip's lead-in is there when its stretch starts; after, so a clip of a moment near its
end is whole. The kept stretches of all parts tile the VOD, so each second is judged once.

Damaged stretches (sound that cannot be decoded) are left out: no part reaches into one.
"""

from __future__ import annotations

import bisect
import itertools
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Part:
    """One part: the media from `start` to `end` (seconds into the VOD; `start` is a
    keyframe), judged from `keep_from` to `keep_to`."""

    index: int
    start: float
    end: float
    keep_from: float
    keep_to: float

    @property
    def kept_s(self) -> float:
        return self.keep_to - self.keep_from


@dataclass(frozen=True)
class Skipped:
    """A stretch of the VOD that was not analysed, and why."""

    start: float
    end: float
    why: str


def damaged_stretches(bad: Sequence[float], join_s: float = 2.0,
                      pad_s: float = 0.5) -> list[tuple[float, float]]:
    """Times of packets that would not decode, as stretches: times less than `join_s` apart
    are one stretch, and each is padded by `pad_s` on both sides."""
    out: list[tuple[float, float]] = []
    for t in sorted(bad):
        if out and t - out[-1][1] <= join_s:
            out[-1] = (out[-1][0], t)
        else:
            out.append((t, t))
    return [(max(0.0, a - pad_s), b + pad_s) for a, b in out]


def good_stretches(length: float, keyframes: Sequence[float],
                   damaged: Sequence[tuple[float, float]]) -> tuple[list[tuple[float, float]],
                                                                   list[Skipped]]:
    """The stretches that can be read, each starting on a keyframe, and what is skipped.

    A damaged stretch widens to the keyframe before it and the keyframe after it: a part
    must start on a keyframe, and the frames after a damaged one may lean on it."""
    keys = sorted(k for k in keyframes if 0 <= k < length) or [0.0]
    good: list[tuple[float, float]] = []
    skipped: list[Skipped] = []
    at = keys[0]
    for lo, hi in sorted(damaged):
        lo, hi = max(lo, at), min(hi, length)
        if hi <= lo:
            continue
        cut = keys[max(0, bisect.bisect_right(keys, lo) - 1)]
        resume_i = bisect.bisect_left(keys, hi)
        resume = keys[resume_i] if resume_i < len(keys) else length
        if cut > at:
            good.append((at, cut))
        skipped.append(Skipped(cut, resume, "the file is damaged here: its sound could not "
                                            "be decoded"))
        at = max(at, resume)
    if at < length:
        good.append((at, length))
    return good, skipped


def plan_parts(length: float, keyframes: Sequence[float], count: int, lead_s: float,
               tail_s: float, damaged: Sequence[tuple[float, float]] = ()
               ) -> tuple[list[Part], list[Skipped]]:
    """Split the VOD's readable stretches into about `count` parts of like length, each
    starting `lead_s` (rounded back to a keyframe) before its kept stretch and ending
    `tail_s` after it; and the stretches skipped. Parts never reach into a damaged stretch."""
    keys = sorted(k for k in keyframes if 0 <= k < length) or [0.0]
    good, skipped = good_stretches(length, keys, damaged)
    readable = sum(b - a for a, b in good)
    parts: list[Part] = []
    for a, b in good:
        pieces = max(1, round(count * (b - a) / readable)) if readable > 0 else 1
        edges = [a] + [_key_at_or_before(keys, a + (b - a) * i / pieces, a)
                       for i in range(1, pieces)] + [b]
        edges = sorted(set(edges))
        for lo, hi in itertools.pairwise(edges):
            start = _key_at_or_before(keys, lo - lead_s, a)
            parts.append(Part(len(parts), start, min(b, hi + tail_s), lo, hi))
    return parts, skipped


def _key_at_or_before(keys: Sequence[float], t: float, floor: float) -> float:
    """The last keyframe at or before `t`, but not before `floor` (itself a keyframe)."""
    i = bisect.bisect_right(keys, t) - 1
    return max(floor, keys[i]) if i >= 0 else floor
