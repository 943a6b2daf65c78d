"""The websocket: the token in the first message, per-channel events from the real bus, and a
slow client that loses old events without holding up anyone else."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from services.api.events import encode, parse_channels
from services.api.websocket import Client, Hub, just_before
from shared.bus import Bus, Delivery
from shared.contracts import Caption, ClipProgress, EventRow, Spike
from shared.settings import Settings
from shared.streams import CAPTIONS, CLIP_PROGRESS, CLIPS, EVENTS, SPIKES
from tests.services.api.support import (
    TOKEN,
    RunningApi,
    api_settings,
    running_api,
    set_state,
    store_clip,
)


def row(channel: str, t: float, prob: float = 0.5) -> EventRow:
    return EventRow(channel=channel, session="s1", t=t, dur=1.0, wall=time.time(), loud_db=-20.0,
                    motion_avg=3.5, excited_prob=prob)


async def hello(api: RunningApi, channels: Any) -> ClientConnection:
    """Connect and say hello; the backlog that comes first must be empty here."""
    ws, backlog = await hello_with_backlog(api, channels)
    assert backlog == [], backlog
    return ws


async def hello_with_backlog(api: RunningApi,
                             channels: Any) -> tuple[ClientConnection, list[dict[str, Any]]]:
    """Connect, say hello, and take the backlog (the events of the last minutes)."""
    ws = await connect(api.ws_url)
    await ws.send(json.dumps({"token": TOKEN, "channels": channels}))
    first = json.loads(await asyncio.wait_for(ws.recv(), 10))
    assert first["type"] == "hello", first
    events: list[dict[str, Any]] = []
    more = True
    while more:
        part = json.loads(await asyncio.wait_for(ws.recv(), 10))
        assert part["type"] == "backlog" and part["count"] == len(part["events"]), part
        events += part["events"]
        more = part["more"]
    return ws, events


async def next_events(ws: ClientConnection, count: int) -> list[dict[str, Any]]:
    return [json.loads(await asyncio.wait_for(ws.recv(), 10)) for _ in range(count)]


@pytest.mark.parametrize("first", [json.dumps({"token": "wrong", "channels": "*"}),
                                   json.dumps({"channels": "*"}), "not json"])
async def test_no_valid_token_closes_the_socket(api: RunningApi, first: str) -> None:
    async with connect(api.ws_url) as ws:
        await ws.send(first)
        with pytest.raises(ConnectionClosed) as closed:
            await asyncio.wait_for(ws.recv(), 10)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4401


async def test_events_of_followed_channels_arrive_in_order(
    api: RunningApi, bus: Bus, settings: Settings
) -> None:
    await set_state(bus, "alpha")
    await set_state(bus, "beta")
    alpha = await hello(api, ["alpha"])
    everyone = await hello(api, "*")
    await bus.publish(EVENTS, row("beta", 1.0), channel="beta")
    await bus.publish(EVENTS, row("alpha", 1.0, 0.91), channel="alpha")
    await bus.publish(SPIKES, Spike(channel="alpha", session="s1", t=1.0, dur=0.0,
                                    wall=time.time(), probability=0.91, trigger="model",
                                    job_id="j1"), channel="alpha")
    await bus.publish(CAPTIONS, Caption(channel="alpha", session="s1", t=1.0, dur=1.0,
                                        wall=time.time(), text="no w", final=False),
                      channel="alpha")
    await bus.publish(CAPTIONS, Caption(channel="alpha", session="s1", t=1.0, dur=1.0,
                                        wall=time.time(), text="no way", final=True),
                      channel="alpha")
    await bus.publish(CLIP_PROGRESS, ClipProgress(channel="beta", job_id="j0", status="waiting",
                                                  percent=40, wall=time.time()))
    await bus.publish(CLIP_PROGRESS, ClipProgress(channel="alpha", job_id="j1", status="cutting",
                                                  percent=85, wall=time.time()))
    clip = await store_clip(bus, api.settings, "alpha", "clip_1")
    await bus.publish(CLIPS, clip)

    got = await next_events(alpha, 6)
    kinds = [(e["type"], e["channel"]) for e in got]
    assert sorted(kinds) == sorted([
        ("event", "alpha"), ("new_spike", "alpha"), ("caption", "alpha"), ("caption", "alpha"),
        ("clipProgress", "alpha"), ("new_clip", "alpha")])
    got.sort(key=lambda e: ["event", "new_spike", "caption", "clipProgress", "new_clip"].index(
        e["type"]))  # stable: the two captions keep the order they came in
    event, spike, interim, final, progress, new_clip = (e["data"] for e in got)
    assert (event["loud_db"], event["motion_avg"], event["excited_prob"]) == (-20.0, 3.5, 0.91)
    assert spike["probability"] == 0.91 and spike["trigger"] == "model"
    assert (interim["text"], interim["final"], final["text"], final["final"]) == (
        "no w", False, "no way", True)
    assert (progress["status"], progress["percent"], progress["job_id"]) == ("cutting", 85, "j1")
    assert new_clip["clip_id"] == clip.clip_id
    assert new_clip["video_url"] == f"/api/clip/{clip.clip_id}/video"
    assert "video" not in new_clip  # no server paths on the wire

    got_all = [(e["type"], e["channel"]) for e in await next_events(everyone, 8)]
    assert sorted(got_all) == sorted([*kinds, ("event", "beta"), ("clipProgress", "beta")])

    await alpha.send(json.dumps({"channels": ["beta"]}))
    assert json.loads(await alpha.recv()) == {"type": "subscribed", "channels": ["beta"]}
    await bus.publish(EVENTS, row("alpha", 2.0), channel="alpha")
    await bus.publish(EVENTS, row("beta", 2.0), channel="beta")
    [moved] = await next_events(alpha, 1)
    assert (moved["channel"], moved["data"]["t"]) == ("beta", 2.0)
    await alpha.send(json.dumps({"channels": ["Not A Channel"]}))
    assert json.loads(await alpha.recv())["type"] == "error"
    await alpha.close()
    await everyone.close()


async def test_a_new_channel_is_followed_from_its_first_state(
    api: RunningApi, bus: Bus
) -> None:
    from shared.contracts import ChannelState
    from shared.streams import CHANNEL_STATES

    ws = await hello(api, "*")
    state = ChannelState(channel="fresh", session="s9", state="starting", url="x",
                         wall=time.time())
    await bus.publish(CHANNEL_STATES, state)
    await bus.publish(EVENTS, row("fresh", 0.0), channel="fresh")
    got = await next_events(ws, 2)
    assert [(e["type"], e["channel"]) for e in got] == [("channel_state", "fresh"),
                                                       ("event", "fresh")]
    await ws.close()


async def test_stopping_the_service_closes_open_sockets(settings: Settings) -> None:
    async with running_api(api_settings(settings)) as api:
        ws = await hello(api, "*")
    # The service stopped (running_api waited for it) although a client was still connected.
    with pytest.raises(ConnectionClosed):
        await asyncio.wait_for(ws.recv(), 10)
    assert api.task.result() == 0


def test_a_full_queue_drops_its_oldest_events() -> None:
    client = Client(channels=None, size=3)
    for n in range(5):
        client.offer(str(n))
    assert client.dropped == 2
    assert [client.queue.get_nowait() for _ in range(3)] == ["2", "3", "4"]


async def test_a_slow_client_never_holds_up_the_others(bus: Bus) -> None:
    hub = Hub(bus, block_ms=100, queue_size=10)
    hub.positions[EVENTS.stream("alpha")] = (EVENTS, "0")
    slow, fast = hub.join(None), hub.join(parse_channels(["alpha"]))
    received: list[str] = []
    for n in range(50):
        hub.fan_out(Delivery(EVENTS.stream("alpha"), f"{n + 1}-0", row("alpha", float(n))))
        received.append(fast.queue.get_nowait())  # a fast client takes each one at once
    assert len(received) == 50 and fast.dropped == 0
    assert slow.dropped == 40 and slow.queue.qsize() == 10
    newest = json.loads(slow.queue.get_nowait())
    assert newest["data"]["t"] == 40.0  # the slow one kept the newest ten
    assert hub.stats()["events_dropped"] == 40


def test_reading_after_just_before_an_id_gets_that_id() -> None:
    assert just_before("1700000000123-0") == f"1700000000122-{2**64 - 1}"
    assert just_before("1700000000123-5") == "1700000000123-4"
    assert just_before("0-0") == "0-0"


def test_events_are_encoded_once_as_json() -> None:
    channel, text = encode(EVENTS, row("alpha", 3.0), "5-0")
    body = json.loads(text)
    assert channel == "alpha" and body["type"] == "event" and body["id"] == "5-0"
    assert body["data"]["excited_prob"] == 0.5
