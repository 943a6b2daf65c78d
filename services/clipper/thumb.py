"""One JPEG picture from a finished clip, taken at the spike, for the dashboard's clip list.

FFmpeg seeks to the moment, decodes one frame, scales it to `WIDTH` pixels wide (keeping the
shape) and writes it as a JPEG. The file appears only when it is whole.
"""

from __future__ import annotations

import os
from pathlib import Path

from .cut import CutError, run_program

WIDTH = 320
"""Width of a thumbnail in pixels; the height follows the picture's shape (an even number)."""
END_MARGIN_S = 0.5
"""Never seek closer than this to the clip's end: there may be no frame left to decode."""


def thumbnail_at(spike_offset: float, duration: float) -> float:
    """Where in the clip to take the picture: the spike, kept inside the clip."""
    latest = max(0.0, duration - END_MARGIN_S)
    return round(min(max(0.0, spike_offset), latest), 3)


def thumbnail_args(video: Path, out: Path, at: float) -> list[str]:
    """The FFmpeg command that writes the frame at `at` seconds of `video` as a JPEG."""
    return [
        "ffmpeg", "-hide_banner", "-nostdin", "-v", "error", "-y",
        "-ss", f"{at:.3f}", "-i", str(video),
        "-frames:v", "1", "-an", "-vf", f"scale={WIDTH}:-2", "-q:v", "4",
        "-c:v", "mjpeg", "-f", "image2", str(out),
    ]


async def make_thumbnail(video: Path, out: Path, at: float, timeout_s: float) -> None:
    """Write the JPEG `out` from `video` at `at` seconds. Raises `CutError` if FFmpeg fails."""
    part = out.with_name(f".{out.name}.part")
    try:
        code, _, err = await run_program(thumbnail_args(video, part, at), timeout_s)
        if code != 0:
            lines = [line.strip() for line in err.strip().splitlines() if line.strip()]
            raise CutError(f"ffmpeg could not take a picture at {at:.1f} s "
                           f"(exit code {code}): {' / '.join(lines[-3:]) or 'no error text'}")
        if not part.is_file() or part.stat().st_size == 0:
            raise CutError(f"ffmpeg found no picture at {at:.1f} s of {video.name}")
        os.replace(part, out)
    finally:
        part.unlink(missing_ok=True)
