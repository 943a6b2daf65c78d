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
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import sklearn
from sklearn.linear_model import LogisticRegression

from services.fuser import signals

PRIOR_BIAS = -4.0
"""With the prior weights each signal declares, a calm second scores P ~ 0.02, and a second
3-4 z louder with a burst of motion and two hype words scores P > 0.9."""
PRIOR_META: dict[str, Any] = {
    "kind": "hand-set prior", "trained": False, "rows": 0,
    "note": "Not trained on data: weights set by hand. Run `clip-live retrain` once you have "
            "kept and dropped clips.",
}


class ModelError(Exception):
    """A model file is missing or broken, or it needs a feature the fuser does not make."""


@dataclass
class LoadedModel:
    """A model ready to score seconds. It keeps its weights by feature name: a feature the
    fuser makes but the model does not know counts as 0."""

    version: str
    estimator: LogisticRegression
    meta: dict[str, Any]

    @property
    def names(self) -> tuple[str, ...]:
        """The features the model was made for, in its own order."""
        return tuple(self.meta.get("features", ()))

    def unknown_to_it(self) -> list[str]:
        """The fuser's features this model has no weight for (they count as 0)."""
        return [name for name in signals.feature_names() if name not in self.names]

    def inputs(self, features: dict[str, float | None]) -> list[float]:
        """The features in the model's order, with missing ones read as 0 ("nothing
        unusual")."""
        return [features.get(name) or 0.0 for name in self.names]

    def probability(self, features: dict[str, float | None]) -> float:
        return float(self.estimator.predict_proba(np.array([self.inputs(features)]))[0, 1])

    def contributions(self, features: dict[str, float | None]) -> dict[str, float]:
        """Each feature's part of the log-odds: weight times value."""
        weights = self.estimator.coef_[0]
        return {name: round(float(w * x), 4) for name, w, x in
                zip(self.names, weights, self.inputs(features), strict=True)}

    def score_table(self, x: np.ndarray, columns: Sequence[str]) -> np.ndarray:
        """P for each row of `x`, whose columns are the features named in `columns`."""
        picked = np.zeros((len(x), len(self.names)))
        for i, name in enumerate(self.names):
            if name in columns:
                picked[:, i] = x[:, list(columns).index(name)]
        return np.asarray(self.estimator.predict_proba(picked)[:, 1])


def prior_model() -> LogisticRegression:
    """The hand-set first model, as a real scikit-learn estimator, with the prior weight each
    signal declares for its features."""
    weights = signals.prior_weights()
    model = LogisticRegression()
    model.classes_ = np.array([0, 1])
    model.coef_ = np.array([list(weights.values())])
    model.intercept_ = np.array([PRIOR_BIAS])
    model.n_features_in_ = len(weights)
    return model


def prior_in_memory() -> LoadedModel:
    """The prior, not installed: what a fuser scores with when no installed model loads."""
    return LoadedModel("prior", prior_model(),
                       {**PRIOR_META, "features": list(signals.feature_names())})


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
            version = self.install(prior_model(), dict(PRIOR_META))
        return self.load(version)

    def load(self, version: str) -> LoadedModel:
        folder = self.root / version
        try:
            meta = json.loads((folder / "model.json").read_text())
            estimator = pickle.loads((folder / "model.pkl").read_bytes())
        except (OSError, ValueError, pickle.UnpicklingError) as err:
            raise ModelError(f"model {version} in {folder} cannot be read: {err}") from None
        names = meta.get("features")
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            raise ModelError(f"model {version}: model.json does not list its features")
        unknown = [n for n in names if n not in signals.feature_names()]
        if unknown:
            raise ModelError(f"model {version} needs features this fuser does not make: "
                             f"{unknown}")
        weights = getattr(estimator, "coef_", None)
        if not hasattr(estimator, "predict_proba") or weights is None or \
                np.shape(weights) != (1, len(names)):
            raise ModelError(f"model {version}: model.pkl is not a logistic regression over "
                             f"its {len(names)} features")
        return LoadedModel(version, estimator, meta)

    def install(self, estimator: LogisticRegression, meta: dict[str, Any],
                features: Sequence[str] | None = None) -> str:
        """Save a new version, made for `features` (default: every feature the fuser makes
        now), and put it in use. Returns its name."""
        self.root.mkdir(parents=True, exist_ok=True)
        numbers = [int(p.name[1:]) for p in self.root.glob("v[0-9]*") if p.name[1:].isdigit()]
        version = f"v{max(numbers, default=0) + 1:04d}"
        folder = self.root / version
        folder.mkdir()
        (folder / "model.pkl").write_bytes(pickle.dumps(estimator))
        names = list(features if features is not None else signals.feature_names())
        full = {"version": version, "features": names, "created": time.time(),
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
