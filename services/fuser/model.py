"""The excitement model: a LogisticRegression saved as `model.pkl`, with versions.

Models live in `<data_dir>/models/vNNNN/` (`model.pkl` + `model.json`, the metadata), and the
file `current` names the one in use; a channel's own models live in
`<data_dir>/models/channels/<channel>/` the same way (see `model_files`). Installing a model
never deletes the old ones, so `clip-live model VERSION` can always go back. The fuser reloads
when `current` changes.

The first global model is the shipped one (`shipped/model.json`): learned from chat on
generated training streams, not on real ones (see `make_shipped`). `clip-live retrain`
replaces it with what this machine's own channels teach. The hand-set prior (weights a person
chose, declared by each signal) is kept only as the last fallback.

A model may also read a second's context: for a feature `f`, `f@before` is its mean over the
`CONTEXT_S` seconds before, and `f@rise` is how far this second is above that. The caller
hands in those seconds' features (`recent`, oldest first).
"""

from __future__ import annotations

import json
import math
import pickle
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any, Literal

import numpy as np
import sklearn
from sklearn.linear_model import LogisticRegression

from services.fuser import model_files, signals
from shared.contracts import ModelTag

PRIOR_BIAS = -4.0
"""With the prior weights each signal declares, a calm second scores P ~ 0.02, and a second
3-4 z louder with a burst of motion and two hype words scores P > 0.9."""
PRIOR_META: dict[str, Any] = {
    "kind": "hand-set prior", "trained": False, "rows": 0, "trained_on": "nothing (hand-set)",
    "note": "Not trained on data: weights set by hand. Run `clip-live retrain` once you have "
            "kept and dropped clips.",
}
SHIPPED = Path(__file__).parent / "shipped" / "model.json"
"""The global model that ships (weights as JSON, with how it was made)."""
CONTEXT_S = 3
"""A context feature looks this many seconds back."""
Features = Mapping[str, float | None]


class ModelError(Exception):
    """A model file is missing or broken, or it needs a feature the fuser does not make."""


@dataclass
class LoadedModel:
    """A model ready to score seconds. It keeps its weights by feature name: a feature the
    fuser makes but the model does not know counts as 0."""

    version: str
    estimator: LogisticRegression
    meta: dict[str, Any]
    scope: str = "global"

    @property
    def names(self) -> tuple[str, ...]:
        """The features the model was made for, in its own order."""
        return tuple(self.meta.get("features", ()))

    def unknown_to_it(self) -> list[str]:
        """The fuser's features this model has no weight for (they count as 0)."""
        return [name for name in signals.feature_names() if name not in self.names]

    @cached_property
    def tag(self) -> ModelTag:
        """Which model this is, for the spikes and clips it judges."""
        scope: Literal["channel", "global"] = "channel" if self.scope == "channel" else "global"
        trained_on = str(self.meta.get("trained_on") or self.meta.get("kind") or "")
        return ModelTag(scope=scope, version=self.version, trained_on=trained_on[:200])

    def inputs(self, features: Features, recent: Sequence[Features] = ()) -> list[float]:
        """The features in the model's order, with missing ones read as 0 ("nothing
        unusual"). Context features come from `recent`, the seconds before (oldest first)."""
        return [context_value(name, features, recent) if "@" in name
                else features.get(name) or 0.0 for name in self.names]

    def probability(self, features: Features, recent: Sequence[Features] = ()) -> float:
        row = np.array([self.inputs(features, recent)])
        return float(self.estimator.predict_proba(row)[0, 1])

    def contributions(self, features: Features,
                      recent: Sequence[Features] = ()) -> dict[str, float]:
        """Each feature's part of the log-odds: weight times value."""
        weights = self.estimator.coef_[0]
        return {name: round(float(w * x), 4) for name, w, x in
                zip(self.names, weights, self.inputs(features, recent), strict=True)}

    def score_table(self, x: np.ndarray, columns: Sequence[str]) -> np.ndarray:
        """P for each row of `x`, whose columns are the features named in `columns` (a
        feature the table lacks counts as 0)."""
        picked = np.zeros((len(x), len(self.names)))
        for i, name in enumerate(self.names):
            if name in columns:
                picked[:, i] = x[:, list(columns).index(name)]
        return np.asarray(self.estimator.predict_proba(picked)[:, 1])


def context_names(bases: Sequence[str]) -> list[str]:
    """The context inputs made from these plain features."""
    return [f"{b}@{kind}" for b in bases for kind in ("before", "rise")]


def known_inputs() -> set[str]:
    """Every input a model may have: the fuser's features and their context."""
    names = signals.feature_names()
    return {*names, *context_names(names)}


def context_value(name: str, features: Features, recent: Sequence[Features]) -> float:
    """One context input: `f@before` (the mean of f over the last `CONTEXT_S` seconds) or
    `f@rise` (f now less that mean). With no seconds before, the mean is 0."""
    base, kind = name.split("@", 1)
    past = [r.get(base) or 0.0 for r in list(recent)[-CONTEXT_S:]]
    before = sum(past) / len(past) if past else 0.0
    return before if kind == "before" else (features.get(base) or 0.0) - before


def prior_model() -> LogisticRegression:
    """The hand-set first model, as a real scikit-learn estimator, with the prior weight each
    signal declares for its features."""
    return logistic(list(signals.prior_weights().values()), PRIOR_BIAS)


def prior_in_memory() -> LoadedModel:
    """The prior, not installed: what a fuser scores with when no installed model loads."""
    return LoadedModel("prior", prior_model(),
                       {**PRIOR_META, "features": list(signals.feature_names())})


def logistic(weights: Sequence[float], bias: float) -> LogisticRegression:
    """A ready LogisticRegression with these weights, made without training."""
    model = LogisticRegression()
    model.classes_ = np.array([0, 1])
    model.coef_ = np.array([list(weights)], dtype=float)
    model.intercept_ = np.array([bias], dtype=float)
    model.n_features_in_ = len(weights)
    return model


def shipped_model() -> tuple[LogisticRegression, dict[str, Any]]:
    """The shipped global model, made for every feature the fuser makes now (a feature it was
    not trained with gets weight 0), and its metadata. Raises ModelError."""
    try:
        data = json.loads(SHIPPED.read_text())
        weights = {str(k): float(v) for k, v in data["weights"].items()}
        bias = float(data["bias"])
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as err:
        raise ModelError(f"the shipped model {SHIPPED} cannot be read: {err}") from None
    unknown = sorted(set(weights) - known_inputs())
    if unknown:
        raise ModelError(f"the shipped model needs features this fuser does not make: "
                         f"{unknown}")
    names = [*signals.feature_names(), *(n for n in weights if "@" in n)]
    meta = {k: v for k, v in data.items() if k not in ("weights", "bias")}
    meta["features"] = names
    return logistic([weights.get(n, 0.0) for n in names], bias), meta


def fallback_model() -> LoadedModel:
    """What a fuser scores with before any installed model loads: the shipped model, or the
    hand-set prior if even that cannot be read."""
    try:
        estimator, meta = shipped_model()
    except ModelError:
        return prior_in_memory()
    return LoadedModel("shipped", estimator, meta)


class ModelStore:
    """The folder of model versions: the global one, or one channel's (`for_channel`)."""

    def __init__(self, root: Path, scope: str = "global") -> None:
        self.root = root
        self.scope = scope

    @classmethod
    def for_channel(cls, data_dir: Path, channel: str) -> ModelStore:
        return cls(model_files.channel_root(data_dir, channel), "channel")

    @property
    def pointer(self) -> Path:
        return self.root / model_files.POINTER

    def current_version(self) -> str | None:
        return model_files.current_version(self.root)

    def stamp(self) -> float:
        """Changes whenever another model is put in use."""
        try:
            return self.pointer.stat().st_mtime_ns / 1e9
        except FileNotFoundError:
            return 0.0

    def load_current(self) -> LoadedModel:
        """The model in use. The global store installs the shipped model first if there is
        none; a channel's store with none raises ModelError (the global model judges it)."""
        version = self.current_version()
        if version is None:
            if self.scope == "channel":
                raise ModelError(f"no channel model is in use in {self.root}")
            estimator, meta = shipped_model()
            version = self.install(estimator, meta, meta["features"])
        return self.load(version)

    def installed(self) -> LoadedModel | None:
        """The model in use, or None when there is none (never installs one)."""
        version = self.current_version()
        return self.load(version) if version else None

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
        unknown = [n for n in names if n not in known_inputs()]
        if unknown:
            raise ModelError(f"model {version} needs features this fuser does not make: "
                             f"{unknown}")
        weights = getattr(estimator, "coef_", None)
        if not hasattr(estimator, "predict_proba") or weights is None or \
                np.shape(weights) != (1, len(names)):
            raise ModelError(f"model {version}: model.pkl is not a logistic regression over "
                             f"its {len(names)} features")
        return LoadedModel(version, estimator, meta, self.scope)

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
        full = {**meta, "version": version, "features": names, "created": time.time(),
                "sklearn": sklearn.__version__, "scope": self.scope}
        (folder / "model.json").write_text(json.dumps(full, indent=2, default=_plain))
        self.use(version)
        return version

    def use(self, version: str) -> None:
        """Put an installed version in use (also to go back to an older one)."""
        self.load(version)  # Refuse a version that does not load.
        tmp = self.pointer.with_suffix(".tmp")
        tmp.write_text(version + "\n")
        tmp.replace(self.pointer)

    def clear(self) -> None:
        """A channel's store only: use no model of its own (the global one judges it)."""
        if self.scope != "channel":
            raise ModelError("the global model cannot be put out of use, only replaced")
        self.pointer.unlink(missing_ok=True)

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
