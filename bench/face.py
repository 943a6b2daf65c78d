"""Face worker numbers: CPU milliseconds per 480p frame (854x480) to find faces and read their
emotions, on one thread, as the worker runs it; and per second of stream (the worker gets
2 frames a second). Also each part alone: JPEG decoding, face finding (BlazeFace full range,
two square tiles of a 16:9 frame) and the emotion model per face (crop, the face and its
mirror image)."""

from __future__ import annotations

import time
from collections.abc import Callable

import cv2
import numpy as np
from skimage import data

from services.face.analyse import analyse_picture, decode_jpeg
from services.face.detect import find_faces, to_gray
from services.face.emotion import fer_model

WIDTH, HEIGHT = 854, 480
FRAMES_PER_SECOND = 2  # what the motion worker sends the face worker


def frame_with_face() -> np.ndarray:
    """A 854x480 frame with the astronaut (a smiling face) on the left and grey beside her."""
    face = cv2.resize(np.ascontiguousarray(data.astronaut()[:, :, ::-1]), (HEIGHT, HEIGHT))
    frame = np.full((HEIGHT, WIDTH, 3), 100, np.uint8)
    frame[:, :HEIGHT] = face
    return frame


def frame_without_face() -> np.ndarray:
    """A 854x480 frame of coffee (detail everywhere, no face)."""
    return cv2.resize(np.ascontiguousarray(data.coffee()[:, :, ::-1]), (WIDTH, HEIGHT))


def cpu_ms_per_call(work: Callable[[], object], seconds: float = 1.5) -> float:
    """Mean CPU milliseconds (this process) per call, after a few warm-up calls."""
    for _ in range(3):
        work()
    calls, start, cpu = 0, time.perf_counter(), time.process_time()
    while time.perf_counter() - start < seconds:
        work()
        calls += 1
    return (time.process_time() - cpu) / calls * 1000


def run() -> dict[str, float]:
    cv2.setNumThreads(1)  # as the worker does
    model = fer_model()
    face, empty = frame_with_face(), frame_without_face()
    ok, encoded = cv2.imencode(".jpg", face)
    assert ok
    jpeg = encoded.tobytes()
    gray = to_gray(face)
    boxes = find_faces(face)
    assert len(boxes) == 1, boxes
    frame_ms = cpu_ms_per_call(lambda: analyse_picture(decode_jpeg(jpeg), model))
    return {
        "frame_cpu_ms (decode+detect+classify, 1 face)": frame_ms,
        "cpu_ms_per_stream_second (2 frames)": frame_ms * FRAMES_PER_SECOND,
        "detect+classify_cpu_ms (1 face)": cpu_ms_per_call(
            lambda: analyse_picture(face, model)),
        "detect+classify_cpu_ms (no face, busy picture)": cpu_ms_per_call(
            lambda: analyse_picture(empty, model)),
        "jpeg_decode_cpu_ms": cpu_ms_per_call(lambda: decode_jpeg(jpeg)),
        "detect_cpu_ms (BlazeFace, 2 tiles)": cpu_ms_per_call(lambda: find_faces(face)),
        "emotion_cpu_ms per face (crop, face + mirror)": cpu_ms_per_call(
            lambda: model.classify(face, gray, boxes)),
    }


if __name__ == "__main__":
    for key, value in run().items():
        print(f"{key:<48} {value:8.2f}")
