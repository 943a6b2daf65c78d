"""Score what a caption means: mood (VADER), hype words, and closeness to excited phrases.

Pure code on strings. The sentence model comes in as a plain function (`Embed`) that turns
texts into unit-length vectors, so tests and benchmarks can hand in the real model and this
module never loads anything itself.

Text is cleaned first (`clean_text`): speech-to-text tags like "[Music]" and symbols such as
emoji are dropped (captions are speech; an emoji there is not something the streamer said),
and very long text is cut. Text with no letters or digits left scores neutral: sentiment 0,
no hype words, similarities 0.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

from services.semantic.hype import HypeMatcher

Embed = Callable[[list[str]], np.ndarray]
"""Turns texts into unit-length vectors, one row per text."""

MAX_CHARS = 2_000
"""Longer text is cut: a caption burst is a few hundred characters, and the sentence model
reads only its first 256 word pieces anyway."""

_TAG = re.compile(r"\[[^\]]*\]")
_SPACE = re.compile(r"\s+")


def clean_text(text: str) -> str:
    """The words of a caption, ready to score: tags, symbols and extra spaces removed."""
    text = _TAG.sub(" ", text[: MAX_CHARS * 2])
    kept = "".join(
        ch for ch in text if ch.isspace() or unicodedata.category(ch)[0] not in "SC"
    )
    kept = _SPACE.sub(" ", kept).strip()[:MAX_CHARS]
    return kept if any(ch.isalnum() for ch in kept) else ""


def make_analyzer(lexicon: Mapping[str, float]) -> SentimentIntensityAnalyzer:
    """VADER, with some word scores added or replaced (stream talk: "insane" is praise)."""
    analyzer = SentimentIntensityAnalyzer()
    analyzer.lexicon.update({word.lower(): float(score) for word, score in lexicon.items()})
    return analyzer


def sentiment(analyzer: SentimentIntensityAnalyzer, text: str) -> float:
    """VADER's compound score, -1 (gloomy) .. 1 (happy); 0 for empty text."""
    if not text:
        return 0.0
    score = float(analyzer.polarity_scores(text)["compound"])
    return min(1.0, max(-1.0, score)) if math.isfinite(score) else 0.0


@dataclass(frozen=True)
class Seeds:
    """The excited and calm seed phrases, embedded once at start."""

    excited: np.ndarray
    calm: np.ndarray

    @classmethod
    def build(cls, embed: Embed, excited: Sequence[str], calm: Sequence[str]) -> Seeds:
        if not excited or not calm:
            raise ValueError("need at least one excited and one calm seed phrase")
        return cls(excited=_unit(embed(list(excited))), calm=_unit(embed(list(calm))))


def closeness(vector: np.ndarray, seeds: Seeds) -> tuple[float, float]:
    """(excited_sim, excited_margin) for one unit vector.

    excited_sim is the highest cosine to an excited seed; excited_margin is that minus the
    highest cosine to a calm seed, so plain talk that is merely "about the game" scores low.
    """
    excited = float(np.max(seeds.excited @ vector))
    calm = float(np.max(seeds.calm @ vector))
    if not (math.isfinite(excited) and math.isfinite(calm)):
        return 0.0, 0.0
    return excited, excited - calm


def _unit(matrix: np.ndarray) -> np.ndarray:
    """Rows scaled to length 1 (rows of zeros stay zero), as float32."""
    matrix = np.nan_to_num(np.asarray(matrix, dtype=np.float32))
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return matrix / np.where(norms > 0, norms, 1.0)


@dataclass(frozen=True)
class Scores:
    """What one caption meant."""

    text: str
    sentiment: float
    hype_words: list[str]
    excited_sim: float
    excited_margin: float


@dataclass(frozen=True)
class TextScorer:
    """Everything needed to score a caption, built once per process."""

    analyzer: SentimentIntensityAnalyzer
    hype: HypeMatcher
    embed: Embed
    seeds: Seeds

    @classmethod
    def build(
        cls, embed: Embed, *, hype_words: Sequence[str], excited: Sequence[str],
        calm: Sequence[str], lexicon: Mapping[str, float], threshold: float,
    ) -> TextScorer:
        return cls(analyzer=make_analyzer(lexicon), hype=HypeMatcher(hype_words, threshold),
                   embed=embed, seeds=Seeds.build(embed, excited, calm))

    def score(self, raw: str) -> Scores:
        """Score one caption's text."""
        text = clean_text(raw)
        if not text:
            return Scores(text="", sentiment=0.0, hype_words=[], excited_sim=0.0,
                          excited_margin=0.0)
        vector = _unit(self.embed([text]))[0]
        excited_sim, margin = closeness(vector, self.seeds)
        return Scores(text=text, sentiment=sentiment(self.analyzer, text),
                      hype_words=self.hype.find(text), excited_sim=excited_sim,
                      excited_margin=margin)
