"""Turn captions into an SRT subtitle file. Pure: no Redis, no files.

An SRT file is a list of numbered cues. Each cue has a time range and some text:

    1
    00:00:02,500 --> 00:00:04,000
    what a shot

Times count from the clip's first frame. A file with no cues at all is empty, and that is a valid
SRT file too.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from shared.contracts import Caption

from .plan import ClipClock


@dataclass(frozen=True)
class Cue:
    """One subtitle: shown from `start` to `end` seconds after the clip's first frame."""

    start: float
    end: float
    text: str


def srt_time(seconds: float) -> str:
    """Seconds as SRT time, `HH:MM:SS,mmm`. Below 0 counts as 0."""
    total_ms = max(0, round(seconds * 1000))
    hours, rest = divmod(total_ms, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    secs, ms = divmod(rest, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d},{ms:03d}"


def clean_text(text: str) -> str:
    """Text fit for a cue: no blank lines (a blank line would end the cue early)."""
    lines = [" ".join(line.split()) for line in text.splitlines()]
    return "\n".join(line for line in lines if line)


def cues_for_clip(captions: Iterable[Caption], clock: ClipClock) -> list[Cue]:
    """The final captions that show during the clip, cut to the clip and moved to its clock
    (which leaves out the holes in it)."""
    cues: list[Cue] = []
    for caption in sorted(captions, key=lambda c: (c.t, c.dur)):
        text = clean_text(caption.text)
        if not caption.final or not text:
            continue
        start, end = clock.at(caption.t), clock.at(caption.t + caption.dur)
        if round(end * 1000) <= round(start * 1000):
            continue  # Outside the clip, in a hole, or shorter than a millisecond.
        cues.append(Cue(start=start, end=end, text=text))
    return cues


def to_srt(cues: Iterable[Cue]) -> str:
    """The SRT text for these cues, numbered from 1. No cues give an empty text."""
    blocks = [
        f"{n}\n{srt_time(cue.start)} --> {srt_time(cue.end)}\n{cue.text}\n"
        for n, cue in enumerate(cues, start=1)
    ]
    return "\n".join(blocks)


def captions_to_srt(captions: Iterable[Caption], clock: ClipClock) -> str:
    """The final captions during the clip as SRT text."""
    return to_srt(cues_for_clip(captions, clock))
