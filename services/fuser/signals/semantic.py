"""Words: the mood of what was said, hype words, and how close it is to excited phrases.
Excited words make the voice vote too. Words come only when someone speaks, so a second
never waits for them and is never marked missing without them."""

from __future__ import annotations

from collections.abc import Sequence

from services.fuser.rules import VoteRules
from services.fuser.zscore import RobustZ
from shared.contracts import Semantic
from shared.streams import SEMANTIC

from .base import Feature, FuserSignal, Values


def summarize(words: Sequence[Semantic]) -> Values:
    if not words:
        return {"sentiment": None, "hype_words": None, "excited_margin": None, "words": None}
    return {
        "sentiment": sum(w.sentiment for w in words) / len(words),
        "hype_words": float(sum(len(w.hype_words) for w in words)),
        "excited_margin": max(w.excited_margin for w in words),
        "words": float(sum(len(w.text.split()) for w in words)),
    }


def votes(raw: Values, features: Values, rules: VoteRules) -> bool:
    """Excited words: several hype words, or one in a glad sentence of a few words. The mood
    is VADER's own score (-1..1), compared with a line on that same scale."""
    hype, mood, said = raw.get("hype_words"), raw.get("sentiment"), raw.get("words")
    return hype is not None and (
        hype >= rules.voice_hype_words
        or (hype >= 1 and mood is not None and mood >= rules.voice_sentiment
            and said is not None and said >= rules.voice_sentiment_words))


SIGNAL = FuserSignal(
    name="semantic", topic=SEMANTIC, summarize=summarize, order=30, steady=False, spans=True,
    features=(
        Feature("sentiment_z", "sentiment", 0.3,
                lambda w: RobustZ(warmup=max(3, w // 4), floor=0.1)),
        Feature("hype_words", "hype_words", 0.8),
        Feature("excited_margin", "excited_margin", 3.0),
    ),
    # A phrase's meaning is stamped at its first word and comes once the phrase is final, its
    # length plus a pause and a pass later: often after its seconds closed. Seconds never wait
    # for it (it is not steady); a late phrase that votes still votes for the seconds it covers.
    vote="voice", votes=votes,
)
