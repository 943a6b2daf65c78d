"""Face worker numbers: milliseconds per 480p frame (854x480) to find faces and read emotions,
on one thread, as the worker runs it. Also each part alone: JPEG decoding, face finding (Haar
cascade on the half-size frame), and the emotion model per face."""

from __future__ import annotations

import time
from collections.abc import Callable

import cv2
import numpy as np
from skimage import data

from services.face.analyse import analyse_picture, decode_jpeg
from services.face.detect import find_faces, to_gray
from services.face.emotion import fer_model, pad_picture

WIDTH, HEIGHT = 854, 480


def frame_with_face() -> np.ndarray:
    """A 854x480 frame with the astronaut (a smiling face) on the left and grey beside her."""
    face = cv2.resize(np.ascontiguousarray(data.astronaut()[:, :, ::-1]), (HEIGHT, HEIGHT))
    frame = np.full((HEIGHT, WIDTH, 3), 100, np.uint8)
    frame[:, :HEIGHT] = face
    return frame


def frame_without_face() -> np.ndarray:
    """A 854x480 frame of coffee (detail everywhere, no face)."""
    return cv2.resize(np.ascontiguousarray(data.coffee()[:, :, ::-1]), (WIDTH, HEIGHT))


def ms_per_call(work: Callable[[], object], seconds: float = 1.5) -> float:
    """Mean milliseconds per call, after a few warm-up calls."""
    for _ in range(3):
        work()
    calls, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        work()
        calls += 1
    return (time.perf_counter() - start) / calls * 1000


def run() -> dict[str, float]:
    cv2.setNumThreads(1)  # as the worker does
    model = fer_model()
    face, empty = frame_with_face(), frame_without_face()
    ok, encoded = cv2.imencode(".jpg", face)
    assert ok
    jpeg = encoded.tobytes()
    gray = to_gray(face)
    boxes = find_faces(gray)
    assert len(boxes) == 1, boxes
    padded = pad_picture(gray)
    return {
        "frame_ms (decode+detect+classify, 1 face)": ms_per_call(
            lambda: analyse_picture(decode_jpeg(jpeg), model)),
        "detect+classify_ms (1 face)": ms_per_call(lambda: analyse_picture(face, model)),
        "detect+classify_ms (no face, busy picture)": ms_per_call(
            lambda: analyse_picture(empty, model)),
        "jpeg_decode_ms": ms_per_call(lambda: decode_jpeg(jpeg)),
        "detect_ms (half-size Haar)": ms_per_call(lambda: find_faces(gray)),
        "classify_ms (1 face, with padding the frame)": ms_per_call(
            lambda: model.classify(face, gray, boxes)),
        "emotion_model_ms per face (crop+run)": ms_per_call(
            lambda: model.classify_padded(padded, boxes)),
    }


if __name__ == "__main__":
    for key, value in run().items():
        print(f"{key:<45} {value:8.2f}")
