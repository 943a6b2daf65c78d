"""How much the picture moves, read from the video's own motion vectors.

An H.264 encoder already worked out, for every block of every P-frame, how
far that block moved since its reference frame. FFmpeg hands those vectors
out when asked (``flags2=+export_mvs``), so we get motion almost for free
while decoding, with no optical flow of our own.

``analyse_segment`` decodes one video segment (MPEG-TS or MP4, a path or
bytes) once and returns:

* one ``MotionSecond`` per second of video: average and peak motion in
  pixels per frame *as if the video were 720p*, and a scene-cut flag;
* about two ``SampledFrame`` JPEGs per second (at most 480 px high) for the
  face worker.

Cheap decoding: we skip B-frames (``skip_frame="BIDIR"``), about half the
decode cost, on one thread. P-frame vectors stay intact, and the B-frames
carry no extra motion information we need: their motion is in between that
of the P-frames around them. Sampled frames therefore come from I/P frames.
We keep the loop filter on: skipping it (``skip_loop_filter=all``) saved only
1-12 % of decode time here and made the sampled pictures drift from the true
ones (39-43 dB PSNR).

A vector says how far a block moved since its reference frame, not how many
frames back that reference is. With B-frames skipped, a P-frame's reference
is the I/P frame decoded before it, so we divide by the time gap between the
two, in frames. (An encoder using several reference frames may point a few
blocks further back; those read a little high.)

Errors: a file that cannot be opened, has no video, or yields no frames
raises ``SegmentError``. If FFmpeg raises part-way, we return what decoded
with ``complete=False``; an MPEG-TS file that was simply cut short just ends
early and stays ``complete=True``. A cut on the segment's very first frame is
not seen (there is no earlier frame in the segment to compare with).

Only codecs that export motion vectors (H.264, MPEG-1/2/4) give motion;
for others (HEVC, AV1) ``motion_frames`` is 0 and motion reads 0.0.
"""

from __future__ import annotations

import io
import math
import os
from dataclasses import dataclass
from fractions import Fraction

import av
import numpy as np
import numpy.typing as npt
from av.video.frame import PictureType, VideoFrame

REFERENCE_HEIGHT = 720  # motion is reported as if the video were this tall
CUT_HIST_DISTANCE = 0.5  # luma histograms this different (0..1) mean a cut
CUT_INTRA_SHARE = 0.6  # a P-frame this unpredictable from its past is a cut...
CUT_GRID_DISTANCE = 0.1  # ...if its brightness layout also changed this much (0..1)
CUT_KEY_GRID_DISTANCE = 0.2  # a key frame is a cut if its layout changed this much
JPEG_QSCALE = 5  # MJPEG quantiser: 2 best .. 31 worst; 5 is about 27 kB at 854x480
HIST_BINS = 32
GRID = (9, 16)  # rows, columns of the brightness layout grid
_EIGHT_BIT_LUMA = {"yuv420p", "yuvj420p", "yuv422p", "yuvj422p", "yuv444p", "yuvj444p",
                   "nv12", "nv21", "gray"}

Source = str | os.PathLike[str] | bytes


class SegmentError(Exception):
    """The segment could not be read as video at all (corrupt, empty, no video)."""


@dataclass(frozen=True, slots=True)
class MotionSecond:
    """Motion during one second of video.

    t: start of the second, in stream time (t0 + whole seconds into the segment).
    motion_avg: mean over the second's P-frames of each frame's block-area-weighted
        mean vector length, in pixels per frame at 720p.
    motion_max: the largest of those per-frame means within the second.
    scene_cut: a hard cut happened in this second.
    frames: frames decoded (I and P) in this second.
    motion_frames: how many of them carried motion vectors (P-frames).
    intra_share: mean share of a P-frame's area with no vector (new content
        the encoder could not find in the reference; high during cuts/flashes).
    """

    t: float
    motion_avg: float
    motion_max: float
    scene_cut: bool
    frames: int
    motion_frames: int
    intra_share: float


@dataclass(frozen=True, slots=True)
class SampledFrame:
    """One picture for the face worker: JPEG bytes taken at stream time t."""

    t: float
    jpeg: bytes
    width: int
    height: int


@dataclass(frozen=True, slots=True)
class FrameStats:
    """What we learned from one decoded frame (kept for debugging and tests).

    rel: seconds since the segment start. motion is None for frames without
    vectors (I-frames) and for cut frames. The distances (0..1, see
    ``is_scene_cut``) are None for the first frame.
    """

    rel: float
    pict_type: int
    motion: float | None
    intra_share: float | None
    hist_distance: float | None
    grid_distance: float | None
    scene_cut: bool


@dataclass(frozen=True, slots=True)
class SegmentAnalysis:
    """Everything one decoding pass over a segment found."""

    seconds: tuple[MotionSecond, ...]
    frames: tuple[SampledFrame, ...]
    frame_stats: tuple[FrameStats, ...]
    complete: bool
    width: int
    height: int
    fps: float


def frame_motion(vectors: npt.NDArray[np.void], ref_distance: float,
                 width: int, height: int) -> tuple[float, float]:
    """Return (motion, intra_share) of one P-frame from its motion vectors.

    motion: mean vector length over the blocks that have a past-reference
    vector, weighted by block area, divided by how many frames back the
    reference is, and scaled to a 720p picture. A pan moves every block, so
    blocks without a vector are left out rather than counted as still.
    intra_share: share of the picture covered by no vector at all.
    """
    area = float(max(width * height, 1))
    past = vectors[vectors["source"] < 0]
    if past.size == 0:
        return 0.0, 1.0
    w = past["w"].astype(np.float64) * past["h"].astype(np.float64)
    scale = np.maximum(past["motion_scale"].astype(np.float64), 1.0)
    dx, dy = past["motion_x"].astype(np.float64), past["motion_y"].astype(np.float64)
    length = np.hypot(dx, dy) / scale
    covered = float(w.sum())
    mean = float((length * w).sum() / covered) if covered > 0 else 0.0
    motion = mean / max(ref_distance, 1.0) * REFERENCE_HEIGHT / max(height, 1)
    intra = min(max(1.0 - covered / area, 0.0), 1.0)
    return (motion if math.isfinite(motion) else 0.0), intra


def luma_signature(frame: VideoFrame) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Two tiny summaries of the frame's brightness, read cheaply from every
    4th pixel of the Y plane without converting the frame:

    * a 32-bin histogram (sums to 1): which brightness levels are present;
    * a 9 x 16 grid of mean brightness (0..1): where things are bright.
    """
    if frame.format.name in _EIGHT_BIT_LUMA:
        plane = frame.planes[0]
        raw = np.frombuffer(memoryview(plane), np.uint8)[: plane.line_size * plane.height]
        luma = raw.reshape(plane.height, plane.line_size)[::4, : plane.width : 4]
    else:
        luma = np.asarray(frame.to_ndarray(format="gray"), dtype=np.uint8)[::4, ::4]
    counts = np.bincount((luma >> 3).ravel(), minlength=HIST_BINS).astype(np.float64)
    hist = counts / max(float(counts.sum()), 1.0)
    rows, cols = GRID
    h, w = (luma.shape[0] // rows) * rows, (luma.shape[1] // cols) * cols
    if h == 0 or w == 0:
        return hist, np.full(GRID, float(luma.mean()) / 255.0 if luma.size else 0.0)
    grid = luma[:h, :w].reshape(rows, h // rows, cols, w // cols).mean(axis=(1, 3)) / 255.0
    return hist, grid


def histogram_distance(a: npt.NDArray[np.float64], b: npt.NDArray[np.float64]) -> float:
    """How different two histograms are: 0 same, 1 nothing in common."""
    return float(0.5 * np.abs(a - b).sum())


def is_scene_cut(hist_distance: float | None, grid_distance: float | None,
                 intra_share: float | None, key_frame: bool) -> bool:
    """Decide if a frame starts a new shot, compared with the frame before it.

    * The brightness histogram changed a lot (>= 0.5): a cut (a full-screen
      flash also counts).
    * A P-frame the encoder could mostly not predict (>= 60 % intra) whose
      brightness layout also moved (grid >= 0.1): a cut between shots of
      similar overall brightness, e.g. a mirrored scene.
    * A key frame whose layout changed hugely (grid >= 0.2): the encoder put
      an I-frame at the cut, so there is no intra share to look at.
    Normal motion, even fast pans, keeps the layout grid change near 0.01.
    """
    if hist_distance is None or grid_distance is None:
        return False
    if hist_distance >= CUT_HIST_DISTANCE:
        return True
    unpredictable = intra_share is not None and intra_share >= CUT_INTRA_SHARE
    if unpredictable and grid_distance >= CUT_GRID_DISTANCE:
        return True
    return key_frame and grid_distance >= CUT_KEY_GRID_DISTANCE


def analyse_segment(source: Source, t0: float = 0.0, *, sample_fps: float = 2.0,
                    max_height: int = 480) -> SegmentAnalysis:
    """Decode one segment once; return motion per second and sampled JPEG frames.

    source: file path or the segment's bytes. t0: stream time of the segment
    start, added to every time we return. sample_fps: JPEGs per second
    (0 for none). Raises SegmentError if nothing could be decoded.
    """
    try:
        file = io.BytesIO(source) if isinstance(source, bytes) else os.fspath(source)
        container = av.open(file, "r")
    except (av.FFmpegError, OSError, ValueError) as exc:
        raise SegmentError(f"cannot open segment: {exc}") from exc
    with container:
        if not container.streams.video:
            raise SegmentError("segment has no video stream")
        stream = container.streams.video[0]
        ctx = stream.codec_context
        ctx.options = {"flags2": "+export_mvs"}
        ctx.skip_frame = "BIDIR"
        ctx.thread_count = 1
        rate = stream.average_rate or stream.guessed_rate or stream.base_rate
        fps = float(rate) if rate and float(rate) > 0 else 30.0
        tb = stream.time_base or Fraction(1, 90_000)
        start = float(stream.start_time * tb) if stream.start_time is not None else None
        stats: list[FrameStats] = []
        samples: list[SampledFrame] = []
        encoder: av.VideoCodecContext | None = None
        prev_pts: int | None = None
        prev_hist: npt.NDArray[np.float64] | None = None
        prev_grid: npt.NDArray[np.float64] | None = None
        next_sample = 0.0
        complete = True
        width = height = 0
        frames = container.decode(stream)
        while True:
            try:
                frame = next(frames)
            except StopIteration:
                break
            except (av.FFmpegError, ValueError) as exc:  # broken data part-way through
                if not stats:
                    raise SegmentError(f"cannot decode segment: {exc}") from exc
                complete = False
                break
            width, height = frame.width, frame.height
            if frame.pts is not None:
                if start is None:
                    start = float(frame.pts * tb)
                rel = float(frame.pts * tb) - start
            else:
                rel = stats[-1].rel + 1.0 / fps if stats else 0.0
            motion: float | None = None
            intra: float | None = None
            mvs = frame.side_data.get("MOTION_VECTORS")
            if frame.pict_type == PictureType.P and mvs is not None and prev_pts is not None \
                    and frame.pts is not None:
                dist = max(1.0, round(float((frame.pts - prev_pts) * tb) * fps))
                motion, intra = frame_motion(mvs.to_ndarray(), dist, width, height)
            if frame.pict_type != PictureType.B:
                prev_pts = frame.pts
            hist, grid = luma_signature(frame)
            dist_h = histogram_distance(hist, prev_hist) if prev_hist is not None else None
            dist_g = float(np.abs(grid - prev_grid).mean()) if prev_grid is not None else None
            prev_hist, prev_grid = hist, grid
            cut = is_scene_cut(dist_h, dist_g, intra, frame.key_frame)
            if cut:
                motion = None  # vectors across a cut point at random look-alikes, not motion
            stats.append(FrameStats(rel, int(frame.pict_type), motion, intra, dist_h, dist_g, cut))
            if sample_fps > 0 and rel + 1e-6 >= next_sample:
                encoder, shot = _to_jpeg(frame, encoder, max_height, len(samples))
                samples.append(SampledFrame(t0 + rel, *shot))
                next_sample = (math.floor(rel * sample_fps + 1e-6) + 1) / sample_fps
    if not stats:
        raise SegmentError("segment holds no decodable video frames")
    return SegmentAnalysis(tuple(bucket_seconds(stats, t0)), tuple(samples), tuple(stats),
                           complete, width, height, fps)


def bucket_seconds(stats: list[FrameStats], t0: float) -> list[MotionSecond]:
    """Group per-frame stats into whole seconds since the segment start."""
    buckets: dict[int, list[FrameStats]] = {}
    for s in stats:
        buckets.setdefault(max(0, math.floor(s.rel + 1e-6)), []).append(s)
    out: list[MotionSecond] = []
    for sec in sorted(buckets):
        group = buckets[sec]
        moving = [s.motion for s in group if s.motion is not None]
        intra = [s.intra_share for s in group if s.intra_share is not None]
        out.append(MotionSecond(
            t=t0 + sec,
            motion_avg=float(np.mean(moving)) if moving else 0.0,
            motion_max=float(np.max(moving)) if moving else 0.0,
            scene_cut=any(s.scene_cut for s in group),
            frames=len(group),
            motion_frames=len(moving),
            intra_share=float(np.mean(intra)) if intra else 0.0,
        ))
    return out


def _to_jpeg(frame: VideoFrame, encoder: av.VideoCodecContext | None,
             max_height: int, index: int) -> tuple[av.VideoCodecContext, tuple[bytes, int, int]]:
    """Shrink the frame to at most max_height and encode it as a JPEG with
    FFmpeg's MJPEG encoder (no Pillow or OpenCV needed). Reuses the encoder
    while the size stays the same."""
    height = min(frame.height, max_height)
    width = max(2, round(frame.width * height / frame.height / 2) * 2)
    if encoder is None or encoder.width != width or encoder.height != height:
        created = av.CodecContext.create("mjpeg", "w")
        assert isinstance(created, av.VideoCodecContext)
        encoder = created
        encoder.width, encoder.height = width, height
        encoder.pix_fmt = "yuv420p"
        encoder.color_range = 2  # full range, what JPEG readers expect
        encoder.time_base = Fraction(1, 1000)
        encoder.qmin = encoder.qmax = JPEG_QSCALE
    small = frame.reformat(width=width, height=height, format="yuv420p", dst_color_range="JPEG")
    small.pts, small.time_base = index, encoder.time_base  # the encoder wants rising timestamps
    data = b"".join(bytes(p) for p in encoder.encode(small))
    return encoder, (data, width, height)
