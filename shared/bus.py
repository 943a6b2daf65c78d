"""The bus: Redis Streams, and the only place that talks to them.

- `publish` adds a message to a stream and trims the stream (`MAXLEN ~`) so Redis stays small.
- `consume` reads with a consumer group, so workers that share a group share the work: each
  message goes to one of them. A message is acknowledged only after its handler succeeds.
- Messages a dead worker left behind are taken over (`XAUTOCLAIM`) once they sit idle long enough.
- A message handed out `max_deliveries` times without success goes to the dead-letter stream,
  and the worker goes on with the next one.

On the wire a message is one field `data` (the JSON of its contract) plus the raw binary parts
its topic declares (`Topic.parts`). Publishing checks the parts given are those; a message that
arrives without one is not valid, and goes to the dead-letter stream like any other.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from pydantic import ValidationError
from redis.asyncio import Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError

from shared.contracts import Contract, DeadLetter
from shared.settings import Settings
from shared.streams import DEAD_LETTER_STREAM, Topic
from shared.text import as_text
from shared.timing import sleep_unless

C = TypeVar("C", bound=Contract)
log = logging.getLogger("clip_live.bus")

DATA_FIELD = "data"

REDIS_DOWN = (RedisConnectionError, RedisTimeoutError, OSError)
"""Errors that mean Redis cannot be reached right now."""


class RedisUnreachable(Exception):
    """Redis could not be reached in the time allowed."""


class MissingPart(ValueError):
    """A message lacks a binary part its topic declares."""


INVALID = (ValidationError, KeyError, UnicodeDecodeError, MissingPart)
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


def redact_url(url: str) -> str:
    """A Redis URL fit for a log line: any password is replaced by ***."""
    head, sep, tail = url.rpartition("@")
    if not sep:
        return url
    scheme, _, creds = head.partition("://")
    user = creds.split(":", 1)[0]
    return f"{scheme}://{user}:***@{tail}"


async def connect_redis(url: str, settings: Settings) -> Redis:
    """Connect to Redis, trying again with growing waits while it cannot be reached.

    Gives up with `RedisUnreachable` only if `redis_connect_timeout_s` is set and has passed.
    """
    shown = redact_url(url)
    deadline = time.monotonic() + settings.redis_connect_timeout_s
    wait = 0.5
    while True:
        client: Redis = Redis.from_url(url, socket_connect_timeout=5)
        try:
            await client.ping()
            return client
        except REDIS_DOWN as err:
            await client.aclose()
            reason = str(err).replace(url, shown) or type(err).__name__
            if settings.redis_connect_timeout_s and time.monotonic() + wait > deadline:
                raise RedisUnreachable(f"cannot reach Redis at {shown}: {reason}") from None
            log.warning("cannot reach Redis at %s (%s); trying again in %.1f s",
                        shown, reason, wait)
            await asyncio.sleep(wait)
            wait = min(wait * 2, settings.redis_retry_max_s)


class Bus:
    """Publishing and consuming typed messages over Redis Streams."""

    def __init__(self, redis: Redis, settings: Settings) -> None:
        self.redis = redis
        self.settings = settings
        self._groups: set[tuple[str, str]] = set()

    @classmethod
    async def connect(cls, url: str, settings: Settings) -> Bus:
        return cls(await connect_redis(url, settings), settings)

    async def close(self) -> None:
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
        """Add one message to the topic's stream. Returns its stream id."""
        return (await self.publish_many(topic, [(message, blobs)], channel=channel))[0]

    async def publish_many(
        self,
        topic: Topic[C],
        items: Sequence[tuple[C, Mapping[str, bytes] | None]],
        *,
        channel: str | None = None,
    ) -> list[str]:
        """Add many messages in one round trip. Returns their stream ids in order."""
        stream = topic.stream(channel)
        async with self.redis.pipeline(transaction=False) as pipe:
            for message, blobs in items:
                if not isinstance(message, topic.model):
                    raise TypeError(f"{stream} carries {topic.model.__name__}, not {message!r}")
                if sorted(blobs or {}) != sorted(topic.parts):
                    raise ValueError(f"{stream} carries the binary parts {list(topic.parts)}, "
                                     f"not {sorted(blobs or {})}")
                pipe.xadd(stream, _encode(message, blobs), maxlen=self.settings.stream_maxlen)
            ids = await pipe.execute()
        return [as_text(i) for i in ids]

    # ---- Reading without a group (dashboards, tests) ------------------------------------------

    async def read(
        self, topic: Topic[C], *, channel: str | None = None, after: str = "0", count: int = 100,
        block_ms: int | None = None,
    ) -> list[Delivery[C]]:
        """Messages after stream id `after`, oldest first. `after="$"` with a block waits
        for new ones."""
        stream = topic.stream(channel)
        reply: Any = await self.redis.xread({stream: after}, count=count, block=block_ms)
        return [d for _, entries in reply for d in _decode_all(stream, topic, entries)]

    async def latest(self, topic: Topic[C], *, channel: str | None = None) -> Delivery[C] | None:
        """The newest message of a stream, or None when it is empty."""
        stream = topic.stream(channel)
        entries: Any = await self.redis.xrevrange(stream, count=1)
        return _decode_all(stream, topic, entries)[0] if entries else None

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
        reply: Any = await self.redis.xread(
            {name: after for name, (_, after) in streams.items()}, count=count, block=block_ms)
        found: list[Delivery[Any]] = []
        last: dict[str, str] = {}
        for raw_stream, entries in reply or []:
            stream = as_text(raw_stream)
            topic = streams[stream][0]
            for entry_id, fields in entries:
                last[stream] = as_text(entry_id)
                try:
                    found.append(_decode(stream, topic, entry_id, fields, 1))
                except INVALID as err:
                    log.warning("skipping a message that is not a valid %s: %s",
                                topic.model.__name__, err, extra={"stream": stream})
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
        reply: Any = await self.redis.xread(
            {name: after for name, (_, after) in streams.items()}, count=count, block=block_ms)
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
        (one MULTI/EXEC): a worker's outputs and its note of how far it got never part."""
        async with self.redis.pipeline(transaction=True) as pipe:
            for topic, message, channel in items:
                if not isinstance(message, topic.model):
                    raise TypeError(f"{topic.name} carries {topic.model.__name__}, "
                                    f"not {message!r}")
                pipe.xadd(topic.stream(channel), _encode(message, None),
                          maxlen=self.settings.stream_maxlen)
            for key, value in (keys or {}).items():
                pipe.set(key, value)
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

    async def consume(
        self,
        subscriptions: Subscriptions | Mapping[str, Topic[Any]],
        group: str,
        consumer: str,
        handler: Handler,
        stop: asyncio.Event,
    ) -> None:
        """Hand each message of the subscribed streams to `handler`, until `stop` is set."""
        reclaim_every = self.settings.claim_idle_ms / 2000
        last_reclaim = 0.0
        while not stop.is_set():
            streams = await _resolve(subscriptions)
            for stream in streams:
                await self.ensure_group(stream, group)
            if not streams:
                await sleep_unless(stop, self.settings.read_block_ms / 1000)
                continue
            if time.monotonic() - last_reclaim >= reclaim_every:
                last_reclaim = time.monotonic()
                for stream, topic in streams.items():
                    await self._handle_all(await self.reclaim(stream, topic, group, consumer),
                                           group, handler)
            await self._handle_all(await self.read_group(streams, group, consumer), group, handler)

    async def read_group(
        self, streams: Mapping[str, Topic[Any]], group: str, consumer: str
    ) -> list[Delivery[Any]]:
        """New messages for this consumer, up to `read_batch` per stream."""
        reply: Any = await self.redis.xreadgroup(
            group, consumer, {s: ">" for s in streams},
            count=self.settings.read_batch, block=self.settings.read_block_ms,
        )
        found: list[Delivery[Any]] = []
        for raw_stream, entries in reply or []:
            stream = as_text(raw_stream)
            for entry_id, fields in entries:
                found.extend(await self._decode_or_bury(stream, streams[stream], group, entry_id,
                                                        fields, 1))
        return found

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
        self, deliveries: list[Delivery[Any]], group: str, handler: Handler
    ) -> None:
        """Handle a batch, then acknowledge every success in one round trip per stream."""
        done: dict[str, list[str]] = {}
        try:
            for delivery in deliveries:
                if await self._handle(delivery, group, handler):
                    done.setdefault(delivery.stream, []).append(delivery.id)
        finally:
            for stream, ids in done.items():
                await self.redis.xack(stream, group, *ids)

    async def _handle(self, delivery: Delivery[Any], group: str, handler: Handler) -> bool:
        """Run the handler. True when the message is done with and may be acknowledged."""
        try:
            await handler(delivery)
        except asyncio.CancelledError:
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
        note = DeadLetter(stream=stream, id=entry_id, group=group, deliveries=count,
                          error=error[:2000], data=as_text(data))
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
        return list(reversed(_decode_all(DEAD_LETTER_STREAM, topic, entries)))


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
        raise MissingPart(f"missing its binary part {missing[0]!r}")
    return Delivery(stream, as_text(entry_id), message, raw, count)


def _decode_all(stream: str, topic: Topic[C], entries: Any) -> list[Delivery[C]]:
    return [_decode(stream, topic, entry_id, fields, 1) for entry_id, fields in entries]


async def _resolve(
    subscriptions: Subscriptions | Mapping[str, Topic[Any]],
) -> Mapping[str, Topic[Any]]:
    return await subscriptions() if callable(subscriptions) else subscriptions
