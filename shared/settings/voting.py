"""Settings for the 2-of-3 rule: where each vote's line is.

Each line is on the scale of the number it is compared with: the voice's arousal is a mean of
z-scores, the words' mood is VADER's compound score (-1..1), the face's excitement is -1..1.
"""

from __future__ import annotations

from pydantic import BaseModel, Field


class VoteSettings(BaseModel):
    """The votes of the 2-of-3 rule (hype chat, voice, face)."""

    vote_voice_arousal: float = Field(
        default=1.5, ge=0, le=4,
        description="The voice votes when its arousal is at least this: the mean of six "
                    "z-scores against the channel's own speech (speech level, pitch, pitch "
                    "range, brightness, spectral tilt, onset strength).",
    )
    vote_hype_words: int = Field(
        default=2, ge=1, le=20,
        description="This many hype words heard in one second make the voice vote.",
    )
    vote_sentiment: float = Field(
        default=0.4, ge=-1, le=1,
        description="One hype word makes the voice vote when the words' mood (VADER's "
                    "compound score, -1..1) is at least this...",
    )
    vote_sentiment_words: int = Field(
        default=4, ge=1, le=50,
        description="...and at least this many words were said with it (one hype word "
                    "alone scores 0.4-0.6 by itself and must not vote).",
    )
    vote_face_excitement: float = Field(
        default=0.4, ge=-1, le=1,
        description="The face votes when its excitement (-1..1) is at least this.",
    )
