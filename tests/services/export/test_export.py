"""Shorts made end to end: real clips (a real face photo moving over a background), real
FFmpeg, the real face detector, a real Redis. Frames of the export are checked, not the plan."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from services.export.captions import STYLES, caption_box
from services.export.runner import export_clip
from services.export.sources import ExportError
from services.face.detect import find_faces
from shared.bus import Bus
from shared.settings import Settings
from shared.streams import clip_key
from shared.text import as_text
from tests.services.export.media import (
    HEIGHT,
    OTHER_PHOTO,
    WIDTH,
    Picture,
    background,
    face,
    frames_of,
    loudness,
    put,
    store_clip,
    write_clip,
    write_still_face_clip,
)

OUT_W, OUT_H = 540, 960
SCALE = OUT_H / HEIGHT
WINDOW_W = 404  # the 9:16 window in a 720p frame
FACE_PX, FACE_TOP = 180, 150
WORDS = [("what", 1.0, 1.4), ("a", 1.5, 1.8), ("shot", 1.9, 2.4), ("no", 3.5, 3.9),
         ("way", 4.0, 4.6)]
DURATION = 8.0


def face_x(t: float) -> float:
    """Where the moving face's left edge is at clip time t: still, then across, then still."""
    return 200 + 700 * min(1.0, max(0.0, (t - 2.0) / 4.0))


def yellow(picture: Picture) -> np.ndarray:
    """Pixels in the `bold` style's highlight colour (RGB 255, 221, 0)."""
    b, g, r = picture[:, :, 0].astype(int), picture[:, :, 1].astype(int), picture[:, :, 2]
    return (b < 110) & (g > 170) & (r > 200)


def window_centre(picture: Picture) -> float:
    """The crop window's centre in source pixels, read from the background's red ramp along
    the top rows (the mean red of a window is the red at its centre)."""
    red = picture[2:12, :, 2].astype(float).mean()
    return red / 255 * (WIDTH - 1)


@pytest.fixture
async def moving_clip(bus: Bus, settings: Settings, tmp_path: Path) -> str:
    base, person = background(), face(FACE_PX)

    def frame_at(n: int) -> Picture:
        frame = base.copy()
        put(frame, person, face_x(n / 30), FACE_TOP)
        return frame

    video = tmp_path / "moving.mp4"
    write_clip(video, frame_at, DURATION)
    return await store_clip(bus, settings, video, DURATION, words=WORDS)


async def test_the_crop_follows_the_face_smoothly_and_the_words_show(
        bus: Bus, moving_clip: str) -> None:
    result = await export_clip(bus, moving_clip, layout="auto", size=f"{OUT_W}x{OUT_H}")
    assert (result.layout, result.faces_from, result.words) == ("crop", "detector", 5)
    video = Path(result.video)
    frames = frames_of(video)
    assert abs(len(frames) - DURATION * 30) <= 2
    assert frames[0][1].shape == (OUT_H, OUT_W, 3)
    # The face is whole inside the window in every sampled frame (as big as in the source).
    source = background()
    put(source, face(FACE_PX), 200, FACE_TOP)
    whole = find_faces(source)[0].w * SCALE
    for t, picture in frames[::6]:
        boxes = find_faces(picture)
        assert boxes, f"no face in the short at {t:.2f} s"
        box = boxes[0]
        assert box.x > 0 and box.x + box.w < OUT_W, f"face cut at {t:.2f} s: {box}"
        assert box.w > 0.85 * whole, f"face cut at {t:.2f} s: {box}"
    # The window moves smoothly: a small largest step, and it ends on the face.
    centres = [window_centre(p) for _, p in frames]
    steps = np.abs(np.diff(centres))
    assert steps.max() < 0.05 * WINDOW_W, f"the window jumped {steps.max():.1f} px"
    assert centres[-1] - centres[0] > 500  # it did follow the face across
    assert abs(centres[-1] - (face_x(DURATION) + FACE_PX / 2)) < 0.12 * WINDOW_W
    # Captions: the highlight is on screen at each word, inside the safe area, and moves on.
    left, top, right, bottom = caption_box(OUT_W, OUT_H, STYLES["bold"])
    lower = int(OUT_H * 0.5)  # below the face
    seen: list[float] = []
    for t, picture in frames_of(video, [0.5, *[(s + e) / 2 for _, s, e in WORDS], 3.1, 7.0]):
        mask = yellow(picture)
        mask[:lower] = False
        rows, cols = np.nonzero(mask)
        if t < 0.9 or 2.8 < t < 3.4 or t > 6.0:
            assert len(rows) < 5, f"caption pixels at {t:.2f} s, when no word is said"
            continue
        assert len(rows) > 30, f"no highlighted word at {t:.2f} s"
        assert rows.min() >= top and rows.max() <= bottom, "caption outside the safe area"
        assert cols.min() >= left - 4 and cols.max() <= right + 4
        seen.append(float(cols.mean()))
    assert seen[0] < seen[1] < seen[2], "the highlight did not move to the next word"
    # Audio at -14 LUFS; the thumbnail and the record are there.
    assert abs(loudness(video) - -14.0) < 1.5
    thumb = cv2.imread(result.thumbnail)
    assert thumb is not None and thumb.shape[:2] == (OUT_H, OUT_W)
    record = await bus.redis.hgetall(clip_key(moving_clip))
    assert json.loads(record[b"exports"])[0]["video"] == result.video
    sidecar = json.loads(Path(as_text(record[b"metadata"])).read_text())
    assert sidecar["exports"][0]["layout"] == "crop"


async def test_the_face_worker_data_is_used_when_it_is_there(
        bus: Bus, settings: Settings, tmp_path: Path) -> None:
    video = tmp_path / "live.mp4"
    write_still_face_clip(video, 950, 270, FACE_PX)
    shrink = 480 / HEIGHT  # the face worker's boxes are in 480p frame pixels
    box = (round(990 * shrink), round(320 * shrink), round(100 * shrink), round(100 * shrink))
    clip_id = await store_clip(bus, settings, video, 2.0,
                               faces=[(n / 2, [box]) for n in range(4)])
    result = await export_clip(bus, clip_id, size=f"{OUT_W}x{OUT_H}")
    assert (result.layout, result.faces_from) == ("crop", "live")
    assert result.timings["faces_s"] < 0.5  # the detector did not run
    for t, picture in frames_of(Path(result.video), [0.2, 1.8]):
        found = find_faces(picture)
        assert found and found[0].x > 0 and found[0].x + found[0].w < OUT_W, t


async def test_a_wobbling_face_leaves_the_window_still(
        bus: Bus, settings: Settings, tmp_path: Path) -> None:
    base, person = background(), face(FACE_PX)
    wobble = np.random.default_rng(5).uniform(-22, 22, size=(90, 2))

    def frame_at(n: int) -> Picture:  # a streamer who fidgets but stays in place
        frame = base.copy()
        put(frame, person, 540 + wobble[n, 0], 250 + wobble[n, 1])
        return frame

    video = tmp_path / "wobble.mp4"
    write_clip(video, frame_at, 3.0)
    clip_id = await store_clip(bus, settings, video, 3.0)
    result = await export_clip(bus, clip_id, layout="crop", size=f"{OUT_W}x{OUT_H}")
    centres = [window_centre(p) for _, p in frames_of(Path(result.video))]
    assert max(centres) - min(centres) < 2, "the window jittered with the face"


async def test_with_two_faces_the_window_holds_the_first_one(
        bus: Bus, settings: Settings, tmp_path: Path) -> None:
    base, main, other = background(), face(180), face(260, OTHER_PHOTO)  # a bigger guest

    def frame_at(n: int) -> Picture:
        frame = base.copy()
        put(frame, main, 150 + 20 * np.sin(n / 15), 200)  # the streamer sways a little
        if n >= 45:  # a guest shows up on the other side after 1.5 s
            put(frame, other, 1000, 100)
        return frame

    video = tmp_path / "two.mp4"
    write_clip(video, frame_at, 4.0)
    clip_id = await store_clip(bus, settings, video, 4.0)
    result = await export_clip(bus, clip_id, layout="crop", size=f"{OUT_W}x{OUT_H}")
    assert result.layout == "crop" and result.faces_from == "detector"
    centres = [window_centre(p) for _, p in frames_of(Path(result.video))]
    assert max(centres) < 150 + 180 + 20 + 0.2 * WINDOW_W  # never went to the guest
    assert max(np.abs(np.diff(centres))) < 0.05 * WINDOW_W


async def test_stack_puts_the_facecam_corner_on_top(
        bus: Bus, settings: Settings, tmp_path: Path) -> None:
    base, cam = background(), face(140)

    def frame_at(n: int) -> Picture:
        frame = base.copy()
        cv2.circle(frame, (500 + 3 * n, 400), 60, (255, 255, 255), -1)  # "gameplay"
        put(frame, cam, 1100, 540)  # a facecam in the bottom-right corner
        return frame

    video = tmp_path / "cam.mp4"
    write_clip(video, frame_at, 3.0)
    clip_id = await store_clip(bus, settings, video, 3.0)
    result = await export_clip(bus, clip_id, layout="auto", size=f"{OUT_W}x{OUT_H}")
    assert result.layout == "stack"
    top_h = round(OUT_H * 0.4 / 2) * 2
    for t, picture in frames_of(Path(result.video), [0.5, 1.5, 2.5]):
        boxes = find_faces(picture)
        assert boxes, f"no face in the stacked short at {t:.2f} s"
        assert boxes[0].y + boxes[0].h <= top_h + 2, "the face is not in the top panel"
        assert not find_faces(np.ascontiguousarray(picture[top_h:]))


async def test_a_facecam_set_for_the_channel_goes_on_top(
        bus: Bus, settings: Settings, tmp_path: Path) -> None:
    base, cam = background(), face(200)

    def frame_at(n: int) -> Picture:  # a big face, not in a corner: not found as a facecam
        frame = base.copy()
        put(frame, cam, 420, 260)
        return frame

    video = tmp_path / "set.mp4"
    write_clip(video, frame_at, 2.0)
    clip_id = await store_clip(bus, settings, video, 2.0)
    with pytest.raises(ExportError, match="facecam must look like"):
        await export_clip(bus, clip_id, facecam="1,2,3")
    with pytest.raises(ExportError, match="is not inside"):
        await export_clip(bus, clip_id, facecam="1200,600,300,300")
    result = await export_clip(bus, clip_id, size=f"{OUT_W}x{OUT_H}",
                               facecams={"demo": "380,230,280,260"})
    assert result.layout == "stack" and "set for the channel" in " ".join(result.notes)
    top_h = round(OUT_H * 0.4 / 2) * 2
    [(_, picture)] = frames_of(Path(result.video), [1.0])
    found = find_faces(picture)
    assert found and found[0].y + found[0].h <= top_h + 2


async def test_no_words_and_no_face_give_a_plain_centre_short(
        bus: Bus, settings: Settings, tmp_path: Path) -> None:
    base = background()
    video = tmp_path / "plain.mp4"
    write_clip(video, lambda n: base, 2.0)
    clip_id = await store_clip(bus, settings, video, 2.0)
    result = await export_clip(bus, clip_id, size=f"{OUT_W}x{OUT_H}")
    assert (result.layout, result.words, result.faces_from) == ("crop", 0, "none")
    assert any("no captions" in n for n in result.notes)
    assert any("no face" in n for n in result.notes)
    shown = frames_of(Path(result.video), [0.1, 1.0, 1.9])
    centres = [window_centre(picture) for _, picture in shown]
    # The colour round trip (RGB to YUV and back) shifts the red ramp by a few levels.
    assert all(abs(c - WIDTH / 2) < 0.05 * WINDOW_W for c in centres)
    assert max(centres) - min(centres) < 2  # still
    assert not any(yellow(picture).any() for _, picture in shown)


async def test_bad_input_gives_clear_errors(bus: Bus, settings: Settings,
                                            tmp_path: Path) -> None:
    with pytest.raises(ExportError, match="no clip 'demo-nope'"):
        await export_clip(bus, "demo-nope")
    video = tmp_path / "gone.mp4"
    write_clip(video, lambda n: background(), 1.0)
    clip_id = await store_clip(bus, settings, video, 1.0)
    with pytest.raises(ExportError, match="size must look like"):
        await export_clip(bus, clip_id, size="big")
    with pytest.raises(ExportError, match="unknown caption style"):
        await export_clip(bus, clip_id, style="comic")
    (settings.data_dir / "clips" / "demo" / "clip_20261205T120000Z.mp4").unlink()
    with pytest.raises(ExportError, match="is missing"):
        await export_clip(bus, clip_id)
