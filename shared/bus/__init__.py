"""The bus: Redis Streams, and the only place that talks to them.

- `publish` adds a message to a stream and trims the stream (`MAXLEN ~`) so Redis stays small.
- `consume` reads with a consumer group, so workers that share a group share the work: each
  message goes to one of them. A message is acknowledged only after its handler succeeds.
- Messages a dead worker left behind are taken over (`XAUTOCLAIM`) once they sit idle long enough.
- A message handed out `max_deliveries` times without success goes to the dead-letter stream,
  and the worker goes on with the next one.
- Redis going away (paused, restarting) loses nothing: what is published waits in the bus's
  outbox (`shared/outbox.py`) and is written in order when Redis is back; `consume` logs once,
  waits, and goes on; a consumer group that vanished is made again.

On the wire a message is one field `data` (the JSON of its contract) plus the raw binary parts
its topic declares (`Topic.parts`). Publishing checks the parts given are those; a message that
arrives without one is not valid, and goes to the dead-letter stream like any other.

On a Redis Cluster, reads of many streams and writes that go together are split by hash slot
(`shared/cluster.py`); on plain Redis they stay single calls.

The parts: `wire` (how a message looks in a stream entry), `groups` (reading with consumer
groups), and here the `Bus` itself: publishing and reading without a group.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from redis.asyncio import Redis

from shared.bus.groups import GroupReading
from shared.bus.groups import Handler as Handler
from shared.bus.groups import Subscriptions as Subscriptions
from shared.bus.wire import DATA_FIELD as DATA_FIELD
from shared.bus.wire import Delivery as Delivery
from shared.bus.wire import decode_valid, encode
from shared.cluster import (
    Write,
    is_cluster,
    read_split,
    set_write,
    transactions_by_slot,
    xadd_write,
)
from shared.contracts import Contract
from shared.outbox import MAX_BYTES, Outbox
from shared.redis_client import REDIS_DOWN as REDIS_DOWN
from shared.redis_client import RedisUnreachable as RedisUnreachable
from shared.redis_client import connect_redis, longest_block_ms, writer_for
from shared.redis_client import redact_url as redact_url
from shared.settings import Settings
from shared.streams import Topic
from shared.text import as_text

C = TypeVar("C", bound=Contract)

_WRITERS: weakref.WeakKeyDictionary[Redis, Redis] = weakref.WeakKeyDictionary()
"""The writer client of each main client (see `Bus.writer`)."""
READ_BACK_PAGE = 50
"""Entries fetched per round trip when reading a stream backwards."""
CLOSE_FLUSH_S = 5.0
"""How long closing a bus waits for Redis to take what its outbox still holds."""


@dataclass(frozen=True)
class Batch:
    """What one read of one stream gave: its messages, the last id read, and whether the
    read was full (more may be waiting)."""

    stream: str
    deliveries: list[Delivery[Any]]
    last: str
    full: bool


class Bus(GroupReading):
    """Publishing and consuming typed messages over Redis Streams.

    What it publishes goes through its outbox (`shared/outbox.py`), so a Redis that is paused
    or restarting loses nothing; `outbox_bytes` caps what it keeps meanwhile."""

    def __init__(self, redis: Redis, settings: Settings, *,
                 outbox_bytes: int = MAX_BYTES) -> None:
        self.redis = redis
        self.settings = settings
        self._groups: set[tuple[str, str]] = set()
        self.outbox = Outbox(self.writer, settings.stream_maxlen, max_bytes=outbox_bytes,
                             retry_max_s=min(2.0, settings.redis_retry_max_s))
        self._max_block_ms = longest_block_ms(redis)

    @classmethod
    async def connect(cls, url: str, settings: Settings) -> Bus:
        return cls(await connect_redis(url, settings), settings)

    def writer(self) -> Redis:
        """The connection writes go through: it waits for a paused Redis (no read timeout).
        Buses that share a client share its writer."""
        writer = _WRITERS.get(self.redis)
        if writer is None:
            writer = _WRITERS[self.redis] = writer_for(self.redis)
        return writer

    async def close(self) -> None:
        """Write what the outbox holds (for a few seconds at most), then close the client and
        its writer."""
        await self.outbox.close(CLOSE_FLUSH_S)
        writer = _WRITERS.pop(self.redis, None)
        if writer is not None:
            await writer.aclose()
        await self.redis.aclose()

    # ---- Publishing ---------------------------------------------------------------------------

    async def publish(
        self,
        topic: Topic[C],
        message: C,
        *,
        channel: str | None = None,
        blobs: Mapping[str, bytes] | None = None,
    ) -> str:
        """Add one message to the topic's stream. Returns its stream id ("" while Redis is
        away: the message waits in the outbox and is written, in order, when it is back)."""
        return (await self.publish_many(topic, [(message, blobs)], channel=channel))[0]

    async def publish_many(
        self,
        topic: Topic[C],
        items: Sequence[tuple[C, Mapping[str, bytes] | None]],
        *,
        channel: str | None = None,
    ) -> list[str]:
        """Add many messages in one round trip. Returns their stream ids in order (empty
        strings while Redis is away). Waits while the outbox is full."""
        stream = topic.stream(channel)
        keep_s = self.settings.media_keep_s if topic.by_age else None
        entries = []
        for message, blobs in items:
            if not isinstance(message, topic.model):
                raise TypeError(f"{stream} carries {topic.model.__name__}, not {message!r}")
            if sorted(blobs or {}) != sorted(topic.parts):
                raise ValueError(f"{stream} carries the binary parts {list(topic.parts)}, "
                                 f"not {sorted(blobs or {})}")
            entries.append((stream, encode(message, blobs), keep_s))
        if not entries:
            return []
        return await self.outbox.put(entries)

    # ---- Reading without a group (dashboards, tests) ------------------------------------------

    async def read(
        self, topic: Topic[C], *, channel: str | None = None, after: str = "0", count: int = 100,
        block_ms: int | None = None,
    ) -> list[Delivery[C]]:
        """Messages after stream id `after`, oldest first. `after="$"` with a block waits
        for new ones."""
        stream = topic.stream(channel)
        reply: Any = await self.redis.xread({stream: after}, count=count,
                                            block=self._block(block_ms))
        return [d for _, entries in reply for d in decode_valid(stream, topic, entries)]

    async def latest(self, topic: Topic[C], *, channel: str | None = None) -> Delivery[C] | None:
        """The newest valid message of a stream, or None when it has none."""
        found = await self.read_back(topic, channel=channel, count=1)
        return found[0] if found else None

    async def read_back(
        self, topic: Topic[C], *, channel: str | None = None, before: str = "+",
        count: int = 100, keep: Callable[[C], bool] | None = None,
    ) -> list[Delivery[C]]:
        """Up to `count` valid messages of a stream, newest first, from id `before` down
        (inclusive), stopping at the first that `keep` turns down. A worker that takes over a
        channel uses it to rebuild what its last owner held open."""
        stream = topic.stream(channel)
        found: list[Delivery[C]] = []
        while len(found) < count:
            entries: Any = await self.redis.xrevrange(stream, max=before, count=READ_BACK_PAGE)
            for delivery in decode_valid(stream, topic, entries):
                if keep is not None and not keep(delivery.message):
                    return found
                found.append(delivery)
                if len(found) >= count:
                    return found
            if len(entries) < READ_BACK_PAGE:
                return found
            before = f"({as_text(entries[-1][0])}"
        return found

    async def read_streams(
        self, streams: Mapping[str, tuple[Topic[Any], str]], *, count: int = 100,
        block_ms: int | None = None,
    ) -> tuple[list[Delivery[Any]], dict[str, str]]:
        """Like `read`, but many streams in one call, so one reader can wait on all of them.

        `streams` maps a stream name to its topic and the id to read after. Returns the messages
        (oldest first within each stream) and, per stream that had entries, the last id read.
        An entry that does not fit its model is logged and skipped; its id still counts as read.
        """
        if not streams:
            return [], {}
        reply: Any = await self._xread(
            {name: after for name, (_, after) in streams.items()}, count=count,
            block=self._block(block_ms))
        found: list[Delivery[Any]] = []
        last: dict[str, str] = {}
        for raw_stream, entries in reply or []:
            stream = as_text(raw_stream)
            topic = streams[stream][0]
            last[stream] = as_text(entries[-1][0])
            found.extend(decode_valid(stream, topic, entries))
        return found, last

    async def read_batches(
        self, streams: Mapping[str, tuple[Topic[Any], str]], *, reader: str, count: int,
        block_ms: int | None = None,
    ) -> list[Batch]:
        """Read many streams after the ids given, without a group, for a reader that keeps
        its own place in each (and so can go back and read again). An entry that is not a
        valid message goes to the dead-letter stream in `reader`'s name; its id still counts
        as read."""
        if not streams:
            return []
        reply: Any = await self._xread(
            {name: after for name, (_, after) in streams.items()}, count=count,
            block=self._block(block_ms))
        batches = []
        for raw_stream, entries in reply or []:
            stream = as_text(raw_stream)
            topic = streams[stream][0]
            found = []
            for entry_id, fields in entries:
                found.extend(await self._decode_or_bury(stream, topic, reader, entry_id, fields,
                                                        1, ack=False))
            batches.append(Batch(stream, found, as_text(entries[-1][0]), len(entries) >= count))
        return batches

    async def publish_together(
        self, items: Sequence[tuple[Topic[Any], Contract, str | None]],
        keys: Mapping[str, str] | None = None,
    ) -> None:
        """Publish messages to several topics and set plain keys, all at once or not at all
        (one MULTI/EXEC): a worker's outputs and its note of how far it got never part.

        It goes after what the outbox holds, through the writer's connection, so a paused
        Redis is waited for (not written twice); a Redis that is down raises, for the caller
        to try again."""
        await self.outbox.drained()
        maxlen = self.settings.stream_maxlen
        writes: list[Write] = []
        for topic, message, channel in items:
            if not isinstance(message, topic.model):
                raise TypeError(f"{topic.name} carries {topic.model.__name__}, "
                                f"not {message!r}")
            writes.append(xadd_write(topic.stream(channel), encode(message, None), maxlen))
        writes += [set_write(key, value) for key, value in (keys or {}).items()]
        writer = self.writer()
        if is_cluster(writer):  # One MULTI per slot, the plain keys' slot last.
            await transactions_by_slot(writer, writes, last=keys or {})
            return
        async with writer.pipeline(transaction=True) as pipe:
            for _, add in writes:
                add(pipe)
            await pipe.execute()

    async def _xread(self, streams: dict[Any, Any], *, count: int,
                     block: int | None = None) -> Any:
        """XREAD over many streams; on a cluster, one read per hash slot."""
        if not is_cluster(self.redis):
            return await self.redis.xread(streams, count=count, block=block)
        return await read_split(self.redis, streams, lambda p, some, b: p.xread(
            dict(some), count=count, block=b), block)
