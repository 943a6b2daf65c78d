"""A real IRC server on 127.0.0.1 that speaks Twitch's chat dialect, for the chat tests.

It takes CAP / PASS / NICK / JOIN like irc.chat.twitch.tv, welcomes with 001-004 and the MOTD,
answers PING, and lets a test push what Twitch pushes: PRIVMSG with IRCv3 tags, USERNOTICE
(raids, gift subs), PING (and see the PONG), RECONNECT, a dropped connection, or garbage.

It writes its lines by hand (its own tag escaping), not with the code under test, so a bug in
`services.chat.irc` cannot hide behind the same bug here.

A synthetic chat log is a list of `Line`s stamped with absolute Unix times. `replay` sends each
at its own time: lines stamped in the past go out at once (history, fast), lines stamped in the
future go out when their time comes (real pace). Every line carries its stamp as `tmi-sent-ts`.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import time
import uuid
from dataclasses import dataclass, field
from types import TracebackType

HOST = "tmi.twitch.tv"
_ESCAPES = {"\\": "\\\\", ";": "\\:", " ": "\\s", "\r": "\\r", "\n": "\\n"}


def tag_value(value: str) -> str:
    """IRCv3 tag escaping, written out here on its own."""
    return "".join(_ESCAPES.get(c, c) for c in value)


@dataclass(frozen=True)
class Line:
    """One line of a synthetic chat log: a message, or a USERNOTICE when `notice` is set."""

    ts: float
    user: str
    text: str = ""
    notice: str = ""  # USERNOTICE msg-id: raid, subgift, submysterygift, sub...
    emotes: str = ""  # Twitch's emotes tag, e.g. "25:0-4"
    action: bool = False
    tags: dict[str, str] = field(default_factory=dict)


class Connection:
    """One client connected to the server."""

    def __init__(self, server: TwitchIrcServer, reader: asyncio.StreamReader,
                 writer: asyncio.StreamWriter) -> None:
        self.server = server
        self.reader = reader
        self.writer = writer
        self.nick = ""
        self.password: str | None = None
        self.caps: list[str] = []
        self.channel = ""
        self.received: list[str] = []
        self.pongs: list[str] = []
        self.welcomed = False
        self.closed = asyncio.Event()

    # ---- What the client sends ----------------------------------------------------------------

    async def serve(self) -> None:
        try:
            while True:
                raw = await self.reader.readline()
                if not raw:
                    break
                line = raw.decode().rstrip("\r\n")
                self.received.append(line)
                await self._on(line)
        except (ConnectionError, OSError):
            pass
        finally:
            self.closed.set()
            self.writer.close()

    async def _on(self, line: str) -> None:
        head, _, trailing = line.partition(" :")
        words = head.split()
        command = words[0].upper() if words else ""
        if command == "CAP" and words[1:2] == ["REQ"]:
            self.caps = trailing.split()
            await self.send(f":{HOST} CAP * ACK :{trailing}")
        elif command == "PASS":
            self.password = words[1] if len(words) > 1 else trailing
        elif command == "NICK":
            await self._login(words[1] if len(words) > 1 else trailing)
        elif command == "JOIN" and self.welcomed:
            await self._join(words[1].lstrip("#"))
        elif command == "PING":
            await self.send(f":{HOST} PONG {HOST} :{trailing}")
        elif command == "PONG":
            self.pongs.append(trailing or (words[1] if len(words) > 1 else ""))

    async def _login(self, nick: str) -> None:
        anonymous = self.password is None and re.fullmatch(r"justinfan\d+", nick)
        token_ok = (self.password is not None and self.server.token is not None
                    and self.password == f"oauth:{self.server.token}")
        if not (anonymous or token_ok):
            await self.send(f":{HOST} NOTICE * :Login authentication failed")
            self.writer.close()
            return
        self.nick, self.welcomed = nick, True
        for number, text in (("001", "Welcome, GLHF!"), ("002", f"Your host is {HOST}"),
                             ("003", "This server is rather new"), ("004", "-"),
                             ("375", "-"), ("372", "You are in a maze of twisty passages."),
                             ("376", ">")):
            await self.send(f":{HOST} {number} {nick} :{text}")

    async def _join(self, channel: str) -> None:
        self.channel = channel
        me = f"{self.nick}!{self.nick}@{self.nick}.{HOST}"
        await self.send(f":{me} JOIN #{channel}")
        await self.send(f":{self.nick}.{HOST} 353 {self.nick} = #{channel} :{self.nick}")
        await self.send(f":{self.nick}.{HOST} 366 {self.nick} #{channel} :End of /NAMES list")
        await self.send(f"@emote-only=0;followers-only=-1;r9k=0;room-id=1;slow=0;subs-only=0 "
                        f":{HOST} ROOMSTATE #{channel}")
        await self.server.joined(self)

    # ---- What the test makes the server send --------------------------------------------------

    async def send(self, line: str | bytes) -> None:
        """Send one line (CR LF added). Bytes go out as they are, even if not UTF-8."""
        if self.writer.is_closing():
            return
        data = line if isinstance(line, bytes) else line.encode()
        self.writer.write(data + b"\r\n")
        with contextlib.suppress(ConnectionError, OSError):
            await self.writer.drain()

    async def line(self, line: Line) -> None:
        """Send one log line, stamped with its own time."""
        ts_ms = str(round(line.ts * 1000))
        if line.notice:
            await self.usernotice(line.notice, line.user, ts_ms, line.tags)
        else:
            await self.privmsg(line.user, line.text, ts_ms, line.emotes, line.action, line.tags)

    async def privmsg(self, user: str, text: str, ts_ms: str, emotes: str = "",
                      action: bool = False, extra: dict[str, str] | None = None) -> None:
        tags = {"badge-info": "subscriber/8", "badges": "subscriber/6,premium/1",
                "color": "#1E90FF", "display-name": user.capitalize(), "emotes": emotes,
                "first-msg": "0", "flags": "", "id": str(uuid.uuid4()), "mod": "0",
                "room-id": "1", "subscriber": "1", "tmi-sent-ts": ts_ms, "turbo": "0",
                "user-id": "42", "user-type": "", **(extra or {})}
        body = f"\x01ACTION {text}\x01" if action else text
        await self.send(f"@{_tags(tags)} :{user}!{user}@{user}.{HOST} PRIVMSG "
                        f"#{self.channel} :{body}")

    async def usernotice(self, kind: str, user: str, ts_ms: str,
                         extra: dict[str, str] | None = None) -> None:
        system = {"raid": f"120 raiders from {user} have joined!",
                  "subgift": f"{user} gifted a Tier 1 sub to someone!",
                  "submysterygift": f"{user} is gifting 20 Tier 1 Subs to the community!"}
        tags = {"badges": "", "display-name": user.capitalize(), "emotes": "", "flags": "",
                "id": str(uuid.uuid4()), "login": user, "mod": "0", "msg-id": kind,
                "msg-param-viewerCount": "120", "room-id": "1", "subscriber": "0",
                "system-msg": system.get(kind, f"{user} did a {kind}"), "tmi-sent-ts": ts_ms,
                "user-id": "7", "user-type": "", **(extra or {})}
        await self.send(f"@{_tags(tags)} :{HOST} USERNOTICE #{self.channel}")

    async def replay(self, lines: list[Line]) -> None:
        """Send lines at their own times: past ones at once, future ones at real pace."""
        for line in sorted(lines, key=lambda x: x.ts):
            wait = line.ts - time.time()
            if wait > 0:
                await asyncio.sleep(wait)
            await self.line(line)

    async def ping(self, token: str = HOST, timeout: float = 5.0) -> bool:
        """Send PING and wait for the matching PONG."""
        await self.send(f"PING :{token}")
        deadline = time.monotonic() + timeout
        while token not in self.pongs:
            if time.monotonic() > deadline:
                return False
            await asyncio.sleep(0.02)
        return True

    async def reconnect(self) -> None:
        """Twitch's "please connect again" (it closes the connection soon after)."""
        await self.send(f":{HOST} RECONNECT")

    async def drop(self) -> None:
        """Cut the connection with no goodbye."""
        self.writer.transport.abort()
        await self.closed.wait()


def _tags(tags: dict[str, str]) -> str:
    return ";".join(f"{k}={tag_value(v)}" for k, v in tags.items())


class TwitchIrcServer:
    """`async with TwitchIrcServer() as server:` then point the client at `server.port`."""

    def __init__(self, token: str | None = None) -> None:
        self.token = token  # the OAuth token a PASS must carry; None: anonymous only
        self.port = 0
        self.connections: list[Connection] = []
        self._joins: dict[str, list[Connection]] = {}
        self._changed = asyncio.Condition()
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    async def __aenter__(self) -> TwitchIrcServer:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, kind: type[BaseException] | None, error: BaseException | None,
                        tb: TracebackType | None) -> None:
        assert self._server is not None
        self._server.close()
        for conn in self.connections:
            conn.writer.transport.abort()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        conn = Connection(self, reader, writer)
        self.connections.append(conn)
        task = asyncio.current_task()
        if task is not None:
            self._tasks.add(task)
        await conn.serve()

    async def joined(self, conn: Connection) -> None:
        async with self._changed:
            self._joins.setdefault(conn.channel, []).append(conn)
            self._changed.notify_all()

    async def wait_joined(self, channel: str, nth: int = 1, timeout: float = 10.0) -> Connection:
        """The `nth` connection (1 = the first) that joined `#channel`."""
        async with asyncio.timeout(timeout), self._changed:
            await self._changed.wait_for(lambda: len(self._joins.get(channel, [])) >= nth)
            return self._joins[channel][nth - 1]

    def joins(self, channel: str) -> int:
        return len(self._joins.get(channel, []))
