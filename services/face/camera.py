"""Frames from a local camera (a webcam on /dev/video0, say) instead of the motion worker.

OpenCV's `VideoCapture` opens a device path (`/dev/video0`), a device number (`0`), or any file or
URL FFmpeg can read, which is how the tests drive this code without a camera. The worker asks for
a frame twice a second; the capture buffer is kept to one frame where the driver allows it, so
each frame we get is fresh rather than one that waited in a queue.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt

CAMERA_FPS = 2.0  # frames per second we look at, the same rate the motion worker samples
MAX_HEIGHT = 480  # frames are shrunk to this height at most, like the motion worker's


class CameraError(Exception):
    """The camera cannot be opened or stopped giving frames."""


def open_camera(device: str) -> cv2.VideoCapture:
    """Open a camera by path (`/dev/video0`), by number (`0`), or a video file.

    Raises CameraError with a message that names the device when it cannot be opened.
    """
    if not device:
        raise CameraError("no camera named")
    if device.startswith("/dev/") and not os.path.exists(device):
        raise CameraError(f"camera {device}: no such device")
    source: str | int = int(device) if device.isdigit() else device
    capture = cv2.VideoCapture(source)
    if not capture.isOpened():
        capture.release()
        raise CameraError(f"camera {device}: cannot be opened (busy, not a camera, or no "
                          "permission)")
    capture.set(cv2.CAP_PROP_BUFFERSIZE, 1)
    return capture


def read_frame(capture: cv2.VideoCapture, device: str) -> npt.NDArray[np.uint8]:
    """The next frame as a BGR picture, at most MAX_HEIGHT high. Raises CameraError if none."""
    ok, picture = capture.read()
    if not ok or picture is None:
        raise CameraError(f"camera {device}: gave no frame (unplugged, or the video ended)")
    height, width = picture.shape[:2]
    if height > MAX_HEIGHT:
        size = (round(width * MAX_HEIGHT / height), MAX_HEIGHT)
        picture = cv2.resize(picture, size, interpolation=cv2.INTER_AREA)
    return np.asarray(picture, dtype=np.uint8)


@dataclass(frozen=True, slots=True)
class CameraClock:
    """Stream time for camera frames, which carry no media timestamps of their own.

    When ingest watches the same channel, the worker starts from its latest state (stream time
    `t0` at Unix time `wall0`), so face seconds line up with the channel's other signals to
    within the capture delay. Otherwise the camera starts a session of its own at t = 0.
    """

    session: str
    t0: float
    wall0: float

    def t(self, wall: float) -> float:
        """The stream time of a frame captured at Unix time `wall`."""
        return max(0.0, self.t0 + (wall - self.wall0))
