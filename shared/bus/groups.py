"""The consumer-group half of the bus: workers that share a group share the work.

- `consume` hands each message to a handler and acknowledges it only after the handler
  succeeded and what it published is written.
- Messages a dead worker left behind are taken over (`XAUTOCLAIM`) once they sit idle long enough.
- A message handed out `max_deliveries` times without success, or one that is not valid, goes
  to the dead-letter stream, and the worker goes on with the next one.
- Redis going away (paused, restarting): `consume` logs once, waits, reads again what it was
  handed but had not acknowledged, and goes on; a group that vanished is made again.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import ResponseError

from shared.bus.wire import DATA_FIELD, INVALID, Delivery, decode, decode_valid, encode
from shared.cluster import is_cluster, read_split
from shared.contracts import DeadLetter
from shared.outbox import Outbox
from shared.redis_client import REDIS_DOWN, Outage
from shared.settings import Settings
from shared.streams import DEAD_LETTER_STREAM, Topic
from shared.text import as_text
from shared.timing import sleep_unless

log = logging.getLogger("clip_live.bus")

Handler = Callable[[Delivery[Any]], Awaitable[None]]
Subscriptions = Callable[[], Awaitable[Mapping[str, Topic[Any]]]]
"""Tells the consumer which streams to read right now, and the topic of each."""


def is_nogroup(err: ResponseError) -> bool:
    """True when Redis says the consumer group (or its stream) is not there, or went away
    while we waited on it."""
    text = str(err)
    return text.startswith(("NOGROUP", "UNBLOCKED")) or "no longer exists" in text


class GroupReading:
    """Reading through consumer groups; `shared.bus.Bus` is built on it and sets these."""

    redis: Redis
    settings: Settings
    outbox: Outbox
    _groups: set[tuple[str, str]]
    _max_block_ms: int | None

    def _block(self, block_ms: int | None) -> int | None:
        """A blocking read's block, kept short enough for the socket's timeout."""
        if block_ms is None or self._max_block_ms is None:
            return block_ms
        return min(block_ms, self._max_block_ms)

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
                                 encode(delivery.message, delivery.blobs), delivery.deliveries,
                                 f"{type(err).__name__}: {err}")
            return False
        return True

    async def _decode_or_bury(
        self, stream: str, topic: Topic[Any], group: str, entry_id: Any, fields: Any, count: int,
        ack: bool = True,
    ) -> list[Delivery[Any]]:
        try:
            return [decode(stream, topic, entry_id, fields, count)]
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
        await self.redis.xadd(DEAD_LETTER_STREAM, encode(note, raw),
                              maxlen=self.settings.stream_maxlen)
        if ack:
            await self.redis.xack(stream, group, entry_id)
        log.error("message sent to the dead-letter stream: %s", error[:300],
                  extra={"stream": stream, "id": entry_id, "deliveries": count})

    async def dead_letters(self, count: int = 100) -> list[Delivery[DeadLetter]]:
        """The newest messages in the dead-letter stream, oldest first."""
        entries = await self.redis.xrevrange(DEAD_LETTER_STREAM, count=count)
        topic: Topic[DeadLetter] = Topic("dead-letter", DeadLetter, per_channel=False)
        return list(reversed(decode_valid(DEAD_LETTER_STREAM, topic, entries)))


async def _resolve(
    subscriptions: Subscriptions | Mapping[str, Topic[Any]],
) -> Mapping[str, Topic[Any]]:
    return await subscriptions() if callable(subscriptions) else subscriptions
