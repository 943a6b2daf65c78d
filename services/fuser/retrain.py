"""Learn from the clips users kept and dropped (`clip-live retrain`, and nightly).

1. Labels: the seconds around a kept clip's spike are exciting (1); around a dropped clip's
   spike they are not (0); the other seconds of a session with at least one verdict are taken
   as not exciting either (0). Clips count wherever they sit in `keep/` and `drop/`, also when
   a person moved them there by hand.
2. Features: `features.csv` of each session, written by the fuser every second.
3. Train a LogisticRegression with balanced class weights on three quarters of the data (in
   30-second blocks, so neighbouring seconds do not leak), score it on the rest (ROC AUC).
4. Install it only if it is not worse than the model in use on the same held-out seconds.
"""

from __future__ import annotations

import csv
import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score

from services.fuser.model import LoadedModel, ModelError, ModelStore, fallback_model
from services.fuser.signals import feature_names
from services.fuser.training import all_columns, with_context

STEM_PATTERN = re.compile(r"^clip_[0-9]{8}T[0-9]{6}Z(_[0-9]+)?$")
"""The name of a clip's files without the suffix: `clip_<UTC stamp>[_n]`."""
SPIKE_BEFORE_S = 2
SPIKE_AFTER_S = 6
BLOCK_S = 30
HOLD_OUT_EVERY = 4  # one block in four is held out


@dataclass
class Dataset:
    """Labelled seconds: features `x` (columns named by `names`), labels `y`, and the block
    each second belongs to. `table` holds the same rows with their context columns too
    (named by `columns`), to score a model in use that reads context."""

    x: np.ndarray
    y: np.ndarray
    blocks: list[str] = field(default_factory=list)
    names: tuple[str, ...] = ()
    table: np.ndarray | None = None
    columns: tuple[str, ...] = ()


@dataclass
class RetrainResult:
    """What a retrain did, for the log and the command's output."""

    installed: str | None
    reason: str
    rows: int = 0
    positives: int = 0
    auc_new: float | None = None
    auc_current: float | None = None
    current: str | None = None

    def summary(self) -> str:
        aucs = f"held-out AUC new={_fmt(self.auc_new)} current={_fmt(self.auc_current)}"
        head = f"installed {self.installed}" if self.installed else "kept the current model"
        return f"{head}: {self.reason} ({self.rows} seconds, {self.positives} exciting; {aucs})"


def _fmt(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"


def judged_clips(data_dir: Path) -> list[tuple[dict[str, Any], int]]:
    """Every judged clip's metadata with its label (keep 1, drop 0), found by file name."""
    found: dict[str, tuple[dict[str, Any], int]] = {}
    for label, place in ((1, "keep"), (0, "drop")):
        for path in sorted((data_dir / place).glob("*/clip_*")):
            stem = path.name.split(".")[0]
            if not STEM_PATTERN.match(stem):
                continue
            meta = _sidecar(data_dir, path.parent.name, stem)
            if meta is not None:
                found[f"{path.parent.name}/{stem}"] = (meta, label)
    return list(found.values())


def _sidecar(data_dir: Path, channel: str, stem: str) -> dict[str, Any] | None:
    """A clip's JSON sidecar, wherever it is (a person may have moved only the video)."""
    for place in ("keep", "drop", "clips"):
        path = data_dir / place / channel / f"{stem}.json"
        if path.exists():
            try:
                meta = json.loads(path.read_text())
            except ValueError:
                return None
            return meta if isinstance(meta, dict) else None
    return None


def read_features(path: Path, names: tuple[str, ...]) -> dict[int, list[float]]:
    """`features.csv` -> {second: the features `names`, missing read as 0}."""
    rows: dict[int, list[float]] = {}
    with path.open(newline="") as handle:
        for row in csv.DictReader(handle):
            rows[int(float(row["time"]))] = [float(row.get(n) or 0.0) for n in names]
    return rows


def build_dataset(data_dir: Path) -> Dataset:
    """Labelled seconds from the events logs and the keep/drop folders."""
    labels: dict[tuple[str, str], dict[int, int]] = {}
    for meta, label in judged_clips(data_dir):
        key = (str(meta.get("channel", "")), str(meta.get("session", "")))
        spike = int(float(meta.get("t", 0.0)))
        marks = labels.setdefault(key, {})
        for t in range(spike - SPIKE_BEFORE_S, spike + SPIKE_AFTER_S + 1):
            marks[t] = max(marks.get(t, 0), label)
    names = feature_names()
    tables: list[np.ndarray] = []
    ys: list[int] = []
    blocks: list[str] = []
    for (channel, session), marks in sorted(labels.items()):
        path = data_dir / "events" / channel / session / "features.csv"
        if not path.exists():
            continue
        rows = read_features(path, names)
        times = np.array(sorted(rows), dtype=int)
        x = np.array([rows[t] for t in times.tolist()], dtype=float).reshape(-1, len(names))
        tables.append(with_context(x, times))
        for t in times.tolist():
            ys.append(marks.get(t, 0))
            blocks.append(f"{channel}/{session}/{t // BLOCK_S}")
    columns = tuple(all_columns(names))
    table = np.vstack(tables) if tables else np.zeros((0, len(columns)))
    return Dataset(table[:, :len(names)], np.array(ys), blocks, names, table, columns)


def split(data: Dataset) -> tuple[np.ndarray, np.ndarray]:
    """Boolean masks (train, held out): every fourth 30-second block is held out."""
    order = {b: i for i, b in enumerate(dict.fromkeys(data.blocks))}
    held = np.array([order[b] % HOLD_OUT_EVERY == HOLD_OUT_EVERY - 1 for b in data.blocks])
    return ~held, held


Learner = Callable[[np.ndarray, np.ndarray], LogisticRegression]


def fit_logistic(x: np.ndarray, y: np.ndarray) -> LogisticRegression:
    """The default learner: balanced classes, so rare exciting seconds still count."""
    return LogisticRegression(class_weight="balanced", max_iter=1000).fit(x, y)


def retrain(
    data_dir: Path, learner: Learner = fit_logistic, min_positives: int = 3
) -> RetrainResult:
    """Train, compare, and install if not worse. Never raises for too little data."""
    store = ModelStore(data_dir / "models")
    current = _current_or_prior(store)
    data = build_dataset(data_dir)
    result = RetrainResult(None, "", rows=len(data.y), positives=int(data.y.sum()),
                           current=current.version)
    if result.positives < min_positives or result.rows - result.positives < min_positives:
        result.reason = (f"too few labels: keep and drop at least {min_positives} clips each "
                         "way first")
        return result
    train, held = split(data)
    if len(set(data.y[train])) < 2 or len(set(data.y[held])) < 2:
        result.reason = "both kinds of seconds are needed in training and held-out parts"
        return result
    candidate = learner(data.x[train], data.y[train])
    result.auc_new = float(roc_auc_score(data.y[held], candidate.predict_proba(data.x[held])[:, 1]))
    scored = data.table if data.table is not None else data.x
    result.auc_current = float(roc_auc_score(
        data.y[held], current.score_table(scored[held], data.columns or data.names)))
    if result.auc_new < result.auc_current:
        result.reason = "the new model is worse on held-out seconds"
        return result
    final = learner(data.x, data.y)  # Same recipe, now on every labelled second.
    result.installed = store.install(final, {
        "kind": "logistic regression", "trained": True, "trained_at": time.time(),
        "rows": result.rows, "positives": result.positives,
        "metrics": {"auc_heldout_new": result.auc_new, "auc_heldout_previous": result.auc_current,
                    "previous": current.version},
    }, data.names)
    result.reason = "not worse than the model in use"
    return result


def _current_or_prior(store: ModelStore) -> LoadedModel:
    """The model in use; the shipped one (or the prior) when that one cannot be read, so
    that a retrain can replace a broken model."""
    try:
        return store.load_current()
    except ModelError:
        return fallback_model()
