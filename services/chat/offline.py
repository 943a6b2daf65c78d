"""Chat spikes in a saved chat log: what `clip-live chat-spikes FILE` runs.

Two formats are read:

- a TwitchDownloader JSON export: `{"comments": [{"content_offset_seconds": 12.5,
  "commenter": {"display_name": .., "name": ..}, "message": {"body": .., "fragments": [..],
  "user_notice_params": {"msg_id": ..}}}]}`; times are seconds into the video;
- the plain log the chat service writes: `<unix time> <user>: <message>` (see `chatlog`).

The same detector as the live service finds the spikes (see `detector`).
"""

from __future__ import annotations

import json
import logging
import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from shared.settings import Settings

from .chatlog import LogEntry, parse_log_line
from .detector import ChatDetector, DetectorConfig, SecondStats, spike_episodes
from .irc import SUPPRESSING_NOTICES

log = logging.getLogger("clip_live.chat.offline")


class ChatLogError(ValueError):
    """The file cannot be read as a chat log. The message says why."""


@dataclass(frozen=True)
class Spike:
    """One chat spike found in a log."""

    offset: float  # seconds from the log's first whole second (into the video, for JSON)
    strength: float  # the peak strength (robust z of the rate, raised by hype)
    messages: int  # messages in the spike's seconds
    duration: float  # seconds from its first to its last spike second, inclusive
    wall: float | None = None  # Unix time, for plain logs


@dataclass(frozen=True)
class ChatLog:
    """A chat log read into memory."""

    entries: list[LogEntry]
    start: float  # the time offsets count from
    unix_times: bool  # True when entry times are Unix times (plain logs)
    skipped: int = 0


def find_spikes(path: Path, settings: Settings) -> list[Spike]:
    """Read a chat log and return its spikes, oldest first. Raises ChatLogError."""
    chat = read_chat_log(path)
    seconds = detect(chat.entries, DetectorConfig.from_settings(settings))
    spikes: list[Spike] = []
    for ep in spike_episodes(seconds):
        wall = float(ep.start) if chat.unix_times else None
        spikes.append(Spike(offset=ep.start - chat.start, strength=ep.peak,
                            messages=ep.messages, duration=ep.end - ep.start + 1.0, wall=wall))
    return spikes


def detect(entries: list[LogEntry], config: DetectorConfig) -> list[SecondStats]:
    """Run the detector over entries (sorted by time) and return every second."""
    detector = ChatDetector(config)
    seconds: list[SecondStats] = []
    for entry in entries:
        seconds.extend(detector.close_until(entry.ts))
        if entry.notice:
            detector.add_notice(entry.ts, entry.notice in SUPPRESSING_NOTICES)
        else:
            detector.add_message(entry.ts, entry.user, entry.text, entry.emotes)
    if entries:
        seconds.extend(detector.close_until(entries[-1].ts + config.rate_window_s + 1))
    return seconds


def read_chat_log(path: Path) -> ChatLog:
    """Read either format; the first character tells which."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError as err:
        raise ChatLogError(f"cannot read {path}: {err.strerror or err}") from None
    if text.lstrip().startswith("{"):
        return _read_json(path, text)
    return _read_plain(path, text)


def _read_plain(path: Path, text: str) -> ChatLog:
    entries: list[LogEntry] = []
    skipped = 0
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        entry = parse_log_line(line)
        if entry is None:
            skipped += 1
            if skipped <= 3:
                log.warning("%s:%d: not a chat line, skipped: %r", path, number, line[:120])
            continue
        entries.append(entry)
    if not entries:
        raise ChatLogError(f"{path}: no chat lines in it (expected '<unix time> <user>: "
                           "<message>' or a TwitchDownloader JSON export)")
    _note_skipped(path, skipped)
    entries.sort(key=lambda e: e.ts)
    # Offsets count from the whole second of the first line, like the detector's seconds.
    return ChatLog(entries, start=math.floor(entries[0].ts), unix_times=True, skipped=skipped)


def _read_json(path: Path, text: str) -> ChatLog:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as err:
        raise ChatLogError(f"{path}: not valid JSON ({err})") from None
    comments = data.get("comments") if isinstance(data, dict) else None
    if not isinstance(comments, list):
        raise ChatLogError(f"{path}: no 'comments' list (is it a TwitchDownloader export?)")
    entries: list[LogEntry] = []
    skipped = 0
    for comment in comments:
        entry = _comment_entry(comment)
        if entry is None:
            skipped += 1
            continue
        entries.append(entry)
    _note_skipped(path, skipped)
    entries.sort(key=lambda e: e.ts)
    return ChatLog(entries, start=0.0, unix_times=False, skipped=skipped)


def _comment_entry(comment: Any) -> LogEntry | None:
    """One TwitchDownloader comment as a log entry, or None when it is broken."""
    if not isinstance(comment, dict):
        return None
    offset = comment.get("content_offset_seconds")
    commenter = comment.get("commenter") or {}
    message = comment.get("message") or {}
    if not isinstance(offset, int | float) or isinstance(offset, bool) or offset < 0:
        return None
    if not isinstance(commenter, dict) or not isinstance(message, dict):
        return None
    user = str(commenter.get("name") or commenter.get("display_name") or "?").lower()
    notice = (message.get("user_notice_params") or {}).get("msg_id") or ""
    if isinstance(notice, str) and notice in SUPPRESSING_NOTICES:
        return LogEntry(ts=float(offset), user=user, notice=notice)
    body = message.get("body")
    if not isinstance(body, str):
        return None
    fragments = message.get("fragments") or []
    emotes = sum(1 for f in fragments if isinstance(f, dict) and f.get("emoticon"))
    return LogEntry(ts=float(offset), user=user, text=body, emotes=emotes)


def _note_skipped(path: Path, skipped: int) -> None:
    if skipped:
        log.warning("%s: skipped %d line(s) that are not chat", path, skipped)


def format_spikes(spikes: list[Spike], source: Path | None = None) -> str:
    """The spikes as a small table, one line each, for people."""
    name = f" in {source}" if source else ""
    if not spikes:
        return f"no chat spikes{name}"
    lines = [f"{len(spikes)} chat spike(s){name}:",
             f"{'at':>10}  {'strength':>8}  {'messages':>8}  {'length':>6}  when (UTC)"]
    for s in spikes:
        when = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(s.wall)) if s.wall else "-"
        lines.append(f"{_clock(s.offset):>10}  {s.strength:8.1f}  {s.messages:8d}  "
                     f"{s.duration:5.0f}s  {when}")
    return "\n".join(lines)


def _clock(seconds: float) -> str:
    whole = max(0, round(seconds))
    return f"{whole // 3600}:{whole // 60 % 60:02d}:{whole % 60:02d}"
