"""Sound: how loud the second is and how lively the voice's pitch is. Loud and lively
together make the voice vote."""

from __future__ import annotations

import math
from collections.abc import Sequence

from services.fuser.rules import VoteRules
from services.fuser.zscore import RobustZ
from shared.contracts import AudioFeatures
from shared.streams import AUDIO_FEATURES

from .base import Feature, FuserSignal, Values


def summarize(chunks: Sequence[AudioFeatures]) -> Values:
    if not chunks:
        return {"loud_db": None, "pitch_var": None}
    # Average the power, not the decibels: a loud half-second should count.
    loud = 10 * math.log10(sum(10 ** (a.loud_db / 10) for a in chunks) / len(chunks))
    voiced = [a.f0_var for a in chunks if a.voiced_ratio > 0]
    return {"loud_db": loud, "pitch_var": sum(voiced) / len(voiced) if voiced else 0.0}


def votes(raw: Values, features: Values, rules: VoteRules) -> bool:
    """Loud and lively: the voice's prosody sounds excited."""
    loud, pitch = features.get("loud_z"), features.get("pitch_var_z")
    return (loud is not None and pitch is not None
            and loud >= rules.voice_loud_z and pitch >= rules.voice_pitch_z)


SIGNAL = FuserSignal(
    name="audio", topic=AUDIO_FEATURES, summarize=summarize, order=10,
    features=(
        # A stream is talk and pauses: loudness is measured from the usual loud level.
        Feature("loud_z", "loud_db", 0.8, lambda w: RobustZ(warmup=w, floor=1.5,
                                                            loud_side=True)),
        Feature("pitch_var_z", "pitch_var", 0.4, lambda w: RobustZ(warmup=w, floor=0.5)),
    ),
    vote="voice", votes=votes,
)
