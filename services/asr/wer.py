"""Word error rate: how far a transcript is from what was really said."""

from __future__ import annotations

from services.asr.streaming import norm

SPOKEN = {"mr": "mister", "mrs": "missus", "dr": "doctor", "st": "saint", "vs": "versus"}
"""Written short forms, as they are said: "Mr." and "mister" are the same word spoken."""


def words_of(text: str) -> list[str]:
    """Lower-case words without punctuation; a hyphen parts words ("cold-hearted" is "cold
    hearted"), and short forms are written out, as common WER scorers do."""
    words = (norm(part) for part in text.replace("-", " ").split())
    return [SPOKEN.get(w, w) for w in words if w]


def wer(reference: str, hypothesis: str) -> float:
    """(substitutions + deletions + insertions) / words in the reference (edit distance)."""
    ref, hyp = words_of(reference), words_of(hypothesis)
    if not ref:
        return float(len(hyp) > 0)
    row = list(range(len(hyp) + 1))  # distance from ref[:0] to each prefix of hyp
    for i, r in enumerate(ref, 1):
        diag, row[0] = row[0], i
        for j, h in enumerate(hyp, 1):
            diag, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, diag + (r != h))
    return row[-1] / len(ref)
