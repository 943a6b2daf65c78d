"""The IRC client against a real IRC server on loopback that speaks Twitch's dialect."""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest

from services.chat.client import IrcEndpoint, TwitchIrcClient
from services.chat.irc import ChatMessage, ChatNotice, IrcMessage, to_event
from tests.services.chat.irc_server import Line, TwitchIrcServer

pytestmark = pytest.mark.timeout(60)


class Recorder:
    """What the client hands over: chat events, and link changes."""

    def __init__(self) -> None:
        self.events: list[ChatMessage | ChatNotice] = []
        self.links: list[bool] = []

    def on_line(self, msg: IrcMessage) -> None:
        event = to_event(msg, fallback_ts=time.time())
        if event is not None:
            self.events.append(event)

    def on_link(self, up: bool) -> None:
        self.links.append(up)

    async def wait_for(self, count: int, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while len(self.events) < count:
            assert time.monotonic() < deadline, f"got {len(self.events)} of {count} events"
            await asyncio.sleep(0.02)


@asynccontextmanager
async def reading(server: TwitchIrcServer, channel: str, rec: Recorder, nick: str = "",
                  token: str | None = None) -> AsyncIterator[TwitchIrcClient]:
    client = TwitchIrcClient(IrcEndpoint("127.0.0.1", server.port, tls=False), channel,
                             rec.on_line, rec.on_link, nick=nick, token=token,
                             retry_min_s=0.05, retry_max_s=0.2)
    task = asyncio.create_task(client.run())
    try:
        yield client
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def test_anonymous_login_tags_emotes_actions_and_escapes() -> None:
    async with TwitchIrcServer() as server:
        rec = Recorder()
        async with reading(server, "SomeChannel", rec):
            conn = await server.wait_joined("somechannel")
            assert re.fullmatch(r"justinfan\d+", conn.nick)
            assert conn.password is None
            assert conn.caps == ["twitch.tv/tags", "twitch.tv/commands"]
            now = time.time()
            await conn.replay([
                Line(now - 3, "alice", "Kappa hello Kappa", emotes="25:0-4,12-16"),
                Line(now - 2, "bob", "waves", action=True),
                Line(now - 1, "carol", "semi;colon and back\\slash",
                     tags={"display-name": "Carol The Great", "reply-parent-msg-body":
                           "line one\nline two"}),
                Line(now, "raider", notice="raid"),
            ])
            await rec.wait_for(4)
            assert rec.links == [True]
    alice, bob, carol, raid = rec.events
    assert isinstance(alice, ChatMessage) and isinstance(bob, ChatMessage)
    assert isinstance(carol, ChatMessage) and isinstance(raid, ChatNotice)
    assert alice.emote_names() == ["Kappa", "Kappa"] and alice.badges["subscriber"] == "6"
    assert alice.ts == pytest.approx(now - 3, abs=1e-3)  # from tmi-sent-ts, not arrival
    assert bob.action and bob.text == "waves"
    assert carol.text == "semi;colon and back\\slash"
    assert carol.display_name == "Carol The Great"
    assert raid.kind == "raid" and raid.suppresses
    assert raid.text == "120 raiders from raider have joined!"


async def test_oauth_login_never_logs_the_token(caplog: pytest.LogCaptureFixture) -> None:
    secret = "s3cr3tt0k3nvalue"
    caplog.set_level(logging.DEBUG)
    async with TwitchIrcServer(token=secret) as server:
        rec = Recorder()
        async with reading(server, "chan", rec, nick="MyBot", token=f"oauth:{secret}"):
            conn = await server.wait_joined("chan")
            assert conn.password == f"oauth:{secret}" and conn.nick == "mybot"
        # A wrong token: the server says no, the client logs it and tries again later.
        rec2 = Recorder()
        async with reading(server, "other", rec2, nick="mybot", token="wrong-token-xyz"):
            deadline = time.monotonic() + 5
            while "Login authentication failed" not in caplog.text:
                assert time.monotonic() < deadline
                await asyncio.sleep(0.02)
        assert rec2.links == []
    assert secret not in caplog.text and "wrong-token-xyz" not in caplog.text


async def test_ping_pong_reconnect_and_drop() -> None:
    async with TwitchIrcServer() as server:
        rec = Recorder()
        async with reading(server, "chan", rec) as client:
            first = await server.wait_joined("chan")
            assert await first.ping("tmi.twitch.tv")
            assert await first.ping("token-123")
            await first.privmsg("a", "one", str(round(time.time() * 1000)))
            await rec.wait_for(1)

            await first.reconnect()  # Twitch asks: the client connects again at once
            second = await server.wait_joined("chan", nth=2)
            await second.privmsg("b", "two", str(round(time.time() * 1000)))
            await rec.wait_for(2)

            await second.drop()  # the connection dies with no goodbye
            third = await server.wait_joined("chan", nth=3)
            await third.privmsg("c", "three", str(round(time.time() * 1000)))
            await rec.wait_for(3)
            assert client.connections == 3
    assert [e.text for e in rec.events] == ["one", "two", "three"]
    assert rec.links == [True, False, True, False, True, False]


async def test_malformed_lines_are_skipped_with_a_log_line(
        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="clip_live.chat.irc")
    async with TwitchIrcServer() as server:
        rec = Recorder()
        async with reading(server, "chan", rec) as client:
            conn = await server.wait_joined("chan")
            for junk in ["@only-tags", ":only.a.prefix", "!!! ??? ###", "   ",
                         b"\xff\xfe not UTF-8", "@=broken;tags :x PRIVMSG #chan :hi"]:
                await conn.send(junk)
            await conn.privmsg("after", "still here", str(round(time.time() * 1000)))
            await rec.wait_for(1)
            assert client.skipped_lines == 6
            assert client.connections == 1  # no reconnect needed
    assert [e.text for e in rec.events] == ["still here"]
    assert caplog.text.count("skipped a line that is not IRC") == 6
