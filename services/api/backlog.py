"""The backlog: what a client missed before it connected, so a page opened late still shows the
last minutes of every chart, the spikes in them, and the captions.

Right after `hello`, the server sends one or more messages

    {"type": "backlog", "count": <n>, "more": <bool>, "events": [<event>, ...]}

with, for every channel the client follows, the bus messages of the last `BACKLOG_S` seconds
(at most `BACKLOG_COUNT` per stream), oldest first, in the same shape as live events. Each
message holds at most `PER_MESSAGE` events, so none gets too big for a client; `more` is false
on the last one. It reads each stream up to exactly where the live reader stood when the client
joined, and live events go on from there: nothing comes twice and nothing falls in between.
Only each channel's newest session is sent (stream time starts again at 0 in a new session),
and only final captions.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from services.api.events import encode
from shared.bus import Bus
from shared.bus.wire import decode_valid
from shared.contracts import Caption, Stamped
from shared.streams import CAPTIONS, CHAT, EVENTS, FACE, SPIKES, Topic

BACKLOG_S = 300
"""How far back (in wall time, by stream id) a new client gets the channel's messages."""
BACKLOG_COUNT = 600
"""The most messages sent per stream (a row per second: ten minutes' worth)."""
PER_MESSAGE = 200
"""The most events in one backlog message."""
BACKLOG_TOPICS: tuple[Topic[Any], ...] = (EVENTS, SPIKES, CAPTIONS, CHAT, FACE)

Marks = dict[str, tuple[str, Topic[Any], str]]
"""Per stream: its channel, its topic, and the last id the live reader handled."""


@dataclass(frozen=True)
class Entry:
    """One message of the backlog."""

    channel: str
    topic: Topic[Any]
    id: str
    message: Stamped


async def read_backlog(bus: Bus, marks: Marks, now_ms: int) -> list[Entry]:
    """The messages of the last `BACKLOG_S` seconds up to each mark, oldest first."""
    oldest = f"{max(0, now_ms - BACKLOG_S * 1000)}-0"
    streams = list(marks)
    async with bus.redis.pipeline(transaction=False) as pipe:
        for stream in streams:
            pipe.xrevrange(stream, max=marks[stream][2], min=oldest, count=BACKLOG_COUNT)
        replies: list[Any] = await pipe.execute()
    found: list[Entry] = []
    for stream, entries in zip(streams, replies, strict=True):
        channel, topic, _ = marks[stream]
        for delivery in decode_valid(stream, topic, entries or []):
            message = delivery.message
            if isinstance(message, Stamped) and not (
                    isinstance(message, Caption) and not message.final):
                found.append(Entry(channel, topic, delivery.id, message))
    found.sort(key=lambda e: id_order(e.id))
    return newest_session(found)


def newest_session(entries: list[Entry]) -> list[Entry]:
    """Only the entries of each channel's newest session (that of its newest entry)."""
    newest: dict[str, str] = {}
    for entry in entries:  # oldest first: the last one seen per channel wins
        newest[entry.channel] = entry.message.session
    return [e for e in entries if e.message.session == newest[e.channel]]


def backlog_messages(entries: list[Entry], per_message: int = PER_MESSAGE) -> list[str]:
    """The `backlog` messages (at least one): every entry encoded as a live event would be."""
    chunks = [entries[i:i + per_message] for i in range(0, len(entries), per_message)] or [[]]
    texts = []
    for n, chunk in enumerate(chunks, 1):
        events = ",".join(encode(e.topic, e.message, e.id)[1] for e in chunk)
        more = "true" if n < len(chunks) else "false"
        texts.append(f'{{"type":"backlog","count":{len(chunk)},"more":{more},"events":[{events}]}}')
    return texts


def id_order(entry_id: str) -> tuple[int, int]:
    """Stream ids are `<ms>-<n>`: sorting by them puts messages of many streams in time order."""
    ms, _, n = entry_id.partition("-")
    return int(ms), int(n or 0)
