"""Turn one closed second into the numbers the model and the 2-of-3 rule look at.

Raw values come from the signals heard in that second. Loudness, pitch variance, motion and
sentiment are then scored against the channel's own normal (robust z-scores). A signal that did
not report is None here, and stays None: the model reads it as "nothing unusual" (0), and the
2-of-3 rule never counts it as a vote.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from services.fuser.buckets import Second
from services.fuser.zscore import RobustZ

FEATURES: tuple[str, ...] = (
    "loud_z", "pitch_var_z", "motion_z", "sentiment_z", "hype_words", "excited_margin",
    "chat_rate_z", "face_excitement",
)
"""The model's inputs, in order. Saved with every model, checked at load."""


@dataclass(frozen=True)
class Raw:
    """The plain numbers of one second (None: the signal did not report)."""

    loud_db: float | None
    pitch_var: float | None
    motion_avg: float | None
    sentiment: float | None
    hype_words: float | None
    excited_margin: float | None
    face_excitement: float | None
    missing: tuple[str, ...]


def raw_values(second: Second) -> Raw:
    """Sum up each signal over the second."""
    audio = list(second.audio.values())
    motion = list(second.motion.values())
    words = list(second.semantic.values())
    faces = [f for f in second.face.values() if f.present]
    missing = tuple(name for name, found in (("audio", audio), ("motion", motion),
                                             ("face", second.face)) if not found)
    loud = None
    if audio:  # Average the power, not the decibels: a loud half-second should count.
        loud = 10 * math.log10(sum(10 ** (a.loud_db / 10) for a in audio) / len(audio))
    voiced = [a.f0_var for a in audio if a.voiced_ratio > 0]
    pitch_var = (sum(voiced) / len(voiced) if voiced else 0.0) if audio else None
    frames = sum(max(m.frames, 1) for m in motion)
    motion_avg = sum(m.motion_avg * max(m.frames, 1) for m in motion) / frames if motion else None
    return Raw(
        loud_db=loud,
        pitch_var=pitch_var,
        motion_avg=motion_avg,
        sentiment=sum(w.sentiment for w in words) / len(words) if words else None,
        hype_words=float(sum(len(w.hype_words) for w in words)) if words else None,
        excited_margin=max(w.excited_margin for w in words) if words else None,
        face_excitement=sum(f.excitement for f in faces) / len(faces) if faces else None,
        missing=missing,
    )


@dataclass
class ChannelNormals:
    """The running z-scores of one channel."""

    warmup: int = 20
    loud: RobustZ = field(init=False)
    pitch_var: RobustZ = field(init=False)
    motion: RobustZ = field(init=False)
    sentiment: RobustZ = field(init=False)

    def __post_init__(self) -> None:
        self.loud = RobustZ(warmup=self.warmup, floor=1.5, loud_side=True)  # dB
        self.pitch_var = RobustZ(warmup=self.warmup, floor=0.5)
        self.motion = RobustZ(warmup=self.warmup, floor=0.25)
        self.sentiment = RobustZ(warmup=max(3, self.warmup // 4), floor=0.1)

    def features(self, raw: Raw, chat_rate_z: float | None) -> dict[str, float | None]:
        """The model's features for this second, with None where a signal is missing."""
        return {
            "loud_z": self.loud.score(raw.loud_db),
            "pitch_var_z": self.pitch_var.score(raw.pitch_var),
            "motion_z": self.motion.score(raw.motion_avg),
            "sentiment_z": self.sentiment.score(raw.sentiment),
            "hype_words": raw.hype_words,
            "excited_margin": raw.excited_margin,
            "chat_rate_z": chat_rate_z,
            "face_excitement": raw.face_excitement,
        }


def model_inputs(features: dict[str, float | None]) -> list[float]:
    """The features in model order, with missing ones read as 0 ("nothing unusual")."""
    return [features.get(name) or 0.0 for name in FEATURES]
