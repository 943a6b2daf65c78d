"""The live websocket (`/ws`): one Redis reader per process, fanned out to every client.

How a client talks to it:

1. Connect to `ws://HOST:PORT/ws`.
2. Send the token in the FIRST message, within 10 s:
   `{"token": "<api token>", "channels": ["somechannel"]}` (`"channels": "*"` or null: all).
   The token goes in a message, not in the URL, so it never lands in an access log or a
   browser's history. A wrong or missing token closes the socket with code 4401.
3. The server answers `{"type": "hello", "channels": [...]}`, then `backlog` messages with
   the last minutes of the channels it follows (see `services.api.backlog`), then events as
   they come (see `services.api.events` for their shape).
4. Send `{"channels": [...]}` at any time to follow other channels (answer: `subscribed`).

One reader task (`Hub.run`) reads every stream the dashboard needs with one blocking call and
puts each event, encoded once, into every interested client's queue. Each client has its own
bounded queue and its own sender task: when a client is too slow and its queue is full, its
oldest event is dropped. A slow client never holds up the reader or the other clients.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import Any

from fastapi import WebSocket
from starlette.websockets import WebSocketDisconnect, WebSocketState

from services.api.backlog import BACKLOG_TOPICS, Marks, backlog_messages, read_backlog
from services.api.events import (
    GLOBAL_TOPICS,
    PER_CHANNEL_TOPICS,
    BadRequest,
    Channels,
    encode,
    parse_hello,
    parse_update,
    reply,
    wants,
)
from services.api.security import token_matches
from shared.bus import REDIS_DOWN, Bus, Delivery
from shared.channels import all_states
from shared.streams import CHANNEL_STATES, Topic

log = logging.getLogger("clip_live.api.websocket")

QUEUE_SIZE = 1000
"""Events kept per client before its oldest ones are dropped."""
READ_COUNT = 500
REFRESH_S = 1.0
"""How often the reader looks for new channels in the registry."""
LOOK_BACK_MS = 10_000
"""A channel found in the registry is read from this far back, so its first events are not
missed between the channel's start and our next look at the registry."""
HELLO_TIMEOUT_S = 10.0
READY_WAIT_S = 5.0
"""How long a new client waits for the reader's first look at the bus, for its backlog."""
MAX_SEQ = 2**64 - 1
"""The largest sequence number a stream id can have."""
CLOSE_UNAUTHORIZED = 4401


class Client:
    """One connected websocket: what it follows, and its queue of events to send."""

    def __init__(self, channels: Channels, size: int = QUEUE_SIZE) -> None:
        self.channels = channels
        self.queue: asyncio.Queue[str] = asyncio.Queue(maxsize=size)
        self.dropped = 0

    def offer(self, text: str) -> None:
        """Queue an event; if the queue is full, drop the oldest one to make room."""
        if self.queue.full():
            with contextlib.suppress(asyncio.QueueEmpty):
                self.queue.get_nowait()
            self.dropped += 1
        self.queue.put_nowait(text)


class Hub:
    """The one reader of the bus in this process, and the clients it feeds."""

    def __init__(self, bus: Bus, block_ms: int, queue_size: int = QUEUE_SIZE) -> None:
        self.bus = bus
        self.block_ms = block_ms
        self.queue_size = queue_size
        self.clients: set[Client] = set()
        self.positions: dict[str, tuple[Topic[Any], str]] = {}
        self.channels: set[str] = set()
        self.sent = 0
        self.dropped_gone = 0
        self.lag_s = 0.0
        self.last_read = 0.0
        self.ready = asyncio.Event()

    def join(self, channels: Channels) -> Client:
        client = Client(channels, self.queue_size)
        self.clients.add(client)
        return client

    def join_marked(self, channels: Channels) -> tuple[Client, Marks]:
        """Join, and say where the reader stands now in each stream of the backlog. There is
        no await in here: every message after a mark reaches the new client's queue."""
        marks: Marks = {}
        for channel in self.channels:
            if not wants(channels, channel):
                continue
            for topic in BACKLOG_TOPICS:
                stream = topic.stream(channel)
                if stream in self.positions:
                    marks[stream] = (channel, topic, self.positions[stream][1])
        return self.join(channels), marks

    def leave(self, client: Client) -> None:
        if client in self.clients:
            self.clients.discard(client)
            self.dropped_gone += client.dropped

    def stats(self) -> dict[str, Any]:
        """Numbers for /health."""
        return {
            "clients": len(self.clients),
            "events_sent": self.sent,
            "events_dropped": self.dropped_gone + sum(c.dropped for c in self.clients),
            "streams_read": len(self.positions),
            "channels": sorted(self.channels),
            "lag_s": round(self.lag_s, 3),
            "last_read_wall": self.last_read,
        }

    async def run(self) -> None:
        """Read and fan out until cancelled, riding out Redis outages."""
        next_refresh = 0.0
        while True:
            try:
                if not self.ready.is_set():
                    now_ms = await self.server_ms()
                    for topic in GLOBAL_TOPICS:
                        self.positions[topic.stream()] = (topic, f"{now_ms}-0")
                    await self._refresh(now_ms)
                    self.ready.set()
                if time.monotonic() >= next_refresh:
                    next_refresh = time.monotonic() + REFRESH_S
                    await self._refresh(await self.server_ms())
                found, last = await self.bus.read_streams(
                    self.positions, count=READ_COUNT, block_ms=self.block_ms)
                self.last_read = time.time()
                for stream, entry_id in last.items():
                    self.positions[stream] = (self.positions[stream][0], entry_id)
                for delivery in sorted(found, key=_id_order):  # oldest first, over streams
                    self.fan_out(delivery)
            except REDIS_DOWN as err:
                log.warning("cannot read the bus for the websocket: %s", err)
                await asyncio.sleep(1.0)
            except Exception:  # A bug must not end the live view for good: log, go on.
                log.exception("the websocket reader failed; going on in 1 s")
                await asyncio.sleep(1.0)

    def fan_out(self, delivery: Delivery[Any]) -> None:
        """Encode one message once and queue it for every client that follows its channel."""
        topic = self.positions[delivery.stream][0]
        if topic is CHANNEL_STATES:
            self._add_channel(delivery.message.channel, just_before(delivery.id))
        channel, text = encode(topic, delivery.message, delivery.id)
        self.lag_s = max(0.0, time.time() - int(delivery.id.split("-", 1)[0]) / 1000)
        for client in self.clients:
            if wants(client.channels, channel):
                client.offer(text)
                self.sent += 1

    async def server_ms(self) -> int:
        """Redis's clock in ms, so stream ids and our start point agree."""
        seconds, micros = await self.bus.redis.time()
        return int(seconds) * 1000 + int(micros) // 1000

    async def refresh(self) -> None:
        """Follow the channels in the registry now, without waiting for the next look."""
        await self._refresh(await self.server_ms())

    async def _refresh(self, now_ms: int) -> None:
        for channel in await all_states(self.bus.redis):
            self._add_channel(channel, f"{max(0, now_ms - LOOK_BACK_MS)}-0")

    def _add_channel(self, channel: str, after: str) -> None:
        if channel in self.channels:
            return
        self.channels.add(channel)
        for topic in PER_CHANNEL_TOPICS:
            self.positions.setdefault(topic.stream(channel), (topic, after))


def just_before(entry_id: str) -> str:
    """The last possible stream id before `entry_id`. Streams number their entries on their
    own, so a message in another stream added in the same millisecond as `entry_id` may have
    the very same id; reading "after" this one still gets it."""
    ms, _, n = entry_id.partition("-")
    if int(n or 0) > 0:
        return f"{ms}-{int(n) - 1}"
    return f"{int(ms) - 1}-{MAX_SEQ}" if int(ms) > 0 else "0-0"


def _id_order(delivery: Delivery[Any]) -> tuple[int, int]:
    """Stream ids are `<ms>-<n>`: sorting by them puts messages of many streams in time order."""
    ms, _, n = delivery.id.partition("-")
    return int(ms), int(n or 0)


async def serve_client(ws: WebSocket) -> None:
    """Run one websocket connection: check the token, then send events until it closes."""
    hub: Hub = ws.app.state.hub
    await ws.accept()
    try:
        async with asyncio.timeout(HELLO_TIMEOUT_S):
            first = await _next_text(ws)
        if first is None:
            return
        given, channels = parse_hello(first)
    except TimeoutError:
        await _close(ws, CLOSE_UNAUTHORIZED, "send the token in the first message")
        return
    except BadRequest as err:
        await _close(ws, CLOSE_UNAUTHORIZED, str(err)[:100])
        return
    if not token_matches(given, ws.app.state.token):
        await _close(ws, CLOSE_UNAUTHORIZED, "wrong token")
        return
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(READY_WAIT_S):
            await hub.ready.wait()
    with contextlib.suppress(*REDIS_DOWN):
        await hub.refresh()  # a channel registered a moment ago has its backlog too
    client, marks = hub.join_marked(channels)
    try:
        await ws.send_text(reply("hello", channels, queue=hub.queue_size))
        for text in await _backlog(hub, marks):
            await ws.send_text(text)
        tasks = [asyncio.create_task(_send_events(ws, client)),
                 asyncio.create_task(_read_updates(ws, client))]
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    except (WebSocketDisconnect, RuntimeError, OSError):
        pass  # The client went away.
    finally:
        hub.leave(client)
        await _close(ws, 1000, "")


async def _backlog(hub: Hub, marks: Marks) -> list[str]:
    """The `backlog` messages for a new client (one empty one when Redis cannot be read)."""
    try:
        return backlog_messages(await read_backlog(hub.bus, marks, await hub.server_ms()))
    except REDIS_DOWN as err:
        log.warning("cannot read the backlog for a new websocket client: %s", err)
    except Exception:  # A bug here must not keep the client from its live events.
        log.exception("the backlog for a new websocket client failed")
    return backlog_messages([])


async def _send_events(ws: WebSocket, client: Client) -> None:
    with contextlib.suppress(WebSocketDisconnect, RuntimeError, OSError):
        while True:
            await ws.send_text(await client.queue.get())


async def _read_updates(ws: WebSocket, client: Client) -> None:
    while True:
        text = await _next_text(ws)
        if text is None:
            return
        try:
            client.channels = parse_update(text)
        except BadRequest as err:
            await ws.send_text(reply("error", client.channels, detail=str(err)))
            continue
        await ws.send_text(reply("subscribed", client.channels))


async def _next_text(ws: WebSocket) -> str | None:
    """The client's next message as text, or None when it has gone."""
    try:
        message = await ws.receive()
    except (WebSocketDisconnect, RuntimeError):
        return None
    if message["type"] == "websocket.disconnect":
        return None
    if message.get("text") is not None:
        return str(message["text"])
    raw = message.get("bytes") or b""
    return raw.decode("utf-8", errors="replace")


async def _close(ws: WebSocket, code: int, reason: str) -> None:
    if ws.application_state == WebSocketState.CONNECTED and \
            ws.client_state == WebSocketState.CONNECTED:
        with contextlib.suppress(RuntimeError, OSError, WebSocketDisconnect):
            await ws.close(code=code, reason=reason)
