"""The excitement model: a LogisticRegression saved as `model.pkl`, with versions.

Models live in `<data_dir>/models/vNNNN/` (`model.pkl` + `model.json`, the metadata), and the
file `current` names the one in use. Installing a model never deletes the old ones, so
`clip-live model use vNNNN` can always go back. The fuser reloads when `current` changes.

The first model is a hand-set prior, not trained on any data: a few weights a person chose so
that a loud, lively, excited moment scores high. `clip-live retrain` replaces it once users
have kept and dropped clips.
"""

from __future__ import annotations

import json
import math
import pickle
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import sklearn
from sklearn.linear_model import LogisticRegression

from services.fuser.features import FEATURES

PRIOR_WEIGHTS: dict[str, float] = {
    "loud_z": 0.8, "pitch_var_z": 0.4, "motion_z": 0.5, "sentiment_z": 0.3,
    "hype_words": 0.8, "excited_margin": 3.0, "chat_rate_z": 0.3, "face_excitement": 1.0,
}
PRIOR_BIAS = -4.0
"""With these, a calm second scores P ~ 0.02, and a second 3-4 z louder with a burst of motion
and two hype words scores P > 0.9."""


class ModelError(Exception):
    """A model file is missing, broken, or made for other features."""


@dataclass
class LoadedModel:
    """A model ready to score seconds."""

    version: str
    estimator: LogisticRegression
    meta: dict[str, Any]

    def probability(self, inputs: list[float]) -> float:
        return float(self.estimator.predict_proba(np.array([inputs]))[0, 1])

    def contributions(self, inputs: list[float]) -> dict[str, float]:
        """Each feature's part of the log-odds: weight times value."""
        weights = self.estimator.coef_[0]
        return {name: round(float(w * x), 4) for name, w, x in zip(FEATURES, weights, inputs,
                                                                     strict=True)}


def prior_model() -> LogisticRegression:
    """The hand-set first model, as a real scikit-learn estimator."""
    model = LogisticRegression()
    model.classes_ = np.array([0, 1])
    model.coef_ = np.array([[PRIOR_WEIGHTS[name] for name in FEATURES]])
    model.intercept_ = np.array([PRIOR_BIAS])
    model.n_features_in_ = len(FEATURES)
    return model


class ModelStore:
    """The folder of model versions."""

    def __init__(self, root: Path) -> None:
        self.root = root

    @property
    def pointer(self) -> Path:
        return self.root / "current"

    def current_version(self) -> str | None:
        try:
            return self.pointer.read_text().strip() or None
        except FileNotFoundError:
            return None

    def stamp(self) -> float:
        """Changes whenever another model is put in use."""
        try:
            return self.pointer.stat().st_mtime_ns / 1e9
        except FileNotFoundError:
            return 0.0

    def load_current(self) -> LoadedModel:
        """The model in use. Installs the hand-set prior first if there is none."""
        version = self.current_version()
        if version is None:
            version = self.install(prior_model(), {
                "kind": "hand-set prior", "trained": False, "rows": 0,
                "note": "Not trained on data: weights set by hand. Run `clip-live retrain` once "
                        "you have kept and dropped clips.",
            })
        return self.load(version)

    def load(self, version: str) -> LoadedModel:
        folder = self.root / version
        try:
            meta = json.loads((folder / "model.json").read_text())
            estimator = pickle.loads((folder / "model.pkl").read_bytes())
        except (OSError, ValueError, pickle.UnpicklingError) as err:
            raise ModelError(f"model {version} in {folder} cannot be read: {err}") from None
        if tuple(meta.get("features", ())) != FEATURES:
            raise ModelError(f"model {version} was made for features {meta.get('features')}, "
                             f"this fuser uses {list(FEATURES)}")
        return LoadedModel(version, estimator, meta)

    def install(self, estimator: LogisticRegression, meta: dict[str, Any]) -> str:
        """Save a new version and put it in use. Returns its name."""
        self.root.mkdir(parents=True, exist_ok=True)
        numbers = [int(p.name[1:]) for p in self.root.glob("v[0-9]*") if p.name[1:].isdigit()]
        version = f"v{max(numbers, default=0) + 1:04d}"
        folder = self.root / version
        folder.mkdir()
        (folder / "model.pkl").write_bytes(pickle.dumps(estimator))
        full = {"version": version, "features": list(FEATURES), "created": time.time(),
                "sklearn": sklearn.__version__, **meta}
        (folder / "model.json").write_text(json.dumps(full, indent=2, default=_plain))
        self.use(version)
        return version

    def use(self, version: str) -> None:
        """Put an installed version in use (also to go back to an older one)."""
        self.load(version)  # Refuse a version that does not load.
        tmp = self.pointer.with_suffix(".tmp")
        tmp.write_text(version + "\n")
        tmp.replace(self.pointer)

    def versions(self) -> list[dict[str, Any]]:
        """The metadata of every installed version, oldest first."""
        found = []
        for folder in sorted(self.root.glob("v[0-9]*")):
            try:
                found.append(json.loads((folder / "model.json").read_text()))
            except (OSError, ValueError):
                continue
        return found


def _plain(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    raise TypeError(f"cannot save {value!r} in model.json")
