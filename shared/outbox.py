"""The outbox: what a bus publishes waits here, in order, until Redis has it.

One task per bus writes the waiting messages, oldest first, many in one round trip. While
Redis is away (paused, restarting) it tries again with growing waits, and publishers go on:
nothing is lost, and nothing is written twice (the writer's connection waits for a paused
Redis instead of giving up and sending again). The outbox holds at most `max_bytes`; a
publisher that would go over waits for room (back-pressure), and that is logged once.

A publish waits for its own write while Redis answers (and gets the stream ids). When Redis
does not answer within `PATIENCE_S`, publishers stop waiting: their messages stay queued, and
the ids they get are empty strings.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from redis.asyncio import Redis

from shared.cancelling import cancel_and_wait
from shared.redis_client import REDIS_DOWN
from shared.text import as_text

log = logging.getLogger("clip_live.bus")

MAX_BYTES = 64 * 1024 * 1024
"""The most message bytes one bus keeps while Redis is away, before publishers wait."""
PATIENCE_S = 0.5
"""A publisher waits this long for its write; after that, Redis counts as away."""
WRITE_MAX_ENTRIES = 500
"""The most messages written in one round trip."""

Entry = tuple[str, dict[Any, Any], float | None]
"""One message: its stream, its fields, and how many seconds of messages its stream keeps
(None: the stream keeps `maxlen` messages)."""


@dataclass
class _Batch:
    entries: list[Entry]
    size: int
    done: asyncio.Future[list[str]] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future())


def entry_size(fields: dict[Any, Any]) -> int:
    """About how many bytes a message holds: its field names and values."""
    return sum(len(k) + len(v) for k, v in fields.items())


class Outbox:
    """Messages waiting for Redis, and the task that writes them."""

    def __init__(self, writer: Callable[[], Redis], maxlen: int, *, max_bytes: int = MAX_BYTES,
                 retry_max_s: float = 2.0) -> None:
        self._writer = writer
        self.maxlen = maxlen
        self.max_bytes = max_bytes
        self.retry_max_s = retry_max_s
        self._queue: deque[_Batch] = deque()
        self.bytes = 0
        self.peak_bytes = 0
        self._room = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._writing_since: float | None = None
        self._away_since: float | None = None
        self._kept = 0  # messages that waited while Redis was away
        self._full_said = False

    @property
    def waiting(self) -> int:
        """How many messages wait to be written."""
        return sum(len(b.entries) for b in self._queue)

    @property
    def away(self) -> bool:
        """True while Redis does not take our writes (it failed them, or is slow to answer)."""
        if self._away_since is None and self._writing_since is not None \
                and time.monotonic() - self._writing_since > PATIENCE_S:
            self._away_since = self._writing_since
            log.warning("Redis does not answer; keeping what is published until it does")
        return self._away_since is not None

    async def put(self, entries: Sequence[Entry]) -> list[str]:
        """Queue messages to be written in order. Returns their stream ids once written, or
        empty strings when Redis is away (they stay queued). Waits while the outbox is full."""
        size = sum(entry_size(fields) for _, fields, _ in entries)
        while self._queue and self.bytes + size > self.max_bytes:
            if not self._full_said:
                self._full_said = True
                log.warning("the outbox is full (%d bytes wait for Redis): publishing waits "
                            "for room", self.bytes)
            self._room.clear()
            await self._room.wait()
        batch = _Batch(list(entries), size)
        batch.done.add_done_callback(_quiet)
        self._queue.append(batch)
        self.bytes += size
        self.peak_bytes = max(self.peak_bytes, self.bytes)
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._drain(), name="outbox")
        if not self.away:
            await asyncio.wait({batch.done}, timeout=PATIENCE_S)
        if batch.done.done():
            return batch.done.result()
        return [""] * len(entries)

    async def drained(self, stop: asyncio.Event | None = None) -> bool:
        """Wait until everything queued so far is written (or refused by Redis). False when
        `stop` was set first."""
        if not self._queue:
            return True
        last = self._queue[-1].done  # Written in order: when the last is done, all are.
        waits: set[asyncio.Future[Any]] = {last}
        stopping = asyncio.ensure_future(stop.wait()) if stop else None
        if stopping:
            waits.add(stopping)
        try:
            await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
        finally:
            if stopping:
                stopping.cancel()
        return last.done()

    async def close(self, timeout_s: float) -> None:
        """Write what waits, for up to `timeout_s`; what is still left then is lost, and
        that is logged."""
        if self._queue:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(timeout_s):
                    await self.drained()
        if self._queue:
            log.error("Redis is away: %d message(s) (%d bytes) could not be written before "
                      "stopping, and are lost", self.waiting, self.bytes)
        if self._task:
            await cancel_and_wait(self._task)

    async def _drain(self) -> None:
        """Write the queue, oldest first, until it is empty."""
        wait = 0.1
        while self._queue:
            batches = self._next_batches()
            self._writing_since = time.monotonic()
            try:
                replies = await self._write([e for b in batches for e in b.entries])
            except REDIS_DOWN as err:
                self._went_away(err)
                await asyncio.sleep(wait)
                wait = min(wait * 2, self.retry_max_s)
                continue
            finally:
                self._writing_since = None
            wait = 0.1
            self._done(batches, replies)
        self._full_said = False

    def _next_batches(self) -> list[_Batch]:
        taken: list[_Batch] = []
        count = 0
        for batch in self._queue:
            if taken and count + len(batch.entries) > WRITE_MAX_ENTRIES:
                break
            taken.append(batch)
            count += len(batch.entries)
        return taken

    async def _write(self, entries: list[Entry]) -> list[Any]:
        async with self._writer().pipeline(transaction=False) as pipe:
            now_ms = time.time() * 1000
            for stream, fields, keep_s in entries:
                if keep_s is None:
                    pipe.xadd(stream, fields, maxlen=self.maxlen)
                else:  # Stream ids start with the time they were written, in milliseconds.
                    pipe.xadd(stream, fields, minid=str(int(now_ms - keep_s * 1000)))
            return list(await pipe.execute(raise_on_error=False))

    def _went_away(self, err: BaseException) -> None:
        if self._away_since is None:
            self._away_since = time.monotonic()
            log.warning("Redis is away (%s); keeping what is published until it is back",
                        str(err) or type(err).__name__)

    def _done(self, batches: list[_Batch], replies: list[Any]) -> None:
        """Hand each batch its ids, or the error Redis gave for it."""
        at = 0
        for batch in batches:
            self._queue.popleft()
            self.bytes -= batch.size
            mine = replies[at:at + len(batch.entries)]
            at += len(batch.entries)
            errors = [r for r in mine if isinstance(r, Exception)]
            if errors:
                log.error("Redis refused %d of %d message(s) to %s: %s", len(errors), len(mine),
                          batch.entries[0][0], errors[0])
                batch.done.set_exception(errors[0])
            else:
                batch.done.set_result([as_text(r) for r in mine])
        self._room.set()
        if self._away_since is not None:
            self._kept += sum(len(b.entries) for b in batches)
            if not self._queue:
                log.info("Redis is back after %.1f s: wrote the %d message(s) kept meanwhile",
                         time.monotonic() - self._away_since, self._kept)
                self._away_since, self._kept = None, 0


def _quiet(future: asyncio.Future[list[str]]) -> None:
    """Mark a batch's error as seen: it was logged, and its publisher may be gone."""
    if not future.cancelled():
        future.exception()
