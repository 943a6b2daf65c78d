"""Scoring a caption with the real model: mood, hype words and excitement."""

from __future__ import annotations

import math

import numpy as np
import pytest

from services.semantic.model import load_embed
from services.semantic.scores import Seeds, TextScorer, clean_text, make_analyzer, sentiment
from shared.settings import (
    DEFAULT_CALM_PHRASES,
    DEFAULT_EXCITED_PHRASES,
    DEFAULT_HYPE_WORDS,
    DEFAULT_STREAM_LEXICON,
)

HYPED = "oh my god that was an insane clutch"
CALM = "let me check the settings menu"


@pytest.fixture(scope="module")
def scorer() -> TextScorer:
    """The real MiniLM model from its package, loaded once for the module."""
    return TextScorer.build(
        load_embed(1), hype_words=DEFAULT_HYPE_WORDS, excited=DEFAULT_EXCITED_PHRASES,
        calm=DEFAULT_CALM_PHRASES, lexicon=DEFAULT_STREAM_LEXICON, threshold=85,
    )


def test_the_model_gives_unit_vectors_that_know_meaning() -> None:
    embed = load_embed(1)
    vectors = embed(["what a play", "what an amazing move", "the soup is cold"])
    assert vectors.shape == (3, 384)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1, atol=1e-4)
    assert vectors[0] @ vectors[1] > vectors[0] @ vectors[2]


def test_a_hyped_phrase_beats_a_calm_one(scorer: TextScorer) -> None:
    hyped, calm = scorer.score(HYPED), scorer.score(CALM)
    assert len(hyped.hype_words) >= 2
    assert hyped.sentiment > 0
    assert hyped.excited_sim > calm.excited_sim
    assert hyped.excited_margin > calm.excited_margin
    assert hyped.excited_margin > 0 > calm.excited_margin
    assert calm.hype_words == []


def test_stream_words_turn_vader_around() -> None:
    # Plain VADER reads "insane" as gloomy; on a stream it is praise.
    assert sentiment(make_analyzer({}), HYPED) < 0
    assert sentiment(make_analyzer(DEFAULT_STREAM_LEXICON), HYPED) > 0


@pytest.mark.parametrize(
    "garbage",
    ["", "   ", "asdkjh qwe zzz", "😀😂🔥💯", "x" * 5000, "qwertyuiop asdfghjkl zxcvbnm " * 180],
    ids=["empty", "spaces", "keyboard-mash", "emoji", "5000-x", "5000-words"],
)
def test_garbage_scores_neutral(scorer: TextScorer, garbage: str) -> None:
    found = scorer.score(garbage)
    assert found.hype_words == []
    # Near 0. "zzz" is a real VADER word (bored, -1.2): alone it gives -0.30.
    assert abs(found.sentiment) <= 0.3
    assert math.isfinite(found.excited_sim) and math.isfinite(found.excited_margin)
    assert found.excited_sim < 0.5 and found.excited_margin < 0.2
    assert found.excited_sim < scorer.score(HYPED).excited_sim


def test_text_with_nothing_said_scores_exactly_zero(scorer: TextScorer) -> None:
    for text in ["", "   ", "😀😂🔥💯", "[Music]", "♪ ♪"]:
        found = scorer.score(text)
        assert (found.sentiment, found.excited_sim, found.excited_margin) == (0, 0, 0)


def test_clean_text_drops_tags_symbols_and_extra_length() -> None:
    assert clean_text("  [Music] oh   my god 🔥!! ") == "oh my god !!"
    assert clean_text("🔥🔥") == ""
    assert len(clean_text("word " * 3000)) <= 2000


def test_seeds_need_both_kinds(scorer: TextScorer) -> None:
    with pytest.raises(ValueError, match="seed"):
        Seeds.build(scorer.embed, ["let's go"], [])
