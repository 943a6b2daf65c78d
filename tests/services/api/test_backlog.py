"""The websocket's backlog on a real Redis: a new client gets the last minutes of the channels
it follows (newest session, final captions, nothing too old, a bounded count, in parts), and
live events go on exactly where the backlog ends."""

from __future__ import annotations

import json
import time
from typing import Any

from services.api.backlog import BACKLOG_COUNT, PER_MESSAGE, backlog_messages, read_backlog
from services.api.websocket import Hub
from shared.bus import Bus
from shared.contracts import Caption, ChatSecond, EventRow, FaceSecond, Spike
from shared.streams import CAPTIONS, CHAT, EVENTS, FACE, SPIKES
from tests.services.api.support import RunningApi, publish_at, server_ms, set_state
from tests.services.api.test_websocket import hello_with_backlog, next_events


def row(channel: str, t: float, session: str = "s1") -> EventRow:
    return EventRow(channel=channel, session=session, t=t, dur=1.0, wall=time.time(),
                    loud_db=-20.0, motion_avg=1.0, excited_prob=0.2)


async def test_a_new_client_gets_the_last_minutes_of_its_channels(
    api: RunningApi, bus: Bus
) -> None:
    await set_state(bus, "alpha")
    await set_state(bus, "beta")
    now = await server_ms(bus)
    stamp: dict[str, Any] = {"channel": "alpha", "session": "s1", "dur": 1.0, "wall": 0.0}
    await publish_at(bus, EVENTS, row("alpha", 99.0), now - 400_000, "alpha")  # too old
    await publish_at(bus, EVENTS, row("alpha", 50.0, "s0"), now - 200_000, "alpha")  # old session
    for t in range(1, 6):
        ms = now - 60_000 + t * 1000
        await publish_at(bus, EVENTS, row("alpha", float(t)), ms, "alpha")
        await publish_at(bus, CHAT, ChatSecond(
            **stamp, t=float(t), messages=t, chatters=1, rate_z=0.5 * t, baseline=1.0,
            hype_density=0.0, spike=False, strength=0.0), ms, "alpha")
        await publish_at(bus, FACE, FaceSecond(**stamp, t=float(t), present=True,
                                               excitement=0.1 * t), ms, "alpha")
    await publish_at(bus, SPIKES, Spike(**stamp, t=3.0, probability=0.9, trigger="model",
                                        job_id="j3"), now - 56_500, "alpha")
    await publish_at(bus, CAPTIONS, Caption(**stamp, t=2.0, text="no way", final=True),
                     now - 57_900, "alpha")
    await publish_at(bus, CAPTIONS, Caption(**stamp, t=2.5, text="no w", final=False),
                     now - 57_500, "alpha")
    await publish_at(bus, EVENTS, row("beta", 7.0), now - 30_000, "beta")

    ws, backlog = await hello_with_backlog(api, ["alpha"])
    got = [(e["type"], e["data"]["t"]) for e in backlog]
    assert got == [
        ("event", 1.0), ("chat", 1.0), ("face", 1.0),
        ("event", 2.0), ("chat", 2.0), ("face", 2.0), ("caption", 2.0),
        ("event", 3.0), ("chat", 3.0), ("face", 3.0), ("new_spike", 3.0),
        ("event", 4.0), ("chat", 4.0), ("face", 4.0),
        ("event", 5.0), ("chat", 5.0), ("face", 5.0)]
    assert {e["channel"] for e in backlog} == {"alpha"}
    assert backlog[1]["data"]["messages"] == 1 and backlog[2]["data"]["excitement"] == 0.1
    ids = [tuple(map(int, e["id"].split("-"))) for e in backlog]
    assert ids == sorted(ids)

    # Live events go on after the backlog, with nothing twice.
    await bus.publish(EVENTS, row("alpha", 6.0), channel="alpha")
    [live] = await next_events(ws, 1)
    assert (live["type"], live["data"]["t"]) == ("event", 6.0)
    await ws.close()

    everyone, backlog = await hello_with_backlog(api, "*")
    assert [(e["channel"], e["data"]["t"]) for e in backlog if e["type"] == "event"] == [
        ("alpha", 1.0), ("alpha", 2.0), ("alpha", 3.0), ("alpha", 4.0), ("alpha", 5.0),
        ("beta", 7.0), ("alpha", 6.0)]
    await everyone.close()


async def test_the_backlog_ends_where_the_live_reader_stands(bus: Bus) -> None:
    hub = Hub(bus, block_ms=100)
    ids = [await bus.publish(EVENTS, row("alpha", float(t)), channel="alpha") for t in range(10)]
    hub.channels.add("alpha")
    hub.positions[EVENTS.stream("alpha")] = (EVENTS, ids[5])  # the reader handled t=0..5
    client, marks = hub.join_marked(None)
    backlog = await read_backlog(bus, marks, await server_ms(bus))
    assert [e.message.t for e in backlog] == [0.0, 1.0, 2.0, 3.0, 4.0, 5.0]

    found, _ = await bus.read_streams(hub.positions)  # the reader's next read
    for delivery in found:
        hub.fan_out(delivery)
    live = [json.loads(client.queue.get_nowait())["data"]["t"]
            for _ in range(client.queue.qsize())]
    assert live == [6.0, 7.0, 8.0, 9.0]


async def test_the_backlog_is_bounded_to_the_newest_messages(bus: Bus) -> None:
    rows = [(row("alpha", float(t)), None) for t in range(BACKLOG_COUNT + 100)]
    last = (await bus.publish_many(EVENTS, rows, channel="alpha"))[-1]
    marks = {EVENTS.stream("alpha"): ("alpha", EVENTS, last)}
    backlog = await read_backlog(bus, marks, await server_ms(bus))
    assert len(backlog) == BACKLOG_COUNT
    assert backlog[0].message.t == 100.0 and backlog[-1].message.t == BACKLOG_COUNT + 99.0

    # Sent in parts small enough for any client, in order, the last one saying so.
    parts = [json.loads(text) for text in backlog_messages(backlog)]
    assert [len(p["events"]) for p in parts] == [PER_MESSAGE] * (BACKLOG_COUNT // PER_MESSAGE)
    assert [p["more"] for p in parts] == [True] * (len(parts) - 1) + [False]
    assert [e["data"]["t"] for p in parts for e in p["events"]] == [
        e.message.t for e in backlog]
    assert [json.loads(t) for t in backlog_messages([])] == [
        {"type": "backlog", "count": 0, "more": False, "events": []}]
