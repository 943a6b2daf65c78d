"""What `clip-live vod` learns from the file before the workers start, and how it cuts parts.

- `media_length`: how long the file is (ffprobe);
- `scan`: one quick pass over the file's packets (no picture is decoded): where its keyframes
  are, and which sound packets will not decode (a damaged file);
- `cut_part`: copy one part out of the file, on keyframes, without encoding.
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from services.vod.parts import Part

AUDIO_ONLY_CUT_EVERY_S = 1.0
"""A file with no picture can be cut anywhere; these are its cut points."""
SCAN_REPORT_EVERY_S = 30.0


class NotMedia(Exception):
    """The file has no length FFmpeg can tell: not a video, or empty."""


@dataclass
class Scan:
    """What one pass over the file's packets found."""

    keyframes: list[float] = field(default_factory=list)
    bad_sound: list[float] = field(default_factory=list)
    """Times (seconds) of sound packets that would not decode."""
    sound_packets: int = 0


def source_name(source: str) -> str:
    """A short name for a VOD's file or URL: its last path part, without a query."""
    return source.rstrip("/").rsplit("/", 1)[-1].split("?")[0]


def media_length(video: Path) -> float:
    """The file's length in seconds, from ffprobe. Raises NotMedia when it has none."""
    done = subprocess.run(["ffprobe", "-v", "error", "-show_entries", "format=duration",
                           "-of", "csv=p=0", str(video)], capture_output=True, text=True,
                          timeout=30, check=False)
    try:
        length = float(done.stdout.strip())
    except ValueError:
        raise NotMedia(f"{video}: FFmpeg cannot tell how long it is") from None
    if length <= 0:
        raise NotMedia(f"{video}: it is empty")
    return length


def scan(video: Path, progress: Callable[[float], None] | None = None) -> Scan:
    """Read every packet once: note the keyframes and decode only the sound (cheap: about a
    second for an hour). Garbage in the middle of a file hits its sound packets too, since
    sound and picture are stored interleaved; damage that hits only picture packets is not
    seen here (the decoder then hides it, as a player would)."""
    import av

    found = Scan()
    next_report = SCAN_REPORT_EVERY_S
    with av.open(str(video)) as container:
        streams = [*container.streams.video[:1], *container.streams.audio[:1]]
        has_video = bool(container.streams.video)
        last_cut = -AUDIO_ONLY_CUT_EVERY_S
        for packet in container.demux(streams):
            if packet.pts is None or packet.time_base is None:
                continue
            t = float(packet.pts * packet.time_base)
            if packet.stream.type == "video":
                if packet.is_keyframe:
                    found.keyframes.append(t)
                continue
            found.sound_packets += 1
            if not has_video and t - last_cut >= AUDIO_ONLY_CUT_EVERY_S:
                found.keyframes.append(t)
                last_cut = t
            try:
                packet.decode()
            except av.error.FFmpegError:
                found.bad_sound.append(t)
            if progress is not None and t >= next_report:
                progress(t)
                next_report = t + SCAN_REPORT_EVERY_S
    found.keyframes.sort()
    return found


def cut_part(video: Path, part: Part, dest: Path) -> Path:
    """Copy `part` out of `video` into `dest` (Matroska holds any codec), its clock starting
    at 0 at `part.start`. Raises RuntimeError with FFmpeg's reason when it fails."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(
        ["ffmpeg", "-hide_banner", "-loglevel", "error", "-y", "-ss", f"{part.start:.3f}",
         "-i", str(video), "-t", f"{part.end - part.start:.3f}", "-map", "0:v:0?",
         "-map", "0:a:0?", "-c", "copy", "-avoid_negative_ts", "make_zero", str(dest)],
        capture_output=True, text=True, check=False)
    if done.returncode != 0:
        why = (done.stderr.strip().splitlines() or ["no reason given"])[-1]
        raise RuntimeError(f"could not cut part {part.index + 1}: {why}")
    return dest
