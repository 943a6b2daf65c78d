"""Faces and emotions on real pictures, with the real BlazeFace detector and the real fer
model."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from services.face.analyse import FrameError, analyse_picture, decode_jpeg
from services.face.detect import find_faces, to_gray
from services.face.emotion import (
    INPUT_SIZE,
    LABELS,
    Box,
    face_input,
    fer_model,
    model_path,
)
from tests.services.face.media import astronaut, coffee, jpeg, three_astronauts
from tests.support import PYTHON, REPO, child_env


def test_the_astronaut_has_one_happy_face() -> None:
    faces = analyse_picture(astronaut(), fer_model())
    assert len(faces) == 1
    face = faces[0]
    # Her face is in the upper middle of the picture (about x 170-280, y 60-170).
    assert 130 < face.box.x + face.box.w / 2 < 300 and 50 < face.box.y + face.box.h / 2 < 200
    assert set(face.emotions) == set(LABELS)
    assert sum(face.emotions.values()) == pytest.approx(1.0, abs=0.02)
    assert face.dominant == "happy" and face.emotions["happy"] > 0.5


def test_a_picture_without_a_face_gives_none() -> None:
    assert analyse_picture(coffee(), fer_model()) == []
    flat = np.full((480, 640, 3), 128, np.uint8)
    assert analyse_picture(flat, fer_model()) == []


def test_each_of_several_faces_is_found() -> None:
    faces = analyse_picture(three_astronauts(), fer_model())
    assert len(faces) == 3
    centres = sorted(f.box.x + f.box.w // 2 for f in faces)
    assert [c // 250 for c in centres] == [0, 1, 2]  # one face in each copy
    assert all(f.dominant == "happy" for f in faces)


def test_boxes_are_in_full_size_pixels() -> None:
    # The same face, twice as large, gives a box about twice as large: boxes are scaled back.
    small = find_faces(to_gray(astronaut()))
    big_picture = np.repeat(np.repeat(astronaut(), 2, axis=0), 2, axis=1)
    big = find_faces(to_gray(big_picture))
    assert len(small) == len(big) == 1
    assert big[0].w == pytest.approx(2 * small[0].w, rel=0.2)


def test_the_model_input_is_a_64px_face_scaled_to_minus_one_one() -> None:
    gray = to_gray(astronaut())
    face = face_input(gray, Box(172, 62, 106, 106))
    assert face.shape == (INPUT_SIZE, INPUT_SIZE) and face.dtype == np.float32
    assert -1.0 <= face.min() < -0.5 and 0.5 < face.max() <= 1.0
    # A box at the very corner still gives a crop (the picture's edge is repeated).
    corner = face_input(gray, Box(0, 0, 30, 50))
    assert corner.shape == (INPUT_SIZE, INPUT_SIZE)


def test_the_model_is_found_without_importing_fer() -> None:
    # fer's own code imports TensorFlow, which is not installed: only its data file is read.
    code = ("import sys; from services.face.emotion import model_path, fer_model; "
            "print(model_path().name); fer_model(); "
            "print(sorted(m for m in sys.modules if m == 'fer' or m.startswith(('fer.', "
            "'tensorflow'))))")
    done = subprocess.run([PYTHON, "-c", code], cwd=REPO, env=child_env(), capture_output=True,
                          text=True, timeout=60, check=True)
    assert done.stdout.split("\n")[:2] == ["emotion_model_quantized.tflite", "[]"]
    assert model_path().is_file()
    assert "tensorflow" not in sys.modules


def test_bad_frames_raise_a_clear_error() -> None:
    rng = np.random.default_rng(1)
    with pytest.raises(FrameError, match="not a picture"):
        decode_jpeg(rng.integers(0, 256, 5000, dtype=np.uint8).tobytes())
    with pytest.raises(FrameError, match="empty"):
        decode_jpeg(b"")
    with pytest.raises(FrameError, match=r"too small \(1x1\)"):
        decode_jpeg(jpeg(np.zeros((1, 1, 3), np.uint8)))
    with pytest.raises(FrameError, match="too small"):
        analyse_picture(np.zeros((1, 1, 3), np.uint8), fer_model())
    assert decode_jpeg(jpeg(astronaut())).shape == (512, 512, 3)
