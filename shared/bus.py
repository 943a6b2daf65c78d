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
"""

from __future__ import annotations

import asyncio
import logging
import time
import weakref
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from pydantic import ValidationError
from redis.asyncio import Redis
from redis.exceptions import ResponseError

from shared.cluster import (
    Write,
    is_cluster,
    read_split,
    set_write,
    transactions_by_slot,
    xadd_write,
)
from shared.contracts import Contract, DeadLetter
from shared.outbox import MAX_BYTES, Outbox
from shared.redis_client import REDIS_DOWN as REDIS_DOWN
from shared.redis_client import Outage, connect_redis, longest_block_ms, writer_for
from shared.redis_client import RedisUnreachable as RedisUnreachable
from shared.redis_client import redact_url as redact_url
from shared.settings import Settings
from shared.streams import DEAD_LETTER_STREAM, Topic
from shared.text import as_text
from shared.timing import sleep_unless

C = TypeVar("C", bound=Contract)
log = logging.getLogger("clip_live.bus")

DATA_FIELD = "data"
_WRITERS: weakref.WeakKeyDictionary[Redis, Redis] = weakref.WeakKeyDictionary()
"""The writer client of each main client (see `Bus.writer`)."""
READ_BACK_PAGE = 50
"""Entries fetched per round trip when reading a stream backwards."""
CLOSE_FLUSH_S = 5.0
"""How long closing a bus waits for Redis to take what its outbox still holds."""


class BadPart(ValueError):
    """A message lacks a binary part its topic declares, or the part does not fit the message."""


INVALID = (ValidationError, KeyError, UnicodeDecodeError, BadPart)
"""Errors that mean a stream entry is not a valid message of its topic."""


@dataclass(frozen=True)
class Delivery(Generic[C]):
    """One message handed to a worker."""

    stream: str
    id: str
    message: C
    blobs: dict[str, bytes] = field(default_factory=dict)
    deliveries: int = 1


@dataclass(frozen=True)
class Batch:
    """What one read of one stream gave: its messages, the last id read, and whether the
    read was full (more may be waiting)."""

    stream: str
    deliveries: list[Delivery[Any]]
    last: str
    full: bool


Handler = Callable[[Delivery[Any]], Awaitable[None]]
Subscriptions = Callable[[], Awaitable[Mapping[str, Topic[Any]]]]
"""Tells the consumer which streams to read right now, and the topic of each."""


def is_nogroup(err: ResponseError) -> bool:
    """True when Redis says the consumer group (or its stream) is not there, or went away
    while we waited on it."""
    text = str(err)
    return text.startswith(("NOGROUP", "UNBLOCKED")) or "no longer exists" in text


class Bus:
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

    def _block(self, block_ms: int | None) -> int | None:
        """A blocking read's block, kept short enough for the socket's timeout."""
        if block_ms is None or self._max_block_ms is None:
            return block_ms
        return min(block_ms, self._max_block_ms)

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
            entries.append((stream, _encode(message, blobs), keep_s))
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
        return [d for _, entries in reply for d in _decode_valid(stream, topic, entries)]

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
            for delivery in _decode_valid(stream, topic, entries):
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
            found.extend(_decode_valid(stream, topic, entries))
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
            writes.append(xadd_write(topic.stream(channel), _encode(message, None), maxlen))
        writes += [set_write(key, value) for key, value in (keys or {}).items()]
        writer = self.writer()
        if is_cluster(writer):  # One MULTI per slot, the plain keys' slot last.
            await transactions_by_slot(writer, writes, last=keys or {})
            return
        async with writer.pipeline(transaction=True) as pipe:
            for _, add in writes:
                add(pipe)
            await pipe.execute()

    # ---- Consumer groups ----------------------------------------------------------------------

    async def ensure_group(self, stream: str, group: str) -> None:
        """Create the consumer group (and the stream) if it does not exist yet."""
        if (stream, group) in self._groups:
            return
        try:
            await self.redis.xgroup_create(stream, group, id="0", mkstream=True)
        except ResponseError as err:
            if "BUSYGROUP" not in str(err):
                raise
        self._groups.add((stream, group))

    async def group_position(self, stream: str, group: str) -> str | None:
        """The id of the last entry handed to `group` on `stream`, or None when the stream
        has no such group (nobody read it before)."""
        try:
            groups: Any = await self.redis.xinfo_groups(stream)
        except ResponseError:  # no such stream
            return None
        for found in groups:
            if as_text(found["name"]) == group:
                return as_text(found["last-delivered-id"])
        return None

    def forget_group(self, group: str) -> None:
        """Redis lost the group (it restarted without its data, or was emptied): the next
        `ensure_group` makes it again."""
        self._groups = {g for g in self._groups if g[1] != group}

    async def consume(
        self,
        subscriptions: Subscriptions | Mapping[str, Topic[Any]],
        group: str,
        consumer: str,
        handler: Handler,
        stop: asyncio.Event,
    ) -> None:
        """Hand each message of the subscribed streams to `handler`, until `stop` is set.

        Rides out Redis being away (paused, restarting: it logs once, waits, and goes on) and
        a group that vanished (it is made again). After Redis was away it first reads again
        what was handed to this consumer but not acknowledged."""
        outage = Outage(f"reading for group {group}", min(2.0, self.settings.redis_retry_max_s))
        reclaim_every = self.settings.claim_idle_ms / 2000
        last_reclaim = 0.0
        mine_first = False
        while not stop.is_set():
            try:
                streams = await _resolve(subscriptions)
                for stream in streams:
                    await self.ensure_group(stream, group)
                if not streams:
                    outage.over()
                    await sleep_unless(stop, self.settings.read_block_ms / 1000)
                    continue
                if mine_first:
                    await self._handle_all(await self.read_mine(streams, group, consumer),
                                           group, handler, stop)
                    mine_first = False
                if time.monotonic() - last_reclaim >= reclaim_every:
                    last_reclaim = time.monotonic()
                    for stream, topic in streams.items():
                        await self._handle_all(await self.reclaim(stream, topic, group, consumer),
                                               group, handler, stop)
                found = await self.read_group(streams, group, consumer)
                outage.over()
                await self._handle_all(found, group, handler, stop)
            except REDIS_DOWN as err:
                mine_first = True
                await outage.wait(err, stop)
            except ResponseError as err:
                if not is_nogroup(err):
                    raise
                log.warning("consumer group %s is gone (Redis lost its data?); making it again",
                            group)
                self.forget_group(group)
                await sleep_unless(stop, 0.1)

    async def read_group(
        self, streams: Mapping[str, Topic[Any]], group: str, consumer: str
    ) -> list[Delivery[Any]]:
        """New messages for this consumer, up to `read_batch` per stream."""
        reply: Any = await self._xreadgroup(
            group, consumer, {s: ">" for s in streams},
            count=self.settings.read_batch, block=self._block(self.settings.read_block_ms),
        )
        found: list[Delivery[Any]] = []
        for raw_stream, entries in reply or []:
            stream = as_text(raw_stream)
            for entry_id, fields in entries:
                found.extend(await self._decode_or_bury(stream, streams[stream], group, entry_id,
                                                        fields, 1))
        return found

    async def read_mine(
        self, streams: Mapping[str, Topic[Any]], group: str, consumer: str
    ) -> list[Delivery[Any]]:
        """Messages already handed to this consumer and not acknowledged (a read whose answer
        was lost while Redis was away), up to `read_batch` per stream."""
        reply: Any = await self._xreadgroup(
            group, consumer, {s: "0" for s in streams}, count=self.settings.read_batch)
        found: list[Delivery[Any]] = []
        for raw_stream, entries in reply or []:
            stream = as_text(raw_stream)
            live = [(i, f) for i, f in entries if f]  # trimmed ones come back empty
            counts = await self._delivery_counts(stream, group, [as_text(i) for i, _ in live])
            for entry_id, fields in live:
                found.extend(await self._decode_or_bury(
                    stream, streams[stream], group, entry_id, fields,
                    counts.get(as_text(entry_id), 1)))
        if found:
            log.info("reading again %d message(s) handed to us before Redis went away",
                     len(found))
        return found

    async def _xread(self, streams: dict[Any, Any], *, count: int,
                     block: int | None = None) -> Any:
        """XREAD over many streams; on a cluster, one read per hash slot."""
        if not is_cluster(self.redis):
            return await self.redis.xread(streams, count=count, block=block)
        return await read_split(self.redis, streams, lambda p, some, b: p.xread(
            dict(some), count=count, block=b), block)

    async def _xreadgroup(self, group: str, consumer: str, streams: dict[Any, Any], *,
                          count: int, block: int | None = None) -> Any:
        """XREADGROUP over many streams; on a cluster, one read per hash slot."""
        if not is_cluster(self.redis):
            return await self.redis.xreadgroup(group, consumer, streams, count=count,
                                               block=block)
        return await read_split(self.redis, streams, lambda p, some, b: p.xreadgroup(
            group, consumer, dict(some), count=count, block=b), block)

    async def ack(self, delivery: Delivery[Any], group: str) -> None:
        await self.redis.xack(delivery.stream, group, delivery.id)

    async def touch(self, delivery: Delivery[Any], group: str, consumer: str) -> bool:
        """Tell Redis we are still working on a message, so nobody takes it over as left behind.

        Claims it again for ourselves, which resets its idle time and is not counted as a new
        delivery. False when the message is no longer ours (another worker took it over).
        """
        mine = await self.redis.xpending_range(delivery.stream, group, min=delivery.id,
                                               max=delivery.id, count=1, consumername=consumer)
        if not mine:
            return False
        await self.redis.xclaim(delivery.stream, group, consumer, min_idle_time=0,
                                message_ids=[delivery.id], justid=True)
        return True

    async def reclaim(
        self, stream: str, topic: Topic[Any], group: str, consumer: str
    ) -> list[Delivery[Any]]:
        """Take over messages another consumer left unacknowledged for `claim_idle_ms`.

        Those handed out more than `max_deliveries` times go to the dead-letter stream instead.
        """
        start, claimed = "0-0", list[Any]()
        while True:
            reply: Any = await self.redis.xautoclaim(
                stream, group, consumer, self.settings.claim_idle_ms, start_id=start,
                count=self.settings.read_batch,
            )
            start = as_text(reply[0])
            claimed.extend(e for e in reply[1] if e[1] is not None)
            if start == "0-0" or len(claimed) >= self.settings.read_batch:
                break
        if not claimed:
            return []
        counts = await self._delivery_counts(stream, group, [as_text(i) for i, _ in claimed])
        found: list[Delivery[Any]] = []
        for entry_id, fields in claimed:
            count = counts.get(as_text(entry_id), 1)
            if count > self.settings.max_deliveries:
                await self._bury(stream, group, as_text(entry_id), fields, count,
                                 "handed out too many times without success")
                continue
            found.extend(await self._decode_or_bury(stream, topic, group, entry_id, fields, count))
        if found:
            log.info("took over %d pending message(s)", len(found), extra={"stream": stream})
        return found

    async def _delivery_counts(self, stream: str, group: str, ids: list[str]) -> dict[str, int]:
        async with self.redis.pipeline(transaction=False) as pipe:
            for entry_id in ids:
                pipe.xpending_range(stream, group, min=entry_id, max=entry_id, count=1)
            replies = await pipe.execute()
        return {
            as_text(row["message_id"]): int(row["times_delivered"])
            for rows in replies for row in rows
        }

    async def _handle_all(
        self, deliveries: list[Delivery[Any]], group: str, handler: Handler,
        stop: asyncio.Event | None = None,
    ) -> None:
        """Handle a batch, then acknowledge every success in one round trip per stream, once
        what the handlers published is written (so an output is never lost while its input
        counts as done)."""
        done: dict[str, list[str]] = {}
        try:
            for delivery in deliveries:
                if await self._handle(delivery, group, handler):
                    done.setdefault(delivery.stream, []).append(delivery.id)
        finally:
            if done and await self.outbox.drained(stop):
                for stream, ids in done.items():
                    await self.redis.xack(stream, group, *ids)

    async def _handle(self, delivery: Delivery[Any], group: str, handler: Handler) -> bool:
        """Run the handler. True when the message is done with and may be acknowledged.
        Redis being away is not the message's fault: that goes up, and the message stays
        pending, to be handled again."""
        try:
            await handler(delivery)
        except asyncio.CancelledError:
            raise
        except REDIS_DOWN:
            raise
        except Exception as err:
            log.exception("handler failed on %s %s (try %d of %d)", delivery.stream, delivery.id,
                          delivery.deliveries, self.settings.max_deliveries)
            if delivery.deliveries >= self.settings.max_deliveries:
                await self._bury(delivery.stream, group, delivery.id,
                                 _encode(delivery.message, delivery.blobs), delivery.deliveries,
                                 f"{type(err).__name__}: {err}")
            return False
        return True

    async def _decode_or_bury(
        self, stream: str, topic: Topic[Any], group: str, entry_id: Any, fields: Any, count: int,
        ack: bool = True,
    ) -> list[Delivery[Any]]:
        try:
            return [_decode(stream, topic, entry_id, fields, count)]
        except INVALID as err:
            await self._bury(stream, group, as_text(entry_id), fields, count,
                             f"not a valid {topic.model.__name__}: {err}", ack=ack)
            return []

    async def _bury(
        self, stream: str, group: str, entry_id: str, fields: Mapping[Any, Any], count: int,
        error: str, ack: bool = True,
    ) -> None:
        """Move a message to the dead-letter stream and acknowledge it (when read through a
        group), so work goes on."""
        raw = {as_text(k): v for k, v in fields.items()}
        data = raw.pop(DATA_FIELD, b"")
        text = data.decode(errors="backslashreplace") if isinstance(data, bytes) else str(data)
        note = DeadLetter(stream=stream, id=entry_id, group=group, deliveries=count,
                          error=error[:2000], data=text)
        await self.redis.xadd(DEAD_LETTER_STREAM, _encode(note, raw),
                              maxlen=self.settings.stream_maxlen)
        if ack:
            await self.redis.xack(stream, group, entry_id)
        log.error("message sent to the dead-letter stream: %s", error[:300],
                  extra={"stream": stream, "id": entry_id, "deliveries": count})

    async def dead_letters(self, count: int = 100) -> list[Delivery[DeadLetter]]:
        """The newest messages in the dead-letter stream, oldest first."""
        entries = await self.redis.xrevrange(DEAD_LETTER_STREAM, count=count)
        topic: Topic[DeadLetter] = Topic("dead-letter", DeadLetter, per_channel=False)
        return list(reversed(_decode_valid(DEAD_LETTER_STREAM, topic, entries)))


# ---- Encoding ---------------------------------------------------------------------------------


def _encode(message: Contract, blobs: Mapping[str, bytes] | None) -> dict[Any, Any]:
    fields: dict[Any, Any] = {DATA_FIELD: message.model_dump_json()}
    for name, blob in (blobs or {}).items():
        if name == DATA_FIELD:
            raise ValueError(f"a binary part may not be called {DATA_FIELD!r}")
        fields[name] = blob
    return fields


def _decode(stream: str, topic: Topic[C], entry_id: Any, fields: Any, count: int) -> Delivery[C]:
    raw = {as_text(k): v for k, v in fields.items()}
    message = topic.model.model_validate_json(raw.pop(DATA_FIELD))
    missing = [part for part in topic.parts if part not in raw]
    if missing:
        raise BadPart(f"missing its binary part {missing[0]!r}")
    problem = topic.check_parts(message, raw) if topic.check_parts else None
    if problem:
        raise BadPart(problem)
    return Delivery(stream, as_text(entry_id), message, raw, count)


def _decode_valid(stream: str, topic: Topic[C], entries: Any) -> list[Delivery[C]]:
    """The entries that are valid messages of `topic`; the others are logged and left out
    (a plain read has no group to bury them for)."""
    found = []
    for entry_id, fields in entries:
        try:
            found.append(_decode(stream, topic, entry_id, fields, 1))
        except INVALID as err:
            log.warning("skipping a message that is not a valid %s: %s",
                        topic.model.__name__, err, extra={"stream": stream, "id": entry_id})
    return found


async def _resolve(
    subscriptions: Subscriptions | Mapping[str, Topic[Any]],
) -> Mapping[str, Topic[Any]]:
    return await subscriptions() if callable(subscriptions) else subscriptions
