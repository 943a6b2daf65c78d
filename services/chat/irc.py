"""IRC lines in Twitch's dialect: read them, write them, and turn them into chat events.

Pure code: no sockets, no asyncio. A line looks like

    @badges=subscriber/12;tmi-sent-ts=1700000000123 :bob!bob@bob.tmi.twitch.tv PRIVMSG #chan :hi

The part after `@` holds IRCv3 tags (`key=value;key=value`). Tag values escape five characters:
`\\s` is a space, `\\:` is `;`, `\\\\` is a backslash, `\\r` and `\\n` are CR and LF.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_UNESCAPE = {"s": " ", ":": ";", "\\": "\\", "r": "\r", "n": "\n"}
_ESCAPE = {" ": "\\s", ";": "\\:", "\\": "\\\\", "\r": "\\r", "\n": "\\n"}

ACTION_START = "\x01ACTION "
"""A `/me waves` message arrives as `\\x01ACTION waves\\x01`."""

SUPPRESSING_NOTICES = frozenset({"raid", "subgift", "submysterygift", "anonsubgift",
                                 "anonsubmysterygift"})
"""USERNOTICE kinds that bring a flood of chat that is not a highlight."""


_TWITCH_LOGIN = re.compile(r"twitch\.tv/([A-Za-z0-9_]{1,25})(?:[/?#]|$)")


def twitch_login(url: str) -> str | None:
    """The channel login in a twitch.tv URL (`https://www.twitch.tv/Foo` -> `foo`), or None."""
    match = _TWITCH_LOGIN.search(url)
    if not match or match[1].lower() in {"videos", "directory", "settings", "p"}:
        return None
    return match[1].lower()


class IrcParseError(ValueError):
    """A line that is not IRC."""


@dataclass(frozen=True)
class IrcMessage:
    """One IRC line, taken apart."""

    command: str
    params: list[str] = field(default_factory=list)
    tags: dict[str, str] = field(default_factory=dict)
    prefix: str = ""

    @property
    def nick(self) -> str:
        """The sender's nick: the prefix up to `!` (empty for server lines)."""
        return self.prefix.split("!", 1)[0] if "!" in self.prefix else ""

    @property
    def trailing(self) -> str:
        """The last parameter (the text of a message), or empty."""
        return self.params[-1] if self.params else ""


# ---- Tags -------------------------------------------------------------------------------------


def unescape_tag(value: str) -> str:
    """Undo IRCv3 tag escapes. An unknown escape keeps its letter; a lone final `\\` goes."""
    if "\\" not in value:
        return value
    out: list[str] = []
    i = 0
    while i < len(value):
        char = value[i]
        if char == "\\":
            if i + 1 < len(value):
                nxt = value[i + 1]
                out.append(_UNESCAPE.get(nxt, nxt))
            i += 2
            continue
        out.append(char)
        i += 1
    return "".join(out)


def escape_tag(value: str) -> str:
    """Escape a tag value for the wire."""
    return "".join(_ESCAPE.get(c, c) for c in value)


def parse_tags(text: str) -> dict[str, str]:
    tags: dict[str, str] = {}
    for part in text.split(";"):
        if not part:
            continue
        key, _, value = part.partition("=")
        if not key:
            raise IrcParseError("a tag with no name")
        tags[key] = unescape_tag(value)
    return tags


# ---- Lines ------------------------------------------------------------------------------------


def parse_line(line: str) -> IrcMessage:
    """Take one IRC line apart (the CR LF at its end may be there or not)."""
    rest = line.rstrip("\r\n")
    if not rest.strip():
        raise IrcParseError("an empty line")
    if "\r" in rest or "\n" in rest or "\0" in rest:
        raise IrcParseError("a line break or NUL inside the line")
    tags: dict[str, str] = {}
    prefix = ""
    if rest.startswith("@"):
        tag_text, sep, rest = rest[1:].partition(" ")
        if not sep:
            raise IrcParseError("tags and nothing else")
        tags = parse_tags(tag_text)
        rest = rest.lstrip(" ")
    if rest.startswith(":"):
        prefix, sep, rest = rest[1:].partition(" ")
        if not sep or not prefix:
            raise IrcParseError("a prefix and nothing else")
        rest = rest.lstrip(" ")
    head, sep, trailing = rest.partition(" :")
    words = head.split()
    if not words:
        raise IrcParseError("no command")
    command, params = words[0].upper(), words[1:]
    is_word = command.isascii() and command.isalpha()
    if not (is_word or (command.isascii() and command.isdigit() and len(command) == 3)):
        raise IrcParseError(f"not a command: {words[0][:20]!r}")
    if sep:
        params.append(trailing)
    return IrcMessage(command=command, params=params, tags=tags, prefix=prefix)


def format_line(
    command: str, *params: str, tags: dict[str, str] | None = None, prefix: str = ""
) -> str:
    """Build one IRC line, CR LF included. The last parameter may hold spaces."""
    parts: list[str] = []
    if tags:
        parts.append("@" + ";".join(f"{k}={escape_tag(v)}" for k, v in tags.items()))
    if prefix:
        parts.append(":" + prefix)
    parts.append(command)
    for i, param in enumerate(params):
        last = i == len(params) - 1
        if any(c in param for c in "\r\n\0"):
            raise ValueError("an IRC parameter may not hold CR, LF or NUL")
        if last and (not param or " " in param or param.startswith(":")):
            parts.append(":" + param)
        elif " " in param or not param or param.startswith(":"):
            raise ValueError(f"only the last IRC parameter may hold spaces: {param!r}")
        else:
            parts.append(param)
    return " ".join(parts) + "\r\n"


# ---- Twitch chat events -----------------------------------------------------------------------


@dataclass(frozen=True)
class Emote:
    """A Twitch emote in a message: its id and its place (code points, end included)."""

    id: str
    start: int
    end: int


@dataclass(frozen=True)
class ChatMessage:
    """One chat message (PRIVMSG)."""

    channel: str
    user: str  # the login, lower case
    display_name: str
    text: str
    ts: float  # Twitch's tmi-sent-ts, in seconds
    action: bool = False
    badges: dict[str, str] = field(default_factory=dict)
    emotes: list[Emote] = field(default_factory=list)
    msg_id: str = ""

    def emote_names(self) -> list[str]:
        """The emotes as the words typed (`Kappa`), in order of place."""
        ordered = sorted(self.emotes, key=lambda e: e.start)
        return [self.text[e.start:e.end + 1] for e in ordered]


@dataclass(frozen=True)
class ChatNotice:
    """A USERNOTICE: a sub, a gift, a raid... `kind` is its `msg-id` tag."""

    channel: str
    kind: str
    user: str
    text: str
    ts: float
    params: dict[str, str] = field(default_factory=dict)

    @property
    def suppresses(self) -> bool:
        """True for raids and gift bursts: the chat flood after them is not a highlight."""
        return self.kind in SUPPRESSING_NOTICES


def parse_badges(value: str) -> dict[str, str]:
    """`subscriber/12,premium/1` -> {"subscriber": "12", "premium": "1"}."""
    badges: dict[str, str] = {}
    for part in value.split(","):
        if part:
            name, _, version = part.partition("/")
            badges[name] = version
    return badges


def parse_emotes(value: str) -> list[Emote]:
    """`25:0-4,12-16/1902:6-10` -> three Emotes. Broken parts are left out."""
    emotes: list[Emote] = []
    for group in value.split("/"):
        emote_id, _, places = group.partition(":")
        for place in places.split(","):
            start, _, end = place.partition("-")
            if emote_id and start.isdigit() and end.isdigit() and int(start) <= int(end):
                emotes.append(Emote(emote_id, int(start), int(end)))
    return emotes


def sent_ts(msg: IrcMessage, fallback: float) -> float:
    """When Twitch sent the line (`tmi-sent-ts`, ms), in seconds; `fallback` when missing."""
    raw = msg.tags.get("tmi-sent-ts", "")
    return int(raw) / 1000 if raw.isdigit() else fallback


def to_event(msg: IrcMessage, fallback_ts: float) -> ChatMessage | ChatNotice | None:
    """A chat message or notice from an IRC line; None for any other line."""
    if msg.command not in ("PRIVMSG", "USERNOTICE") or not msg.params:
        return None
    channel = msg.params[0].lstrip("#")
    user = (msg.tags.get("login") or msg.nick or msg.tags.get("display-name", "")).lower()
    ts = sent_ts(msg, fallback_ts)
    if msg.command == "USERNOTICE":
        params = {k[len("msg-param-"):]: v for k, v in msg.tags.items()
                  if k.startswith("msg-param-")}
        text = msg.tags.get("system-msg", "") or (msg.trailing if len(msg.params) > 1 else "")
        return ChatNotice(channel=channel, kind=msg.tags.get("msg-id", ""), user=user,
                          text=text, ts=ts, params=params)
    if len(msg.params) < 2:
        return None
    text, action = msg.trailing, False
    if text.startswith(ACTION_START):
        text, action = text[len(ACTION_START):].rstrip("\x01"), True
    return ChatMessage(
        channel=channel, user=user, display_name=msg.tags.get("display-name") or user,
        text=text, ts=ts, action=action, badges=parse_badges(msg.tags.get("badges", "")),
        emotes=parse_emotes(msg.tags.get("emotes", "")), msg_id=msg.tags.get("id", ""),
    )
