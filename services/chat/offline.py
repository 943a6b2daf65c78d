"""Chat spikes in a saved chat log: what `clip-live chat-spikes FILE` runs.

Two formats are read:

- a TwitchDownloader JSON export: `{"comments": [{"content_offset_seconds": 12.5,
  "commenter": {"display_name": .., "name": ..}, "message": {"body": .., "fragments": [..],
  "user_notice_params": {"msg_id": ..}}}]}`; times are seconds into the video;
- plain lines `<unix time> <user>: <message>`, as the chat service writes them (see `chatlog`)
  and as many chat dumps come; times are Unix times. A UTF-8 byte-order mark is fine.

The same detector as the live service finds the spikes (see `detector`). Spike times are in the
log's own clock: Unix seconds for a plain log, seconds into the video for a JSON export.
"""

from __future__ import annotations

import json
import logging
import math
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from shared.settings import Settings

from .chatlog import LogEntry, parse_log_line
from .detector import ChatDetector, DetectorConfig, SecondStats, Spike
from .irc import SUPPRESSING_NOTICES

log = logging.getLogger("clip_live.chat.offline")

DETECTION_TIME = "start"
"""The one time that says where a spike is, for matching it with a marked moment: the first
second of the burst. `peak`, `end` and `moment` come with it."""


BREAK_S = 3600.0
"""A log with no line for this long has a break (the stream was off, or a line has a wrong
time): the detector jumps over it instead of counting every silent second."""


class ChatLogError(ValueError):
    """The file cannot be read as a chat log. The message says why."""


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
    return detect(chat.entries, DetectorConfig.from_settings(settings))[1]


def detect(entries: list[LogEntry], config: DetectorConfig,
           keep_seconds: bool = False) -> tuple[list[SecondStats], list[Spike]]:
    """Run the detector over entries (sorted by time). Returns every second (when
    `keep_seconds`) and the spikes."""
    detector = ChatDetector(config)
    seconds: list[SecondStats] = []
    edge = -math.inf  # seconds before this are closed already
    for entry in entries:
        if entry.ts >= edge:  # a new second: close the ones before it
            if entry.ts - edge > BREAK_S:  # a break in the log: missing, not silence
                closed = detector.skip_to(entry.ts)
            else:
                closed = detector.close_until(entry.ts)
            if keep_seconds:
                seconds.extend(closed)
            edge = math.floor(entry.ts) + 1
        if entry.notice:
            detector.add_notice(entry.ts, entry.notice in SUPPRESSING_NOTICES)
        else:
            detector.add_message(entry.ts, entry.user, entry.text, entry.emotes)
    if entries:
        closed = detector.close_until(entries[-1].ts + 1)
        if keep_seconds:
            seconds.extend(closed)
    detector.finish()
    return seconds, detector.spikes


def read_chat_log(path: Path) -> ChatLog:
    """Read either format; the first character tells which."""
    try:
        text = path.read_text(encoding="utf-8-sig", errors="replace")  # -sig: drop a BOM
    except OSError as err:
        raise ChatLogError(f"cannot read {path}: {err.strerror or err}") from None
    text = text.removeprefix("\ufeff")  # a second BOM, or one after a re-encoding
    if text.lstrip().startswith("{"):
        return _read_json(path, text)
    return _read_plain(path, text)


def _read_plain(path: Path, text: str) -> ChatLog:
    entries: list[LogEntry] = []
    skipped = 0
    for number, line in enumerate(text.splitlines(), 1):
        if not line or line[0] == "#" or line.isspace():
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


def strongest(spikes: list[Spike], top: int | None) -> list[Spike]:
    """The `top` strongest spikes, strongest first (all of them in time order when None)."""
    if top is None:
        return spikes
    return sorted(spikes, key=lambda s: (-s.strength, s.start))[:top]


def spikes_json(spikes: list[Spike], chat: ChatLog, source: Path) -> str:
    """The spikes as JSON: every time in the log's own clock, and the features behind each."""
    shown = []
    for rank, spike in enumerate(spikes, 1):
        item: dict[str, Any] = {"rank": rank, **asdict(spike)}
        item["duration"] = spike.end - spike.start + 1
        item["offset"] = spike.start - chat.start
        shown.append(item)
    return json.dumps({
        "file": str(source),
        "clock": "unix" if chat.unix_times else "video",
        "detection_time": DETECTION_TIME,
        "spikes": shown,
    }, indent=1, ensure_ascii=False)


def format_spikes(spikes: list[Spike], chat: ChatLog, source: Path | None = None) -> str:
    """The spikes as a small table, one line each, for people."""
    name = f" in {source}" if source else ""
    if not spikes:
        return f"no chat spikes{name}"
    lines = [f"{len(spikes)} chat spike(s){name}:",
             f"{'at':>9} {'strength':>8} {'messages':>8} {'people':>6} {'length':>6} "
             f"{'peak':>5} {'moment':>9}  when (UTC)"]
    for s in spikes:
        when = (time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(s.start))
                if chat.unix_times else "-")
        lines.append(f"{_clock(s.start - chat.start):>9} {s.strength:8.1f} {s.messages:8d} "
                     f"{s.chatters:6d} {s.end - s.start + 1:5d}s {s.peak - s.start:+4d}s "
                     f"{_clock(s.moment - chat.start):>9}  {when}")
    return "\n".join(lines)


def _clock(seconds: float) -> str:
    sign = "-" if seconds < 0 else ""
    whole = abs(round(seconds))
    return f"{sign}{whole // 3600}:{whole // 60 % 60:02d}:{whole % 60:02d}"
