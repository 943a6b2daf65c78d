"""The streamer's face: how excited it looks (surprise, joy, anger or fear over calm)."""

from __future__ import annotations

from collections.abc import Sequence

from services.fuser.rules import VoteRules
from shared.contracts import FaceSecond
from shared.streams import FACE

from .base import Feature, FuserSignal, Values


def summarize(seconds: Sequence[FaceSecond]) -> Values:
    faces = [f for f in seconds if f.present]
    return {"face_excitement": sum(f.excitement for f in faces) / len(faces) if faces else None}


def votes(raw: Values, features: Values, rules: VoteRules) -> bool:
    excitement = features.get("face_excitement")
    return excitement is not None and excitement >= rules.face_excitement


SIGNAL = FuserSignal(
    name="face", topic=FACE, summarize=summarize, order=50,
    # Frames come per 2 s segment, after motion has decoded it, then the face model runs:
    # face seconds come a few seconds after sound. A second waits this long for them.
    lateness_s=8.0,
    features=(Feature("face_excitement", "face_excitement", 1.0),),
    vote="face", votes=votes,
)
