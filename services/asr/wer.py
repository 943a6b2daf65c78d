"""Word error rate: how far a transcript is from what was really said."""

from __future__ import annotations

from services.asr.streaming import norm


def words_of(text: str) -> list[str]:
    """Lower-case words without punctuation."""
    return [w for w in (norm(part) for part in text.split()) if w]


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
