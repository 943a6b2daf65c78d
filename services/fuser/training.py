"""How a model is learned from labelled seconds, and how it is judged. Pure: plain arrays in,
a model and numbers out.

- Class balance: exciting seconds are rare, so each class weighs the same in total.
- Held out by time: the seconds, in time order, are cut into `FOLDS` long stretches; each is
  scored by a model trained on the others, leaving out `PURGE_S` seconds on each side of it
  (neighbouring seconds look alike and share a label window, so they would leak).
- Context: the model may also read each feature's mean over the seconds before and its rise
  over that mean (see `model.context_value`). It keeps them only when they raise the held-out
  AUC by at least `CONTEXT_GAIN`.
- Calibration: Platt scaling on the held-out scores (a logistic fit of the labels on the score),
  folded into the model's weights, so it stays one logistic regression and its P means what
  it says: of the held-out seconds with P at or above the fuser's threshold, the share that
  chat found exciting is reported.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score

from services.fuser.model import CONTEXT_S, context_names, logistic

FOLDS = 5
PURGE_S = 30
CONTEXT_GAIN = 0.005
SHARPEN_Q = 0.9
SHARPEN_MIN = 10
Learner = Callable[[np.ndarray, np.ndarray, np.ndarray], LogisticRegression]
"""Fits a model to rows `x`, labels `y` and weights `w`."""


def fit_balanced(x: np.ndarray, y: np.ndarray, w: np.ndarray) -> LogisticRegression:
    """The default learner: a logistic regression with balanced classes, fitted twice.

    Chat marks a window of about 16 s for a moment that lasts a few, so most seconds labelled
    exciting look calm. The second fit leaves out the exciting-labelled seconds that the first
    scored below `SHARPEN_Q` of the calm ones: most likely the calm part of their window. (It
    fires on 94 % of planted moments instead of 81 %, over ten generated channels.)"""
    first = _logistic(x, y, w)
    score = first.decision_function(x)
    if not (y == 0).any():
        return first
    keep = (y == 0) | (score >= np.quantile(score[y == 0], SHARPEN_Q))
    if (y[keep] == 1).sum() < SHARPEN_MIN:
        return first
    return _logistic(x[keep], y[keep], w[keep])


def _logistic(x: np.ndarray, y: np.ndarray, w: np.ndarray) -> LogisticRegression:
    return LogisticRegression(class_weight="balanced", max_iter=1000).fit(x, y, sample_weight=w)


def with_context(x: np.ndarray, times: np.ndarray) -> np.ndarray:
    """One session's rows (in time order) with their context columns added after them, in
    the order of `context_names`: for each feature, its mean over the `CONTEXT_S` seconds
    before (fewer at the session's start; 0 when there are none), and its rise over that
    mean. A second with no row counts as 0, as a second whose signals were all missing does
    in the fuser."""
    if len(times) == 0:
        return np.zeros((0, 3 * x.shape[1]))
    first = int(times[0])
    span = int(times[-1]) - first + 1
    dense = np.zeros((span + 1, x.shape[1]))
    dense[times - first + 1] = x  # row 0 stays empty, for the seconds before the first
    sums = np.cumsum(dense, axis=0)
    at = times - first + 1
    lo = np.maximum(at - CONTEXT_S - 1, 0)
    n = np.minimum(at - 1, CONTEXT_S)[:, None].astype(float)
    before = np.divide(sums[at - 1] - sums[lo], n, out=np.zeros_like(x), where=n > 0)
    rise = x - before
    pairs = np.stack([before, rise], axis=2).reshape(len(x), -1)  # f@before, f@rise, ...
    return np.hstack([x, pairs])


def all_columns(names: Sequence[str]) -> list[str]:
    """The columns `with_context` gives for these features."""
    return [*names, *context_names(names)]


@dataclass
class Table:
    """Labelled seconds: rows `x` with `columns`, labels `y`, weights `w`, and where each row
    sits in time (`session` number, stream second `t`), in time order."""

    x: np.ndarray
    y: np.ndarray
    w: np.ndarray
    session: np.ndarray
    t: np.ndarray
    columns: list[str]


def time_folds(table: Table, folds: int = FOLDS,
               purge_s: float = PURGE_S) -> list[tuple[np.ndarray, np.ndarray]]:
    """(train, held out) masks: `folds` long stretches in time order, each held out once,
    with `purge_s` seconds on each side of it kept out of training."""
    n = len(table.y)
    fold = np.minimum((np.arange(n) * folds) // max(n, 1), folds - 1)
    out = []
    for k in range(folds):
        held = fold == k
        train = ~held
        for s in np.unique(table.session[held]):
            here = table.session == s
            lo, hi = table.t[held & here].min(), table.t[held & here].max()
            train &= ~(here & (table.t >= lo - purge_s) & (table.t <= hi + purge_s))
        out.append((train, held))
    return out


def held_out_scores(learner: Learner, x: np.ndarray, table: Table,
                    folds: list[tuple[np.ndarray, np.ndarray]]) -> np.ndarray:
    """Each row's score from a model that did not train near it (NaN when no such model
    could be made: a training part with one kind of label)."""
    scores = np.full(len(table.y), np.nan)
    for train, held in folds:
        if len(np.unique(table.y[train])) < 2 or not held.any():
            continue
        model = learner(x[train], table.y[train], table.w[train])
        scores[held] = model.decision_function(x[held])
    return scores


def auc(y: np.ndarray, scores: np.ndarray) -> float | None:
    """ROC AUC over the rows that have a score; None when one kind of label is missing."""
    ok = ~np.isnan(scores)
    if len(np.unique(y[ok])) < 2:
        return None
    return float(roc_auc_score(y[ok], scores[ok]))


def platt(scores: np.ndarray, y: np.ndarray, w: np.ndarray) -> tuple[float, float]:
    """(a, b) so that sigmoid(a * score + b) is the chance a row is exciting."""
    ok = ~np.isnan(scores)
    fit = LogisticRegression(C=1e6, max_iter=1000).fit(scores[ok, None], y[ok],
                                                      sample_weight=w[ok])
    return float(fit.coef_[0, 0]), float(fit.intercept_[0])


@dataclass
class Trained:
    """A learned, calibrated model and how it did on held-out seconds."""

    model: LogisticRegression
    columns: list[str]
    auc: float | None
    auc_plain: float | None
    auc_context: float | None
    context: bool
    calibration: dict[str, float | None]
    held_out_p: np.ndarray


def train(table: Table, names: Sequence[str], learner: Learner = fit_balanced,
          threshold: float = 0.8) -> Trained:
    """Learn from `table` on the features `names` (with their context if that helps), score
    on held-out time, calibrate, and train the final model on every row."""
    folds = time_folds(table)
    plain = [table.columns.index(n) for n in names]
    rich = plain + [table.columns.index(n) for n in context_names(names)]
    scores = {key: held_out_scores(learner, table.x[:, cols], table, folds)
              for key, cols in (("plain", plain), ("context", rich))}
    aucs = {key: auc(table.y, s) for key, s in scores.items()}
    use_context = (aucs["context"] or 0.0) >= (aucs["plain"] or 0.0) + CONTEXT_GAIN
    key, cols = ("context", rich) if use_context else ("plain", plain)
    a, b = platt(scores[key], table.y, table.w)
    final = learner(table.x[:, cols], table.y, table.w)
    calibrated = logistic(final.coef_[0] * a, float(final.intercept_[0]) * a + b)
    held_p = 1.0 / (1.0 + np.exp(-(a * scores[key] + b)))
    sure = held_p >= threshold
    return Trained(
        calibrated, [table.columns[i] for i in cols], aucs[key], aucs["plain"],
        aucs["context"], use_context,
        {"a": a, "b": b, "heldout_seconds_at_threshold": int(sure.sum()),
         "heldout_share_exciting_at_threshold":
             float(table.y[sure].mean()) if sure.any() else None},
        held_p)
