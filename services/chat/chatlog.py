"""The plain chat log: one line per message, `<unix time> <user>: <message>`.

The chat service writes one file per session (`<data_dir>/chat/<channel>/<session>.log`), and
`clip-live chat-spikes` reads the same format back. Raids and gift subs are kept too, on lines
of their own, `<unix time> * <msg-id> <user>`, so that a log read later knows when chat was
flooded for reasons that are not the stream. A `/me` message is written as `/me <text>`.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import NamedTuple, TextIO

from shared.contracts import check_channel

from .irc import ChatMessage, ChatNotice

_MESSAGE = re.compile(r"^(\d+(?:\.\d+)?) ([^\s:]+): ?(.*)$")
_NOTICE = re.compile(r"^(\d+(?:\.\d+)?) \* ([a-z0-9_-]+) (\S*)\s*$")


class LogEntry(NamedTuple):
    """One line of a chat log: a message, or a notice when `notice` names its kind."""

    ts: float
    user: str
    text: str = ""
    notice: str = ""
    emotes: int = 0


def log_path(data_dir: Path, channel: str, session: str) -> Path:
    """Where the chat of one session is written."""
    safe = re.sub(r"[^A-Za-z0-9_.-]", "_", session).lstrip(".") or "session"
    return data_dir / "chat" / check_channel(channel) / f"{safe}.log"


def message_line(msg: ChatMessage) -> str:
    text = f"/me {msg.text}" if msg.action else msg.text
    return f"{msg.ts:.3f} {msg.user or '?'}: {_one_line(text)}\n"


def notice_line(notice: ChatNotice) -> str:
    kind = re.sub(r"[^a-z0-9_-]", "_", notice.kind.lower()) or "notice"
    return f"{notice.ts:.3f} * {kind} {notice.user}\n"


def parse_log_line(line: str) -> LogEntry | None:
    """One line of the plain log, or None when it is not one."""
    text = line.rstrip("\r\n")
    notice = _NOTICE.match(text) if " * " in text else None
    if notice:
        return LogEntry(float(notice[1]), notice[3], "", notice[2])
    message = _MESSAGE.match(text)
    if message:
        return LogEntry(float(message[1]), message[2], message[3])
    return None


def _one_line(text: str) -> str:
    return text.replace("\r", " ").replace("\n", " ")


class ChatRecorder:
    """Appends a session's chat to its log file, one line at a time (flushed per line, so a
    crash loses nothing)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._file: TextIO = path.open("a", encoding="utf-8", buffering=1)

    def message(self, msg: ChatMessage) -> None:
        self._file.write(message_line(msg))

    def notice(self, notice: ChatNotice) -> None:
        self._file.write(notice_line(notice))

    def close(self) -> None:
        self._file.close()
