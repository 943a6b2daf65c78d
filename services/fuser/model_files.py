"""Where the models live on disk, and what their `model.json` says, read without loading them.

- `<data_dir>/models/`: the global model, the one for every channel without its own.
- `<data_dir>/models/channels/<channel>/`: that channel's own models (learned from its chat).

Each holds version folders `vNNNN/` (`model.pkl` + `model.json`) and the file `current`, which
names the version in use. A channel with no `current` is judged by the global model.

Plain file reads only (no scikit-learn), so the API can show what judges each channel.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from shared.contracts import CHANNEL_PATTERN, check_channel

POINTER = "current"


def global_root(data_dir: Path) -> Path:
    return data_dir / "models"


def channel_root(data_dir: Path, channel: str) -> Path:
    return data_dir / "models" / "channels" / check_channel(channel)


def current_version(root: Path) -> str | None:
    """The version in use in this folder, or None when none is."""
    try:
        return (root / POINTER).read_text().strip() or None
    except (FileNotFoundError, NotADirectoryError):
        return None


def read_meta(root: Path, version: str) -> dict[str, Any] | None:
    """A version's `model.json`, or None when it cannot be read."""
    try:
        meta = json.loads((root / version / "model.json").read_text())
    except (OSError, ValueError):
        return None
    return meta if isinstance(meta, dict) else None


def channels_with_models(data_dir: Path) -> list[str]:
    """The channels that have a folder of their own models."""
    folder = data_dir / "models" / "channels"
    if not folder.is_dir():
        return []
    return sorted(p.name for p in folder.iterdir() if p.is_dir() and CHANNEL_PATTERN.match(p.name))


def summary(meta: dict[str, Any], scope: str) -> dict[str, Any]:
    """The few facts people want about a model: what it is, how good, what it learned from."""
    metrics = meta.get("metrics") or {}
    auc = metrics.get("auc_heldout_new")
    return {
        "scope": scope,
        "version": str(meta.get("version", "")),
        "kind": str(meta.get("kind", "")),
        "trained_on": str(meta.get("trained_on") or meta.get("kind") or ""),
        "auc_heldout": auc if isinstance(auc, int | float) else None,
        "labelled_seconds": int(meta.get("rows") or 0),
    }


def model_in_use(data_dir: Path, channel: str) -> dict[str, Any] | None:
    """What judges `channel` now: its own model when it has one in use, else the global one.
    None when no model is installed yet (the fuser installs the shipped one at start)."""
    for root, scope in ((channel_root(data_dir, channel), "channel"),
                        (global_root(data_dir), "global")):
        version = current_version(root)
        meta = read_meta(root, version) if version else None
        if meta is not None:
            return summary(meta, scope)
    return None
