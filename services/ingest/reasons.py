"""Short, plain reasons for why a source could not be read. Pure.

streamlink and FFmpeg explain failures in long technical lines. `short_reason` finds the part a
person needs ("HTTP 404 Not Found", "connection refused", "not a media file") and keeps the
original words when it knows no better.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

MAX_REASON = 300

# (pattern in the error text, plain reason). The first match wins.
_KNOWN: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"Connection refused", re.I), "connection refused (nothing is listening there)"),
    (re.compile(r"Name or service not known|Failed to resolve|nodename nor servname|"
                r"No address associated|getaddrinfo failed", re.I), "unknown host name"),
    (re.compile(r"Invalid data found when processing input", re.I),
     "not a media file or stream (FFmpeg: Invalid data found when processing input)"),
    (re.compile(r"No such file or directory", re.I), "no such file"),
    (re.compile(r"Permission denied", re.I), "permission denied"),
    (re.compile(r"Stream map '[^']*a[^']*' matches no streams|does not contain any stream", re.I),
     "the stream has no audio track"),
    (re.compile(r"timed? ?out", re.I), "timed out"),
    (re.compile(r"Connection reset|Broken pipe|RemoteDisconnected", re.I),
     "the connection was cut"),
]
_HTTP_PY = re.compile(r"\b(\d{3}) (?:Client|Server) Error: (.+?)(?: for url\b|$)")
_HTTP_FFMPEG = re.compile(r"(?:HTTP error|Server returned) (\d{3}) ?([A-Za-z][A-Za-z ]*)?")


def short_reason(text: str) -> str:
    """The plain reason inside a long error text."""
    text = " ".join(text.split())
    if not text:
        return "unknown error"
    for pattern in (_HTTP_PY, _HTTP_FFMPEG):
        match = pattern.search(text)
        if match:
            words = (match.group(2) or "").strip()
            return f"HTTP {match.group(1)}" + (f" {words}" if words else "")
    for pattern, reason in _KNOWN:
        if pattern.search(text):
            return reason
    return text[:MAX_REASON]


def ffmpeg_reason(lines: Iterable[str], code: int | None) -> str:
    """Why FFmpeg stopped, from the last lines it wrote and its exit code."""
    useful = [line.strip() for line in lines if line.strip() and not _is_noise(line)]
    if useful:
        # An error that names a cause is usually among the first lines; the last is a summary.
        for line in useful:
            reason = short_reason(line)
            if reason != line[:MAX_REASON]:
                return reason
        return short_reason(useful[-1])
    if code is None or code == 0:
        return "the stream ended"
    if code < 0:
        return f"FFmpeg was stopped by signal {-code}"
    return f"FFmpeg failed with exit code {code}"


def _is_noise(line: str) -> bool:
    """FFmpeg warnings that do not explain a failure."""
    return bool(re.search(r"Non-monotonous DTS|Past duration|Application provided invalid|"
                          r"Queue input is backward|frame=|size=", line))
