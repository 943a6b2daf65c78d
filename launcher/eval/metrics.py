"""Scores for `clip-live eval`: precision, recall, F1, ROC AUC and a confusion matrix.

Pure functions on plain lists, so each is easy to check by hand. AUC comes from
scikit-learn, which the fuser's model already uses.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sklearn.metrics import roc_auc_score, roc_curve


def prf(true_positive: int, predicted: int, actual: int,
        found: int | None = None) -> dict[str, float | None]:
    """Precision, recall and F1 from counts. None where a share has nothing to count.

    `found`: how many of the actual ones were found, when that is not `true_positive` (two
    detections of one highlight are two good detections, but one highlight found)."""
    precision = true_positive / predicted if predicted else None
    recall = (true_positive if found is None else found) / actual if actual else None
    f1 = (2 * precision * recall / (precision + recall)
          if precision is not None and recall is not None and precision + recall > 0
          else (0.0 if precision is not None and recall is not None else None))
    return {"precision": _round(precision), "recall": _round(recall), "f1": _round(f1)}


def binary_scores(truth: Sequence[bool], predicted: Sequence[bool]) -> dict[str, Any]:
    """P/R/F1 and the 2 x 2 confusion matrix of yes/no predictions against yes/no truth."""
    tp = sum(t and p for t, p in zip(truth, predicted, strict=True))
    fp = sum(p and not t for t, p in zip(truth, predicted, strict=True))
    fn = sum(t and not p for t, p in zip(truth, predicted, strict=True))
    tn = len(truth) - tp - fp - fn
    return {**prf(tp, tp + fp, tp + fn),
            "confusion": {"true_yes": tp, "false_yes": fp, "false_no": fn, "true_no": tn}}


def auc(truth: Sequence[bool], scores: Sequence[float]) -> float | None:
    """ROC AUC: the chance that a random "yes" scores above a random "no" (0.5: no better
    than a coin). None when either side has no example."""
    if len(set(truth)) < 2:
        return None
    return round(float(roc_auc_score(list(truth), list(scores))), 4)


def roc_points(truth: Sequence[bool], scores: Sequence[float]) -> dict[str, list[float | None]]:
    """The ROC curve (false-yes rate, true-yes rate, and the line at each point), for plots."""
    if len(set(truth)) < 2:
        return {"fpr": [], "tpr": [], "thresholds": []}
    fpr, tpr, lines = roc_curve(list(truth), list(scores))
    finite = [float(x) if abs(x) != float("inf") else None for x in lines]
    return {"fpr": [round(float(x), 4) for x in fpr], "tpr": [round(float(x), 4) for x in tpr],
            "thresholds": [None if x is None else round(x, 4) for x in finite]}


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 4)
