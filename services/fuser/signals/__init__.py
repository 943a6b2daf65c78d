"""The signals the fuser joins: one module each in this package, found by convention.

Each module holds `SIGNAL = FuserSignal(...)`. Adding a signal to the fuser is adding one
module here; `register` adds one from elsewhere (a plug-in, or a test).
"""

from __future__ import annotations

import importlib
import pkgutil
from typing import Any

from shared.streams import Topic

from .base import Feature, FuserSignal, Values

_registered: list[FuserSignal] = []
_ordered: tuple[FuserSignal, ...] = ()  # every signal in feature order, made once per change
_by_model: dict[type, FuserSignal] = {}


def _discover() -> list[FuserSignal]:
    found = []
    for info in pkgutil.iter_modules(__path__):
        if info.name == "base":
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        signal = getattr(module, "SIGNAL", None)
        if isinstance(signal, FuserSignal):
            found.append(signal)
    return found


def register(signal: FuserSignal) -> None:
    """Add a signal from outside this package. Its names must be new."""
    _check([*signals(), signal])
    _registered.append(signal)
    _reorder()


def unregister(name: str) -> None:
    """Take back a signal added with `register`."""
    _registered[:] = [s for s in _registered if s.name != name]
    _reorder()


def _reorder() -> None:
    """Sort the signals once per change, not on every message the fuser handles."""
    global _ordered
    _ordered = tuple(sorted([*_BUILT_IN, *_registered], key=lambda s: (s.order, s.name)))
    _by_model.clear()
    _by_model.update({s.topic.model: s for s in _ordered})


def signals() -> tuple[FuserSignal, ...]:
    """Every signal, in feature order."""
    return _ordered


def by_model(model: type) -> FuserSignal:
    """The signal whose messages are of this type."""
    try:
        return _by_model[model]
    except KeyError:
        raise KeyError(f"no fuser signal carries {model.__name__}") from None


def features() -> tuple[Feature, ...]:
    """Every feature, in order: the model's inputs and the parts other features are made of."""
    return tuple(f for s in signals() for f in s.features)


def feature_names() -> tuple[str, ...]:
    """The model's inputs, in order."""
    return tuple(f.name for f in features() if f.model)


def prior_weights() -> dict[str, float]:
    return {f.name: f.prior for f in features() if f.model}


def topics() -> tuple[Topic[Any], ...]:
    """The topics the fuser reads."""
    return tuple(s.topic for s in signals())


def vote_names() -> tuple[str, ...]:
    """The 2-of-3 rule's votes, each once."""
    return tuple(dict.fromkeys(s.vote for s in signals() if s.vote))


def _check(found: list[FuserSignal]) -> None:
    """Names must not clash: a signal, a topic and a feature each mean one thing."""
    for what, names in (("signal", [s.name for s in found]),
                        ("topic", [s.topic.name for s in found]),
                        ("message type", [s.topic.model.__name__ for s in found]),
                        ("feature", [f.name for s in found for f in s.features])):
        twice = {n for n in names if names.count(n) > 1}
        if twice:
            raise ValueError(f"fuser signals declare the same {what} twice: {sorted(twice)}")


_BUILT_IN = _discover()
_check(_BUILT_IN)
_reorder()

__all__ = ["Feature", "FuserSignal", "Values", "by_model", "feature_names", "features",
           "prior_weights", "register", "signals", "topics", "unregister", "vote_names"]
