"""The 9:16 window's path, on plain face boxes: still for a still face, smooth and eased when
it follows, never a hop to another face."""

from __future__ import annotations

import random

import numpy as np

from services.export.crop import (
    Box,
    FaceSample,
    Motion,
    crop_path,
    crop_width,
    target_at,
    track_main_face,
)

W, H, FPS = 1280, 720, 30.0
WIN = crop_width(W, H)
FACE = 120


def samples(centres: list[tuple[float, float]], rate: float = 3.0) -> list[FaceSample]:
    """One face of FACE pixels at each (time, centre x)."""
    return [FaceSample(t, (Box(x - FACE / 2, 200, FACE, FACE),)) for t, x in centres]


def test_the_window_is_9_by_16_and_even() -> None:
    assert WIN == 404 and crop_width(1920, 1080) == 608 and crop_width(300, 720) == 300


def test_a_still_face_that_wobbles_keeps_the_window_still() -> None:
    noise = random.Random(3)
    wobbly = samples([(n / 3, 640 + noise.uniform(-25, 25)) for n in range(30)])
    lefts = crop_path(wobbly, W, H, FPS, 10.0)
    assert len(lefts) == 300 and len(set(lefts)) == 1
    assert abs(lefts[0] + WIN / 2 - 640) < 30


def test_a_moving_face_stays_inside_and_the_window_moves_smoothly() -> None:
    path = samples([(n / 3, 300 + 200 * max(0.0, n / 3 - 1)) for n in range(16)])  # 200 px/s
    lefts = crop_path(path, W, H, FPS, 5.0)
    track = [(s.t, s.boxes[0].cx) for s in path]
    for n, left in enumerate(lefts):
        centre = target_at(track, n / FPS)
        assert left <= centre - FACE / 2 and centre + FACE / 2 <= left + WIN, n
    steps = np.diff(lefts)
    motion = Motion()
    assert np.abs(steps).max() <= motion.max_speed * WIN / FPS + 2
    # Eased: the speed changes by a little each frame (no snap from still to full speed).
    assert np.abs(np.diff(steps)).max() <= motion.max_accel * WIN / FPS**2 + 4


def test_a_quick_move_is_followed_with_eased_motion_not_a_cut() -> None:
    path = samples([(n / 3, 300 + 700 * min(1.0, max(0.0, n / 3 - 1))) for n in range(16)])
    lefts = crop_path(path, W, H, FPS, 5.0)
    steps = np.diff(lefts)
    assert np.abs(steps).max() <= Motion().max_speed * WIN / FPS + 2
    assert steps[30:34].max() < 6  # starts slowly
    assert abs(lefts[-1] + WIN / 2 - 1000) <= Motion().settle * WIN + 2  # and gets there


def test_with_two_faces_the_window_holds_the_first_main_face() -> None:
    guest = Box(1000, 150, 200, 200)  # bigger than the streamer, on the other side
    path = [FaceSample(n / 3, (Box(300 - 60, 200, 120, 120),)) for n in range(3)]
    path += [FaceSample(1 + n / 3, (guest, Box(300 - 60 + 10 * (n % 2), 200, 120, 120)))
             for n in range(12)]
    lefts = crop_path(path, W, H, FPS, 5.0)
    assert len(set(lefts)) == 1 and lefts[0] < 300 < lefts[0] + WIN
    # Gone for a moment, the streamer is still the main face: the guest is not picked.
    gap = [*path[:3], FaceSample(1.2, (guest,)), FaceSample(1.6, (guest,)), *path[5:]]
    assert [t for t, x in track_main_face(gap, WIN) if x > 900] == []


def test_when_the_main_face_is_gone_long_the_other_becomes_main() -> None:
    guest = Box(1000, 150, 120, 120)
    path = [FaceSample(0.0, (Box(240, 200, 120, 120),))]
    path += [FaceSample(0.5 + n / 3, (guest,)) for n in range(12)]
    track = track_main_face(path, WIN)
    assert track[0][1] == 300 and track[-1][1] == 1060
    assert all(x == 300 for t, x in track if t < Motion().switch_after_s)


def test_no_face_gives_a_still_centre_window() -> None:
    lefts = crop_path([FaceSample(0.0, ()), FaceSample(1.0, ())], W, H, FPS, 2.0)
    assert lefts == [even_centre()] * 60


def test_the_window_never_leaves_the_frame() -> None:
    lefts = crop_path(samples([(0.0, 5.0), (2.0, 1275.0)]), W, H, FPS, 4.0)
    assert min(lefts) >= 0 and max(lefts) <= W - WIN
    assert lefts[0] == 0 and lefts[-1] >= W - WIN - Motion().settle * WIN - 2


def even_centre() -> int:
    return round((W - WIN) / 4) * 2
