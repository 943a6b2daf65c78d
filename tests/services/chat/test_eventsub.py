"""EventSub chat: twitchio's events become the same messages and notices IRC gives."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator

import pytest
import twitchio
from pydantic import SecretStr
from redis.asyncio import Redis
from twitchio.eventsub import websockets
from twitchio.http import Route

from services.chat.chatlog import log_path
from services.chat.eventsub import EventSubChatClient, EventSubLogin, message_from, notice_from
from services.chat.irc import ChatMessage, ChatNotice, Emote, parse_line, to_event
from services.chat.service import main
from services.chat.worker import WORKER
from shared.bus import Bus
from shared.channels import save_state
from shared.contracts import ChannelState, ChatSecond
from shared.runtime import ServiceContext
from shared.settings import Settings
from shared.streams import CHAT
from tests.services.chat.eventsub_payloads import chat_message, notice
from tests.services.chat.eventsub_server import (
    CLIENT_ID,
    READER,
    USER_TOKEN,
    USERS,
    EventSubServer,
)
from tests.support import wait_until


def test_a_message_reads_the_same_as_its_irc_line() -> None:
    parts: list[tuple[str, str | None]] = [("wow ", None), ("Kappa", "25"), (" nice ", None),
                                          ("PogChamp", "305954156")]
    event = twitchio.ChatMessage(chat_message("Viewer32", parts), http=None)  # type: ignore[arg-type]
    got = message_from(event, ts=1_700_000_000.25)
    line = ("@badges=subscriber/12,premium/1;display-name=Viewer32;"
            "emotes=25:4-8/305954156:15-22;id=cc106a89-1814-919d-454c-f4f2f970aae7;"
            "tmi-sent-ts=1700000000250 :viewer32!viewer32@viewer32.tmi.twitch.tv "
            "PRIVMSG #streamer :wow Kappa nice PogChamp\r\n")
    assert got == to_event(parse_line(line), fallback_ts=0.0)
    assert isinstance(got, ChatMessage)
    assert got.emote_names() == ["Kappa", "PogChamp"]
    assert got.emotes[0] == Emote("25", 4, 8)


@pytest.mark.parametrize(("notice_type", "kind", "suppresses"), [
    ("raid", "raid", True),
    ("shared_chat_raid", "raid", True),
    ("community_sub_gift", "submysterygift", True),
    ("sub_gift", "subgift", True),
    ("resub", "resub", False),
    ("announcement", "announcement", False),
])
def test_notices_get_irc_names_so_raids_and_gift_bursts_still_hold_spikes_back(
    notice_type: str, kind: str, suppresses: bool,
) -> None:
    event = twitchio.ChatNotification(notice(notice_type), http=None)  # type: ignore[arg-type]
    got = notice_from(event, ts=12.0)
    assert (got.kind, got.suppresses) == (kind, suppresses)
    assert got.channel == "streamer" and got.user == "raider" and got.ts == 12.0
    assert got.text == "120 raiders from Raider have joined!"


@pytest.fixture
async def twitch(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[EventSubServer]:
    """Twitch's API and EventSub websocket on loopback, with twitchio pointed at them."""
    server = EventSubServer()
    await server.start()
    monkeypatch.setattr(Route, "BASE", server.base + "helix/")
    monkeypatch.setattr(Route, "ID_BASE", server.base)
    monkeypatch.setattr(websockets, "WSS", f"ws://127.0.0.1:{server.port}/ws")
    yield server
    await server.close()


@pytest.mark.timeout(60)
async def test_the_client_subscribes_reads_and_rides_out_a_dropped_socket(
    twitch: EventSubServer, caplog: pytest.LogCaptureFixture,
) -> None:
    twitch.refuse_user_token = True  # The first session fails: the token is turned down.
    events: list[ChatMessage | ChatNotice] = []
    links: list[bool] = []
    client = EventSubChatClient(EventSubLogin(CLIENT_ID, "app-secret-value", USER_TOKEN),
                                "Streamer", events.append, links.append, retry_min_s=0.2,
                                clock=lambda: 42.0)
    caplog.set_level(logging.INFO)
    reading = asyncio.create_task(client.run())
    try:
        await wait_until(lambda: any("EventSub chat failed" in r.getMessage()
                                     for r in caplog.records), 10, "the refusal logged")
        twitch.refuse_user_token = False
        await wait_until(lambda: links == [True], 10, "subscribed after a retry")
        kinds = sorted(s["type"] for s in twitch.subscriptions)
        assert kinds == ["channel.chat.message", "channel.chat.notification"]
        assert all(s["condition"] == {"broadcaster_user_id": USERS["streamer"],
                                      "user_id": READER["user_id"]} for s in twitch.subscriptions)

        await twitch.send("channel.chat.message", chat_message("viewer", [("hello", None)]))
        await twitch.send("channel.chat.notification", notice("raid"))
        await wait_until(lambda: len(events) == 2, 10, "a message and a raid")
        message, raid = events
        assert isinstance(message, ChatMessage) and message.text == "hello" and message.ts == 42.0
        assert isinstance(raid, ChatNotice) and raid.suppresses

        # The socket drops: twitchio connects again and subscribes again by itself.
        subscribed = len(twitch.subscriptions)
        await twitch.drop_sockets()
        await wait_until(lambda: len(twitch.subscriptions) >= subscribed + 2, 20,
                         "subscribed again on a new socket")

        async def arrives() -> bool:
            await twitch.send("channel.chat.message", chat_message("later", [("back", None)]))
            await asyncio.sleep(0.2)
            return any(isinstance(e, ChatMessage) and e.user == "later" for e in events)

        await wait_until(arrives, 20, "a message on the new socket")
    finally:
        reading.cancel()
        await asyncio.gather(reading, return_exceptions=True)
    assert links[0] is True and links[-1] is False
    assert not any(secret in r.getMessage() for r in caplog.records
                   for secret in ("app-secret-value", USER_TOKEN)
                   if r.name.startswith("clip_live"))


@pytest.mark.timeout(60)
async def test_the_chat_service_reads_eventsub_when_set(
    twitch: EventSubServer, settings: Settings, bus: Bus, redis_client: Redis,
) -> None:
    chat_settings = settings.model_copy(update={
        "chat_source": "eventsub", "twitch_client_id": CLIENT_ID,
        "twitch_client_secret": SecretStr("app-secret-value"),
        "twitch_token": SecretStr(USER_TOKEN), "reconnect_min_s": 0.1, "lease_ttl_s": 5.0})
    began = time.time() - 60
    await save_state(redis_client, ChannelState(
        channel="main", session="s1", state="live", t=0.0, wall=began,
        url="https://www.twitch.tv/streamer"))
    ctx = ServiceContext(worker=WORKER, settings=chat_settings, bus=bus,
                         log=logging.getLogger("clip_live.chat"))
    service = asyncio.create_task(main(ctx))
    try:
        await wait_until(lambda: len(twitch.subscriptions) == 2, 20, "the service subscribed")
        sent_at = time.time()
        for i in range(5):
            await twitch.send("channel.chat.message", chat_message(f"fan{i}", [("hi", None)]))
        await twitch.send("channel.chat.notification", notice("raid"))

        async def counted() -> list[ChatSecond]:
            found = [d.message for d in await bus.read(CHAT, channel="main", count=10_000)]
            return found if sum(s.messages for s in found) == 5 and any(
                s.suppressed for s in found) else []

        seconds = await wait_until(counted, 20, "five messages and a raid counted")
    finally:
        ctx.stop.set()
        await asyncio.wait_for(service, 15)
    # Seconds are stamped on the session's clock, from when the events arrived.
    busy = [s for s in seconds if s.messages]
    assert all(sent_at - 1 <= s.wall <= sent_at + 3 for s in busy)
    assert all(abs(s.t - (s.wall - began)) < 1e-6 for s in seconds)
    logged = log_path(chat_settings.data_dir, "main", "s1").read_text()
    assert logged.count(": hi") == 5 and "* raid raider" in logged
