"""Word-by-word captions for a short, as ASS subtitles (written by pysubs2, drawn by FFmpeg's
libass). Pure: no files.

Words are shown a few at a time; the word being said is drawn in the highlight colour. Text is
big enough for a phone and kept inside the safe area: clear of the platform's buttons and
captions at the bottom, its name at the top, and the side edges.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import pysubs2

from services.asr.streaming import TimedWord  # here its times are seconds of the clip


@dataclass(frozen=True)
class SafeArea:
    """Parts of the short's size to keep text out of (phone apps draw over them)."""

    top: float = 0.12
    bottom: float = 0.25
    side: float = 0.08


SAFE = SafeArea()


@dataclass(frozen=True)
class Style:
    """A caption look."""

    name: str
    font: str = "DejaVu Sans"
    size: float = 0.06
    """Font size as a part of the short's width: for 1080 wide, 0.06 is about 65 px."""
    colour: tuple[int, int, int] = (255, 255, 255)
    highlight: tuple[int, int, int] = (255, 221, 0)
    outline: float = 0.006
    """Outline width as a part of the short's width."""
    upper: bool = True
    max_words: int = 3
    lift: float = 0.0
    """How far above the bottom of the safe area the text sits, as a part of the height."""


STYLES = {
    "bold": Style(name="bold"),
    "clean": Style(name="clean", size=0.05, highlight=(80, 230, 120), upper=False,
                   max_words=4, outline=0.004),
    "pop": Style(name="pop", size=0.075, highlight=(255, 70, 160), max_words=2,
                 outline=0.008, lift=0.05),
}
"""The named caption presets."""

MAX_GAP_S = 0.6
"""A pause this long between words starts a new group."""
MAX_SPAN_S = 1.8
"""A group is shown at most this long from its first word."""
HOLD_S = 0.3
"""A group stays this long after its last word (less if the next group starts)."""


def group_words(words: Sequence[TimedWord], max_words: int) -> list[list[TimedWord]]:
    """Words in groups of at most `max_words`, split at pauses and kept short in time."""
    groups: list[list[TimedWord]] = []
    for word in sorted((w for w in words if w.text.strip()), key=lambda w: w.start):
        current = groups[-1] if groups else None
        if (current is None or len(current) >= max_words
                or word.start - current[-1].end > MAX_GAP_S
                or word.end - current[0].start > MAX_SPAN_S):
            groups.append([word])
        else:
            current.append(word)
    return groups


def _clean(text: str, upper: bool) -> str:
    """A word fit for ASS: no override braces or backslashes, one line."""
    text = " ".join(text.replace("{", "(").replace("}", ")").replace("\\", "/").split())
    return text.upper() if upper else text


def _ass_colour(rgb: tuple[int, int, int]) -> str:
    red, green, blue = rgb
    return f"&H{blue:02X}{green:02X}{red:02X}&"


def caption_lines(words: Sequence[TimedWord], style: Style,
                  duration: float) -> list[tuple[float, float, str]]:
    """(start, end, ASS text) for each moment: one line per word said, with its group shown
    and that word highlighted. Times are cut to the clip."""
    lines: list[tuple[float, float, str]] = []
    groups = group_words(words, style.max_words)
    mark = _ass_colour(style.highlight)
    for n, group in enumerate(groups):
        next_start = groups[n + 1][0].start if n + 1 < len(groups) else duration
        group_end = min(group[-1].end + HOLD_S, next_start)
        for i, word in enumerate(group):
            start = word.start
            end = group[i + 1].start if i + 1 < len(group) else group_end
            start, end = max(0.0, start), min(duration, end)
            if end - start < 0.01:
                continue
            parts = [_clean(w.text, style.upper) for w in group]
            parts[i] = f"{{\\c{mark}}}{parts[i]}{{\\r}}"
            lines.append((start, end, " ".join(parts)))
    return lines


def caption_box(width: int, height: int, style: Style, safe: SafeArea = SAFE) -> tuple[
        int, int, int, int]:
    """Where caption text may be drawn: (left, top, right, bottom) in pixels of the short."""
    bottom = math.floor(height * (1 - safe.bottom - style.lift))
    return (math.ceil(width * safe.side), math.ceil(height * safe.top),
            math.floor(width * (1 - safe.side)), bottom)


def to_ass(words: Sequence[TimedWord], width: int, height: int, duration: float,
           style: Style, safe: SafeArea = SAFE) -> str:
    """The ASS subtitle text for a short `width` x `height` pixels long `duration` seconds."""
    subs = pysubs2.SSAFile()
    subs.info.update({"PlayResX": str(width), "PlayResY": str(height), "WrapStyle": "0"})
    left, _, right, bottom = caption_box(width, height, style, safe)
    subs.styles["Default"] = pysubs2.SSAStyle(
        fontname=style.font, fontsize=round(style.size * width), bold=True,
        primarycolor=pysubs2.Color(*style.colour), outlinecolor=pysubs2.Color(0, 0, 0),
        backcolor=pysubs2.Color(0, 0, 0, 128), outline=max(1.0, round(style.outline * width)),
        shadow=0.0, alignment=pysubs2.Alignment.BOTTOM_CENTER, marginl=left,
        marginr=width - right, marginv=height - bottom)
    for start, end, text in caption_lines(words, style, duration):
        subs.append(pysubs2.SSAEvent(start=round(start * 1000), end=round(end * 1000),
                                     text=text))
    return str(subs.to_string("ass"))
