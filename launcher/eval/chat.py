"""`clip-live eval chat LOG --highlights FILE`: how well chat spikes find the highlights.

Input (see README, "Measuring Clip Live"):

- LOG: a chat log as `clip-live chat-spikes` reads it (plain `<unix time> <user>: <message>`
  lines, or a TwitchDownloader JSON export);
- FILE: one highlight per line, `start end`, in seconds from the log's first line (for a JSON
  export: seconds into the video). `H:MM:SS` works too, and for a plain log a time past
  1e9 is read as a Unix time. Blank lines and lines starting with `#` are skipped.

The spikes come from `services.chat.offline.find_spikes`, the same detector the live chat
service runs, and a spike's time is the one that module names for matching
(`DETECTION_TIME`); this module only matches and scores. A spike matches a highlight when its
time lies within `tolerance` seconds (default 15) of the highlight's interval.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from launcher.eval.metrics import auc, prf

TOLERANCE_S = 15.0
TOP_N = 10
UNIX_FROM = 1e9
"""A highlight time at or past this is a Unix time, not seconds into the log."""


class EvalError(Exception):
    """The input cannot be read. The message says why."""


class Detection(Protocol):
    """What the chat eval needs of a spike: when (seconds into the log) and how strong."""

    @property
    def offset(self) -> float: ...

    @property
    def strength(self) -> float: ...


@dataclass(frozen=True)
class Found:
    """A spike the detector found, on the log's clock (seconds from its first line)."""

    offset: float
    strength: float


@dataclass(frozen=True)
class Highlight:
    start: float
    end: float
    unix: bool = False  # times are Unix times, to be moved onto the log's clock


def read_highlights(path: Path) -> list[Highlight]:
    """One `start end` per line. Raises EvalError on a line that is not two times."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as err:
        raise EvalError(f"cannot read the highlights {path}: {err.strerror or err}") from None
    out = []
    for number, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        parts = line.replace(",", " ").split()
        try:
            start, end = (parse_time(p) for p in parts[:2])
        except ValueError:
            start = end = -1.0
        if len(parts) < 2 or start < 0 or end < start:
            raise EvalError(f"{path}:{number}: expected `start end` (seconds or H:MM:SS, start "
                            f"<= end), got {line!r}")
        out.append(Highlight(start, end, unix=start >= UNIX_FROM))
    if not out:
        raise EvalError(f"{path}: no highlights in it")
    return out


def parse_time(text: str) -> float:
    """Seconds from `12.5`, `1:02` (minutes:seconds) or `1:02:03`."""
    parts = text.split(":")
    if len(parts) > 3:
        raise ValueError(text)
    seconds = 0.0
    for part in parts:
        seconds = seconds * 60 + float(part)
    return seconds


def on_log_clock(highlights: Sequence[Highlight], log_start: float | None) -> list[Highlight]:
    """Move Unix-time highlights onto the log's clock (seconds from its first line)."""
    out = []
    for h in highlights:
        if h.unix and log_start is not None:
            h = Highlight(h.start - log_start, h.end - log_start)
        out.append(h)
    return out


def score(detections: Sequence[Detection], highlights: Sequence[Highlight],
          tolerance: float = TOLERANCE_S, top_n: int = TOP_N) -> dict[str, Any]:
    """Match detections to highlights and score: P/R/F1, the strongest `top_n` that hit,
    and how well strength ranks hits above misses (AUC)."""
    hit = [_matches(d.offset, highlights, tolerance) for d in detections]
    found = [any(_near(d.offset, h, tolerance) for d in detections) for h in highlights]
    strongest = sorted(range(len(detections)), key=lambda i: -detections[i].strength)[:top_n]
    return {
        "detections": len(detections), "highlights": len(highlights),
        "tolerance_s": tolerance,
        **prf(sum(hit), len(detections), len(highlights), found=sum(found)),
        "recall_counts": {"found": sum(found), "missed": len(found) - sum(found)},
        "precision_counts": {"hits": sum(hit), "misses": len(hit) - sum(hit)},
        f"top_{top_n}_in_highlight": sum(hit[i] for i in strongest),
        f"top_{top_n}_count": len(strongest),
        "strength_auc": auc(hit, [d.strength for d in detections]),
        "spikes": [{"offset": round(d.offset, 2), "strength": round(d.strength, 3), "hit": h}
                   for d, h in zip(detections, hit, strict=True)],
        "highlight_list": [{"start": h.start, "end": h.end, "found": f}
                           for h, f in zip(highlights, found, strict=True)],
    }


def _near(t: float, h: Highlight, tolerance: float) -> bool:
    return h.start - tolerance <= t <= h.end + tolerance


def _matches(t: float, highlights: Sequence[Highlight], tolerance: float) -> bool:
    return any(_near(t, h, tolerance) for h in highlights)


def evaluate(log: Path, highlights_file: Path, settings: Any,
             tolerance: float = TOLERANCE_S) -> dict[str, Any]:
    """Find the log's spikes with the live detector and score them against the highlights."""
    from services.chat import offline

    highlights = read_highlights(highlights_file)
    try:
        chat = offline.read_chat_log(log)
        spikes = offline.find_spikes(log, settings)
    except (OSError, offline.ChatLogError) as err:
        raise EvalError(str(err)) from None
    if any(h.unix for h in highlights) and not chat.unix_times:
        raise EvalError(f"{highlights_file} has Unix times, but {log} counts seconds into the "
                        "video (a JSON export): give the highlights in seconds too")
    when = getattr(offline, "DETECTION_TIME", "start")
    found = [Found(float(getattr(s, when)) - chat.start, float(s.strength)) for s in spikes]
    placed = on_log_clock(highlights, chat.start)
    return {"kind": "chat", "log": str(log), "detection_time": when,
            **score(found, placed, tolerance)}
