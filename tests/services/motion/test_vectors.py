"""Tests for motion-vector analysis, on short clips made with ffmpeg."""

from __future__ import annotations

import itertools
import os
import shutil
import subprocess
import time
from pathlib import Path

import av
import numpy as np
import pytest

from services.motion.vectors import (
    REFERENCE_HEIGHT,
    SegmentAnalysis,
    SegmentError,
    analyse_segment,
    frame_motion,
    is_scene_cut,
)

X264 = ["-c:v", "libx264", "-preset", "veryfast", "-bf", "2", "-g", "60",
        "-pix_fmt", "yuv420p", "-r", "30"]
PAN_PX = 4  # pixels per frame at 720p


def ffmpeg(*args: str) -> None:
    exe = shutil.which("ffmpeg")
    assert exe is not None, "ffmpeg must be installed for these tests"
    subprocess.run([exe, "-v", "error", "-y", *args], check=True)


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Make every test clip once: 2-3 s each, 30 fps, H.264 with B-frames."""
    d = tmp_path_factory.mktemp("clips")
    # Blurred noise: texture everywhere, so every block has one true match.
    texture = d / "texture.png"
    ffmpeg("-f", "lavfi", "-i",
           "nullsrc=s=1660x720:d=1,format=gray,geq=lum='random(1)*255',gblur=sigma=1.5,format=yuv420p",
           "-frames:v", "1", str(texture))
    pan = f"crop=1280:720:x='{PAN_PX}*n':y=0"
    names = ("pan720.mp4", "pan480.mp4", "still.mp4", "cut_i.mp4", "cut_p.mp4", "cut_mirror.mp4",
             "real720.ts")
    out = {name: d / name for name in names}
    ffmpeg("-loop", "1", "-framerate", "30", "-i", str(texture), "-vf", pan, "-frames:v", "90",
           *X264, str(out["pan720.mp4"]))
    ffmpeg("-loop", "1", "-framerate", "30", "-i", str(texture), "-vf", f"{pan},scale=854:480",
           "-frames:v", "90", *X264, str(out["pan480.mp4"]))
    ffmpeg("-loop", "1", "-framerate", "30", "-i", str(texture), "-vf", "crop=1280:720:0:0",
           "-frames:v", "60", *X264, str(out["still.mp4"]))
    # Two different sources joined at 1.5 s: the encoder may put an I-frame at the cut...
    joined = ["-f", "lavfi", "-i", "testsrc2=s=1280x720:r=30:d=1.5",
              "-loop", "1", "-framerate", "30", "-t", "1.5", "-i", str(texture),
              "-filter_complex", f"[1]{pan},setsar=1[b];[0][b]concat=n=2:v=1"]
    ffmpeg(*joined, *X264, str(out["cut_i.mp4"]))
    # ...or, with its scene-cut detection off, a P-frame full of intra blocks.
    ffmpeg(*joined, *X264, "-x264-params", "scenecut=0", str(out["cut_p.mp4"]))
    # A cut to the mirrored picture: same brightness histogram, different layout.
    ffmpeg("-f", "lavfi", "-i", "testsrc2=s=1280x720:r=30:d=3", "-vf", "hflip=enable='gte(t,1.5)'",
           *X264, "-x264-params", "scenecut=0", str(out["cut_mirror.mp4"]))
    # Busy "real" content in MPEG-TS, like an HLS segment (timestamps start at 1.4 s).
    ffmpeg("-f", "lavfi", "-i", "testsrc2=s=1280x720:r=30:d=3", "-vf", "noise=alls=8:allf=t",
           *X264, "-b:v", "3M", "-f", "mpegts", str(out["real720.ts"]))
    return out


@pytest.mark.parametrize("name", ["pan720.mp4", "pan480.mp4"])
def test_pan_reads_4_px_per_frame_at_720p(clips: dict[str, Path], name: str) -> None:
    result = analyse_segment(clips[name], 10.0)
    assert [s.t for s in result.seconds] == [10.0, 11.0, 12.0]
    for sec in result.seconds:
        assert sec.motion_avg == pytest.approx(PAN_PX, rel=0.25)
        assert sec.motion_frames > 0
        assert not sec.scene_cut
    assert result.complete


def test_still_picture_reads_near_zero(clips: dict[str, Path]) -> None:
    result = analyse_segment(clips["still.mp4"])
    assert result.seconds
    for sec in result.seconds:
        assert sec.motion_avg < 0.3
        assert sec.motion_max < 0.3
        assert not sec.scene_cut


@pytest.mark.parametrize("name", ["cut_i.mp4", "cut_p.mp4", "cut_mirror.mp4"])
def test_hard_cut_flags_only_its_second(clips: dict[str, Path], name: str) -> None:
    result = analyse_segment(clips[name], 100.0)
    flags = [(s.t, s.scene_cut) for s in result.seconds]
    assert flags == [(100.0, False), (101.0, True), (102.0, False)]
    cut_frames = [f for f in result.frame_stats if f.scene_cut]
    assert len(cut_frames) == 1
    assert 1.5 <= cut_frames[0].rel < 1.6


def test_sampled_frames(clips: dict[str, Path]) -> None:
    result = analyse_segment(clips["pan720.mp4"], 5.0, sample_fps=2.0, max_height=480)
    assert 5 <= len(result.frames) <= 7  # 3 s at about 2 per second
    times = [f.t for f in result.frames]
    assert times == sorted(times) and len(set(times)) == len(times)
    assert 5.0 <= times[0] < 5.1
    assert all(0.3 <= b - a <= 0.7 for a, b in itertools.pairwise(times))
    decoder = av.CodecContext.create("mjpeg", "r")
    for f in result.frames:
        assert f.jpeg[:2] == b"\xff\xd8"
        assert f.height <= 480 and (f.width, f.height) == (854, 480)
        pictures = decoder.decode(av.Packet(f.jpeg))
        assert len(pictures) == 1
        picture = pictures[0]
        assert isinstance(picture, av.VideoFrame)
        assert (picture.width, picture.height) == (f.width, f.height)


def test_no_frames_when_sampling_off(clips: dict[str, Path]) -> None:
    assert analyse_segment(clips["still.mp4"], sample_fps=0.0).frames == ()


def test_mpegts_bytes_and_offsets(clips: dict[str, Path]) -> None:
    data = clips["real720.ts"].read_bytes()
    result = analyse_segment(data, 42.0)
    assert isinstance(result, SegmentAnalysis)
    assert (result.width, result.height, result.fps) == (1280, 720, 30.0)
    assert [s.t for s in result.seconds] == [42.0, 43.0, 44.0]
    assert result.frames[0].t == pytest.approx(42.0)
    assert sum(s.frames for s in result.seconds) < 90  # B-frames were skipped
    assert not any(s.scene_cut for s in result.seconds)


@pytest.mark.parametrize(
    "kind", ["garbage", "empty", "half-mp4", "tiny-ts", "missing", "directory"])
def test_broken_input_raises_segment_error(clips: dict[str, Path], tmp_path: Path,
                                           kind: str) -> None:
    mp4 = clips["pan720.mp4"].read_bytes()
    sources: dict[str, str | bytes] = {
        "garbage": np.random.default_rng(0).bytes(50_000),
        "empty": b"",
        "half-mp4": mp4[: len(mp4) // 2],  # the index (moov) sits at the end and is lost
        "tiny-ts": clips["real720.ts"].read_bytes()[:1000],
        "missing": str(tmp_path / "nope.ts"),
        "directory": str(tmp_path),
    }
    with pytest.raises(SegmentError):
        analyse_segment(sources[kind])


def test_truncated_ts_returns_what_decoded(clips: dict[str, Path], tmp_path: Path) -> None:
    data = clips["real720.ts"].read_bytes()
    short = tmp_path / "short.ts"
    short.write_bytes(data[: len(data) // 2] + os.urandom(5000))
    result = analyse_segment(short)
    assert 1 <= len(result.seconds) <= 2


def test_frame_motion_known_answer() -> None:
    dtype = np.dtype([("source", "<i4"), ("w", "u1"), ("h", "u1"), ("src_x", "<i2"),
                      ("src_y", "<i2"), ("dst_x", "<i2"), ("dst_y", "<i2"), ("flags", "<u8"),
                      ("motion_x", "<i4"), ("motion_y", "<i4"), ("motion_scale", "<u2")])
    vecs = np.zeros(3, dtype=dtype)
    vecs["source"] = -1
    vecs["w"], vecs["h"] = 16, 16
    vecs["motion_scale"] = 4  # quarter-pel units
    vecs["motion_x"] = [24, 24, 0]  # 6 px, 6 px, 0 px
    vecs["motion_y"] = [32, 32, 0]  # 8 px -> length 10 px
    vecs["w"][2], vecs["h"][2] = 32, 16  # the still block is twice as big
    # Area-weighted mean: (10*256 + 10*256 + 0*512) / 1024 = 5 px over a 2-frame gap = 2.5 px/frame.
    motion, intra = frame_motion(vecs, 2.0, 64, 32)
    assert motion == pytest.approx(2.5 * REFERENCE_HEIGHT / 32)
    assert intra == pytest.approx(1.0 - 1024 / (64 * 32))
    assert frame_motion(vecs[:0], 1.0, 64, 32) == (0.0, 1.0)


@pytest.mark.parametrize(
    ("hist", "grid", "intra", "key", "expected"),
    [
        (None, None, None, True, False),  # first frame: nothing to compare
        (0.8, 0.3, None, True, True),  # big brightness change at a key frame
        (0.8, 0.3, 0.1, False, True),  # big brightness change at a P-frame
        (0.01, 0.3, 0.9, False, True),  # same histogram, new layout, unpredictable
        (0.01, 0.3, 0.1, False, False),  # layout moved but blocks predicted: motion
        (0.01, 0.05, 0.9, False, False),  # noisy frame coded intra, same picture
        (0.01, 0.01, None, True, False),  # a normal periodic key frame
    ],
)
def test_scene_cut_rules(hist: float | None, grid: float | None, intra: float | None,
                         key: bool, expected: bool) -> None:
    assert is_scene_cut(hist, grid, intra, key) is expected


def test_print_cost_per_stream_second(clips: dict[str, Path]) -> None:
    """Not a pass/fail check: prints CPU ms per second of 720p30 video (run with -s)."""
    for name in ("real720.ts", "pan720.mp4"):
        best = min(_cpu(clips[name]) for _ in range(3))
        print(f"\nmotion+2 fps JPEG, {name}: {best * 1000 / 3.0:.1f} CPU ms per stream-second")


def _cpu(path: Path) -> float:
    start = time.process_time()
    analyse_segment(path)
    return time.process_time() - start
