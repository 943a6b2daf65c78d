"""A small Twitch chat (IRC) client that keeps itself connected.

It logs in (anonymously as `justinfan<digits>`, or with an OAuth token), asks for IRCv3 tags
and Twitch's commands, joins one channel, answers PING with PONG, follows RECONNECT, and when
the connection drops or goes quiet it connects again after a growing, jittered wait. Lines it
cannot read are skipped with a log line. The token is never logged.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import ssl
from collections.abc import Callable
from dataclasses import dataclass

from .irc import IrcMessage, IrcParseError, format_line, parse_line

log = logging.getLogger("clip_live.chat.irc")

LINE_LIMIT = 1 << 20
"""Longest line we accept (Twitch lines with tags are a few KB)."""

CONNECT_TIMEOUT_S = 15.0
LOGIN_FAILED = ("Login authentication failed", "Improperly formatted auth",
                "Invalid NICK")


class LoginFailed(Exception):
    """The chat server turned our login down."""


@dataclass(frozen=True)
class IrcEndpoint:
    """Where the chat server is."""

    host: str
    port: int
    tls: bool


def cancel_pending() -> bool:
    """True when the running task was asked to stop. A library that swallowed the
    CancelledError (seen under heavy load) must not keep a loop running forever."""
    task = asyncio.current_task()
    return task is not None and task.cancelling() > 0


def retry_wait(failures: int, min_s: float, max_s: float) -> float:
    """How long to wait before connecting again: doubling with each failure in a row, up to
    `max_s`, and jittered so that many readers do not all come back at once."""
    return min(max_s, min_s * 2 ** max(0, failures - 1)) * random.uniform(0.5, 1.0)


def anonymous_nick() -> str:
    """Twitch lets `justinfan<digits>` read chat without a password."""
    return f"justinfan{random.randint(10_000, 99_999)}"


class TwitchIrcClient:
    """Reads one channel's chat until cancelled. Every line goes to `on_line`; `on_link(True)`
    when the channel is joined, `on_link(False)` when the connection is lost."""

    def __init__(
        self,
        endpoint: IrcEndpoint,
        channel: str,
        on_line: Callable[[IrcMessage], None],
        on_link: Callable[[bool], None],
        *,
        nick: str = "",
        token: str | None = None,
        retry_min_s: float = 1.0,
        retry_max_s: float = 30.0,
        ping_s: float = 60.0,
    ) -> None:
        self.endpoint = endpoint
        self.channel = channel.lower()
        self.on_line = on_line
        self.on_link = on_link
        self.token = token.removeprefix("oauth:") if token else None
        self.nick = (nick.lower() if self.token and nick else anonymous_nick())
        self.retry_min_s = retry_min_s
        self.retry_max_s = retry_max_s
        self.ping_s = ping_s
        self.connections = 0
        self.skipped_lines = 0
        self._joined = False
        self._joined_this_try = False
        self._writer: asyncio.StreamWriter | None = None

    async def run(self) -> None:
        """Stay connected until cancelled."""
        failures = 0
        extra = {"channel": self.channel, "server": f"{self.endpoint.host}:{self.endpoint.port}"}
        while not cancel_pending():
            self._joined_this_try = False
            try:
                reason = await self._session()
            except (OSError, EOFError, TimeoutError, LoginFailed, ValueError) as err:
                reason = f"{type(err).__name__}: {err}" if str(err) else type(err).__name__
            finally:
                await self._close()
            if cancel_pending():
                return
            if reason == "RECONNECT":
                log.info("chat server asked us to reconnect", extra=extra)
                failures = 0
                continue
            # A connection that worked starts the waits over; one that never joined doubles them.
            failures = 0 if self._joined_this_try else failures + 1
            wait = retry_wait(failures, self.retry_min_s, self.retry_max_s)
            log.warning("chat connection lost (%s); connecting again in %.1f s", reason, wait,
                        extra=extra)
            await asyncio.sleep(wait)

    async def _session(self) -> str:
        """One connection, from login to the end. Returns why it ended."""
        ep = self.endpoint
        tls = ssl.create_default_context() if ep.tls else None
        # asyncio.timeout, not wait_for: on Python 3.11 wait_for can swallow a cancel.
        async with asyncio.timeout(CONNECT_TIMEOUT_S):
            reader, writer = await asyncio.open_connection(
                ep.host, ep.port, ssl=tls, limit=LINE_LIMIT,
                server_hostname=ep.host if tls else None)
        self._writer = writer
        self.connections += 1
        await self._send(format_line("CAP", "REQ", "twitch.tv/tags twitch.tv/commands"))
        if self.token:
            writer.write(f"PASS oauth:{self.token}\r\n".encode())  # never logged
        await self._send(format_line("NICK", self.nick))
        await self._send(format_line("JOIN", f"#{self.channel}"))
        pinged = False
        while not cancel_pending():
            try:
                async with asyncio.timeout(self.ping_s):
                    raw = await reader.readline()
            except TimeoutError:
                if pinged:
                    return "no answer from the chat server"
                await self._send(format_line("PING", "tmi.twitch.tv"))
                pinged = True
                continue
            if not raw:
                return "closed by the chat server"
            pinged = False
            if not raw.endswith(b"\n"):
                return "a line cut short"
            ended = await self._handle(raw.decode("utf-8", errors="replace"))
            if ended:
                return ended
        return "stopping"

    async def _handle(self, line: str) -> str | None:
        """Handle one line. Returns a reason when the connection should end."""
        try:
            msg = parse_line(line)
        except IrcParseError as err:
            self.skipped_lines += 1
            log.warning("skipped a line that is not IRC (%s): %r", err, line[:200],
                        extra={"channel": self.channel})
            return None
        if msg.command == "PING":
            await self._send(format_line("PONG", msg.trailing or "tmi.twitch.tv"))
        elif msg.command == "RECONNECT":
            return "RECONNECT"
        elif msg.command == "NOTICE" and any(t in msg.trailing for t in LOGIN_FAILED):
            raise LoginFailed(msg.trailing)
        elif msg.command == "CAP" and "NAK" in msg.params:
            log.warning("chat server refused tags; times will come from our clock")
        elif msg.command == "JOIN" and msg.nick == self.nick and not self._joined:
            self._joined = self._joined_this_try = True
            log.info("reading chat", extra={"channel": self.channel, "nick": self.nick})
            self.on_link(True)
        self.on_line(msg)
        return None

    async def _send(self, line: str) -> None:
        if self._writer is None:
            raise ConnectionError("not connected")
        self._writer.write(line.encode())
        await self._writer.drain()

    async def _close(self) -> None:
        if self._joined:
            self._joined = False
            self.on_link(False)
        writer, self._writer = self._writer, None
        if writer is not None:
            writer.close()
            with contextlib.suppress(OSError, TimeoutError):
                async with asyncio.timeout(2.0):
                    await writer.wait_closed()
