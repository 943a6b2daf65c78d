"""Retraining from kept and dropped clips: it learns, it refuses a worse model, versions stay."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression

from services.fuser.events_log import feature_columns
from services.fuser.model import LoadedModel, ModelStore
from services.fuser.retrain import build_dataset, retrain
from services.fuser.signals import feature_names

FEATURES = feature_names()
LOUD, MOTION = FEATURES.index("loud_z"), FEATURES.index("motion_z")
HYPE = FEATURES.index("hype_words")


def make_sessions(data_dir: Path, sessions: int = 4, seconds: int = 300, seed: int = 0) -> None:
    """Sessions where the kept moments are loud with hype words, and the dropped ones are
    motion-only bursts (a camera shake), which the hand-set prior wrongly likes."""
    rng = np.random.default_rng(seed)
    for n in range(sessions):
        session = f"s{n}"
        folder = data_dir / "events" / "demo" / session
        folder.mkdir(parents=True)
        x = rng.normal(0, 0.7, size=(seconds, len(FEATURES)))
        x[:, HYPE] = 0
        kept = [40 + 60 * k for k in range(4)]
        dropped = [70 + 60 * k for k in range(4)]
        for t in kept:
            x[t - 1:t + 6, LOUD] += rng.uniform(1.5, 4.0)
            x[t:t + 3, HYPE] = rng.integers(1, 3)
        for t in dropped:
            x[t - 1:t + 6, MOTION] += rng.uniform(3.0, 6.0)
        with (folder / "features.csv").open("w", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(feature_columns())
            for t in range(seconds):
                writer.writerow([t, f"{1.7e9 + t:.3f}", *(f"{v:.4f}" for v in x[t])])
        for place, times in (("keep", kept), ("drop", dropped)):
            out = data_dir / place / "demo"
            out.mkdir(parents=True, exist_ok=True)
            for i, t in enumerate(times):
                stem = f"clip_20261121T{n}{i}{int(place == 'drop')}000Z"
                (out / f"{stem}.mp4").write_bytes(b"")
                (out / f"{stem}.json").write_text(json.dumps(
                    {"channel": "demo", "session": session, "t": t}))


def weights(model: LoadedModel) -> dict[str, float]:
    """A model's weights by feature name."""
    return dict(zip(model.names, model.estimator.coef_[0].tolist(), strict=True))


def test_labels_come_from_keep_and_drop_even_when_moved_by_hand(tmp_path: Path) -> None:
    make_sessions(tmp_path, sessions=1)
    # A person moved one kept video by hand and left its sidecar in clips/.
    keep = tmp_path / "keep" / "demo"
    clips = tmp_path / "clips" / "demo"
    clips.mkdir(parents=True)
    first = sorted(keep.glob("*.json"))[0]
    first.replace(clips / first.name)
    data = build_dataset(tmp_path)
    assert len(data.y) == 300
    assert data.y.sum() == 4 * 9  # 4 kept moments, 9 seconds each


def test_retrain_learns_and_beats_the_prior_on_held_out_seconds(tmp_path: Path) -> None:
    make_sessions(tmp_path)
    store = ModelStore(tmp_path / "models")
    prior = store.load_current()
    result = retrain(tmp_path)
    assert result.installed == "v0002", result.summary()
    assert result.auc_new is not None and result.auc_current is not None
    assert result.auc_new > result.auc_current
    # The noise columns are drawn per feature, so the data change when a feature is added:
    # over seeds 0-7 the new model's AUC lies between 0.85 and 0.92.
    assert result.auc_new > 0.85
    new = store.load_current()
    assert new.version == "v0002" and new.meta["trained"] is True
    before, after = weights(prior), weights(new)
    assert any(abs(after[n] - before.get(n, 0.0)) > 0.05 for n in after)
    # It learned that a motion-only burst is not exciting.
    assert after["motion_z"] < min(0.0, before["motion_z"])
    # Going back to the prior works, and both versions are kept.
    store.use("v0001")
    assert store.load_current().version == "v0001"
    assert [m["version"] for m in store.versions()] == ["v0001", "v0002"]


def test_a_worse_model_is_not_installed(tmp_path: Path) -> None:
    make_sessions(tmp_path)
    assert retrain(tmp_path).installed == "v0002"

    def shuffled_labels(x: np.ndarray, y: np.ndarray) -> LogisticRegression:
        rng = np.random.default_rng(5)
        return LogisticRegression(max_iter=500).fit(x, rng.permutation(y))

    result = retrain(tmp_path, learner=shuffled_labels)
    assert result.installed is None and "worse" in result.reason
    assert ModelStore(tmp_path / "models").current_version() == "v0002"


def test_too_few_labels_is_said_plainly(tmp_path: Path) -> None:
    result = retrain(tmp_path)
    assert result.installed is None and "too few labels" in result.reason
