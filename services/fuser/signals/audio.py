"""Sound: how loud the second is, and how aroused the voice in it sounds.

Each second's numbers come from its half-second chunks. The voice numbers come only from
chunks with a voice in them (see `SPEECH_MIN_VOICED`): a second of silence, music without a
pitch or room noise has no pitch and no voice level (None), and None never enters the
channel's history of normal values. So calm speech is measured against calm speech, not
against the pauses between it.

Arousal is how excited a voice sounds. It is the mean of six z-scores (each held within
+-4), each against the channel's own voiced seconds: speech level, pitch level, pitch range,
brightness (spectral centroid), spectral tilt and onset strength. Excited speech is louder,
higher, wider in pitch, brighter, carries more energy up high, and starts its sounds harder.
Because each is scored against the same channel, a quiet microphone or a deep voice does not
matter: a shout stands out from that streamer's own talk. The prosody vote is "arousal at
least `voice_arousal`", on that same z scale.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

from services.fuser.rules import VoteRules
from services.fuser.zscore import RobustZ
from shared.contracts import AudioFeatures
from shared.streams import AUDIO_FEATURES

from .base import Feature, FuserSignal, Values

SPEECH_MIN_VOICED = 0.1
"""A chunk with less than this share of voiced frames holds no voice worth measuring."""
AROUSAL_PARTS = ("speech_z", "pitch_z", "pitch_range_z", "bright_z", "tilt_z", "onset_z")
"""The z-scores whose mean is the voice's arousal."""
PART_LIMIT = 4.0
"""In the arousal, each part counts up to this far from 0: one cue alone (a bright hiss, a
pitch slip) moves the mean by at most 4/6, so several cues must agree for a high score."""
RAW_NAMES = ("loud_db", "pitch_var", "speech_db", "pitch_st", "pitch_range", "bright", "tilt",
             "onset")


def summarize(chunks: Sequence[AudioFeatures]) -> Values:
    """One second of sound from its chunks. Voice numbers are None without a voiced chunk."""
    found: Values = dict.fromkeys(RAW_NAMES)
    if not chunks:
        return found
    # Average the power, not the decibels: a loud half-second should count.
    found["loud_db"] = _power_mean([a.loud_db for a in chunks])
    voiced = [a for a in chunks if a.voiced_ratio >= SPEECH_MIN_VOICED]
    found["pitch_var"] = _mean([a.f0_var for a in voiced])
    found["speech_db"] = _power_mean([a.speech_db for a in voiced if a.speech_db is not None])
    found["pitch_st"] = _mean([_semitones(a.f0_mean) for a in voiced])
    # The range within each chunk, not across them: one octave slip of the pitch tracker
    # in one chunk would otherwise stretch the whole second's range.
    found["pitch_range"] = _mean([12.0 * math.log2(a.f0_hi / a.f0_lo) for a in voiced
                                  if a.f0_hi and a.f0_lo])
    found["bright"] = _mean([a.speech_centroid for a in voiced])
    found["tilt"] = _mean([a.tilt_db for a in voiced])
    found["onset"] = _mean([a.onset_mean for a in voiced if a.speech_db is not None])
    return found


def arousal(features: Values) -> float | None:
    """How excited the voice sounds: the mean of the arousal z-scores that are there. None
    when the second has no voice."""
    parts = [min(max(v, -PART_LIMIT), PART_LIMIT)
             for v in (features.get(name) for name in AROUSAL_PARTS) if v is not None]
    return sum(parts) / len(parts) if parts else None


def votes(raw: Values, features: Values, rules: VoteRules) -> bool:
    """The voice's prosody sounds excited: its arousal is at the vote's line or above."""
    score = features.get("voice_arousal")
    return score is not None and score >= rules.voice_arousal


def _mean(values: Sequence[float | None]) -> float | None:
    kept = [v for v in values if v is not None]
    return sum(kept) / len(kept) if kept else None


def _power_mean(levels: Sequence[float]) -> float | None:
    """The level (dB) of the average power of several levels."""
    if not levels:
        return None
    return 10 * math.log10(sum(10 ** (db / 10) for db in levels) / len(levels))


def _semitones(hz: float | None) -> float | None:
    """Pitch in semitones above 100 Hz: equal steps sound equal, high voice or low."""
    return 12.0 * math.log2(hz / 100.0) if hz and hz > 0 else None


def _z(floor: float) -> Callable[[int], RobustZ]:
    """A maker of robust z-scorers for one voice number, given the warm-up. `floor` is the
    smallest spread, in the number's own unit, so a very steady voice does not make every
    small change look huge."""
    return lambda warmup: RobustZ(warmup=warmup, floor=floor)


SIGNAL = FuserSignal(
    name="audio", topic=AUDIO_FEATURES, summarize=summarize, order=10,
    features=(
        # A stream is talk and pauses: loudness is measured from the usual loud level.
        Feature("loud_z", "loud_db", 0.8, lambda w: RobustZ(warmup=w, floor=1.5,
                                                            loud_side=True)),
        Feature("pitch_var_z", "pitch_var", 0.4, lambda w: RobustZ(warmup=w, floor=0.5)),
        # The parts of arousal: each against the channel's own voiced seconds. They are not
        # model inputs themselves (few labels, many inputs: a retrain would learn noise); they
        # travel in each event row for a look.
        Feature("speech_z", "speech_db", 0.0, _z(1.0), model=False),
        Feature("pitch_z", "pitch_st", 0.0, _z(0.5), model=False),
        Feature("pitch_range_z", "pitch_range", 0.0, _z(0.5), model=False),
        Feature("bright_z", "bright", 0.0, _z(50.0), model=False),
        Feature("tilt_z", "tilt", 0.0, _z(0.5), model=False),
        Feature("onset_z", "onset", 0.0, _z(0.1), model=False),
        Feature("voice_arousal", "", 0.5, combine=arousal),
    ),
    vote="voice", votes=votes,
)
