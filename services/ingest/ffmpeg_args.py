"""The FFmpeg command line for one connection to a source. Pure: it only builds a list.

One FFmpeg does two jobs at once:

1. it copies the video and audio packets, unchanged, into short MPEG-TS files
   (`seg_000000.ts`, `seg_000001.ts`, …) and writes one line per finished file to a list
   (`name,start,end` in seconds);
2. it turns the first audio track into raw PCM (16-bit, 16 kHz, mono) on its standard output.

`aresample=async=1:first_pts=0` pads the start with silence (and fills holes) so that PCM sample
number n is exactly at media time n / 16000, the same clock as the segment list.
"""

from __future__ import annotations

from pathlib import Path

from services.ingest.sources import Source

SAMPLE_RATE = 16_000
SEGMENT_PATTERN = "seg_%06d.ts"


def segment_name(seq: int) -> str:
    """The file name of segment number `seq`."""
    return SEGMENT_PATTERN % seq


def build_args(
    source: Source,
    *,
    out_dir: Path,
    segment_list: Path,
    start_number: int,
    segment_s: float = 2.0,
    ffmpeg: str = "ffmpeg",
) -> list[str]:
    """Every argument of the FFmpeg command, program name first."""
    return [
        ffmpeg, "-hide_banner", "-nostdin", "-loglevel", "warning",
        *source.input_args,
        # Output 1: the recording, cut into segments.
        "-map", source.video_map, "-map", source.audio_map, *source.codec_args,
        "-f", "segment", "-segment_time", f"{segment_s:g}", "-segment_format", "mpegts",
        "-segment_list", str(segment_list), "-segment_list_type", "csv",
        "-segment_start_number", str(start_number),
        str(out_dir / SEGMENT_PATTERN),
        # Output 2: mono 16 kHz PCM on standard output.
        "-map", source.pcm_map, "-af", "aresample=async=1:first_pts=0",
        "-ac", "1", "-ar", str(SAMPLE_RATE), "-c:a", "pcm_s16le", "-f", "s16le", "pipe:1",
    ]
