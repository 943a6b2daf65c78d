"""One frame: decode the JPEG, find the faces (detect.py), read each face's emotion (the
model chosen in backends.py, on a crop made as emotion.py says)."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt

from services.face.backends import EmotionModel
from services.face.detect import MIN_FACE_PX, find_faces, to_gray
from services.face.emotion import Box, dominant

Picture = npt.NDArray[np.uint8]


class FrameError(Exception):
    """The frame cannot be used: not a picture, or too small to hold a face."""


@dataclass(frozen=True, slots=True)
class FoundFace:
    """A face in a frame, with its emotion probabilities (keys in emotion.LABELS)."""

    box: Box
    emotions: dict[str, float]
    dominant: str


def decode_jpeg(data: bytes) -> Picture:
    """A BGR picture from JPEG (or PNG) bytes. Raises FrameError for bytes that are no picture
    and for pictures smaller than the smallest face we look for."""
    if not data:
        raise FrameError("empty frame")
    decoded = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    if decoded is None:
        raise FrameError(f"not a picture ({len(data)} bytes that do not decode as JPEG)")
    picture = np.asarray(decoded, dtype=np.uint8)
    check_size(picture)
    return picture


def check_size(picture: Picture) -> None:
    """Raise FrameError when a picture is too small to hold a face we could find."""
    height, width = picture.shape[:2]
    if height < MIN_FACE_PX or width < MIN_FACE_PX:
        raise FrameError(f"frame too small ({width}x{height}); faces need {MIN_FACE_PX} px")


def analyse_picture(bgr: Picture, model: EmotionModel) -> list[FoundFace]:
    """Every face in a BGR picture, largest first, with its emotions."""
    check_size(bgr)
    boxes = find_faces(bgr)
    gray = to_gray(bgr)
    scores = model.classify(bgr, gray, boxes)
    return [FoundFace(box, s, dominant(s)) for box, s in zip(boxes, scores, strict=True)]
