"""The streamer's face: how excited it looks (joy, surprise or fear over calm).

The face worker sends, per second, the face's emotions and its excitement (-1..1; see
`services/face/aggregate.py`). The face vote is cast when the excitement is at least the
`vote_face_excitement` setting, and never when the face's main emotion that second is one
that is not excitement (disgust, contempt, sadness, calm): a disgusted grimace must not
pass for a thrill, whatever mix of other emotions the model also saw in it.
"""

from __future__ import annotations

from collections.abc import Sequence

from services.fuser.rules import VoteRules
from shared.contracts import FaceSecond
from shared.streams import FACE

from .base import Feature, FuserSignal, Values

NEVER_EXCITED = ("disgust", "contempt", "sad", "neutral")
"""A face whose main emotion is one of these never casts the face vote."""


def main_emotion(faces: Sequence[FaceSecond]) -> str:
    """The emotion with the highest mean probability over the seconds with a face ('' when
    no second says which)."""
    totals: dict[str, float] = {}
    for face in faces:
        for label, p in face.emotions.items():
            totals[label] = totals.get(label, 0.0) + p
    if totals:
        return max(totals, key=lambda k: totals[k])
    return next((f.dominant for f in faces if f.dominant), "")


def summarize(seconds: Sequence[FaceSecond]) -> Values:
    faces = [f for f in seconds if f.present]
    if not faces:
        return {"face_excitement": None, "face_calm": None}
    return {"face_excitement": sum(f.excitement for f in faces) / len(faces),
            "face_calm": 1.0 if main_emotion(faces) in NEVER_EXCITED else 0.0}


def votes(raw: Values, features: Values, rules: VoteRules) -> bool:
    """Excited enough, and not a face whose main emotion is never excitement."""
    excitement = features.get("face_excitement")
    if excitement is None or raw.get("face_calm") == 1.0:
        return False
    return excitement >= rules.face_excitement


SIGNAL = FuserSignal(
    name="face", topic=FACE, summarize=summarize, order=50,
    # Frames come per 2 s segment, after motion has decoded it, then the face model runs:
    # face seconds come a few seconds after sound. A second waits this long for them.
    lateness_s=8.0,
    features=(Feature("face_excitement", "face_excitement", 1.0),),
    vote="face", votes=votes,
)
