"""Redis Cluster: what the bus does differently when Redis is a cluster of shards.

A cluster keeps each key on the shard of its hash slot, and one command or one MULTI may
only touch keys of one slot. Our names carry hash tags (`shared/streams.py`), so all the keys
of one channel share a slot; keys of different channels, and the global streams, do not.
So on a cluster:

- a read of many streams (XREAD, XREADGROUP) is split into one read per slot, all sent in one
  pipeline (one round trip per shard). A blocking read over several slots cannot block on
  all of them at once: it reads them all without blocking, and looks again after a short
  wait (`POLL_FIRST_S`, doubling up to `POLL_MAX_S`) until something comes or the block time
  is over. A read of one slot blocks as usual.
- writes that must go together (`Bus.publish_together`) are one MULTI per slot. They can no
  longer all happen or fail as one: the slots whose writes hold no plain key (outputs such as
  a clip request) go first, and the slot with the plain keys (the worker's note of how far it
  got) goes last. A crash in between can make a worker write an output twice, never lose it.

Plain Redis never comes here: the bus checks `is_cluster` and keeps its single calls.
"""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from redis.asyncio.cluster import ClusterNode, RedisCluster
from redis.asyncio.connection import SSLConnection
from redis.crc import key_slot

from shared.text import as_text

POLL_FIRST_S = 0.01
"""A blocking read over several slots looks again after this long at first..."""
POLL_MAX_S = 0.1
"""...and then after waits that double up to this."""

Reply = list[Any]
"""What XREAD or XREADGROUP answers: a list of [stream, entries] pairs."""
ReadOne = Callable[[Any, Mapping[str, str], int | None], None]
"""Adds one read of some streams (all in one slot), with a block or none, to a pipeline."""


def is_cluster(redis: object) -> bool:
    """True when the client talks to a Redis Cluster."""
    return isinstance(redis, RedisCluster)


def slot_of(name: str) -> int:
    """The hash slot of a key (only its hash tag counts when it has one). Pure."""
    return int(key_slot(name.encode()))


def by_slot(names: Iterable[str]) -> list[list[str]]:
    """The names grouped by hash slot, groups in the order their first name came. Pure."""
    groups: dict[int, list[str]] = {}
    for name in names:
        groups.setdefault(slot_of(name), []).append(name)
    return list(groups.values())


def write_order(keys: Sequence[str], last: Iterable[str]) -> list[list[int]]:
    """The indexes of `keys` grouped by slot, one group per MULTI, in the order to write them:
    groups that hold none of the `last` keys first, those that do at the end. Pure."""
    groups: dict[int, list[int]] = {}
    for i, key in enumerate(keys):
        groups.setdefault(slot_of(key), []).append(i)
    late = {slot_of(key) for key in last}
    return ([g for s, g in groups.items() if s not in late]
            + [g for s, g in groups.items() if s in late])


async def read_split(
    redis: Any, streams: Mapping[str, str], add_read: ReadOne, block_ms: int | None,
) -> Reply:
    """Read `streams` (name -> id to read after) one slot at a time, as XREAD or XREADGROUP
    would over all of them: `add_read(pipe, some_streams, block_ms)` adds one read to a
    pipeline.

    With a block (`block_ms`; 0 waits for ever, as in Redis), waits until one stream has
    something or the block time is over (see the module's note)."""
    groups = [{name: streams[name] for name in group} for group in by_slot(streams)]
    if len(groups) == 1:
        return await _read_once(redis, groups, add_read, block_ms)
    if block_ms is not None and "$" in streams.values():
        # Each look would take `$` afresh and miss what came between two looks: pin it down.
        last = await _last_ids(redis, [n for n, after in streams.items() if after == "$"])
        groups = [{n: last.get(n, after) for n, after in group.items()} for group in groups]
    deadline = None if not block_ms else time.monotonic() + block_ms / 1000
    wait = POLL_FIRST_S
    while True:
        found = await _read_once(redis, groups, add_read, None)
        if found or block_ms is None:
            return found
        left = None if deadline is None else deadline - time.monotonic()
        if left is not None and left <= 0:
            return found
        await asyncio.sleep(wait if left is None else min(wait, left))
        wait = min(wait * 2, POLL_MAX_S)


async def _last_ids(redis: Any, names: list[str]) -> dict[str, str]:
    """The id of the last entry ever added to each stream ("0-0" for one not made yet)."""
    async with redis.pipeline(transaction=False) as pipe:
        for name in names:
            pipe.xinfo_stream(name)
        replies = await pipe.execute(raise_on_error=False)
    return {name: "0-0" if isinstance(info, Exception) else as_text(info["last-generated-id"])
            for name, info in zip(names, replies, strict=True)}


async def _read_once(
    redis: Any, groups: list[dict[str, str]], add_read: ReadOne, block_ms: int | None,
) -> Reply:
    """One read per slot group, all in one pipeline; their answers joined."""
    async with redis.pipeline(transaction=False) as pipe:
        for group in groups:
            add_read(pipe, group, block_ms)
        replies = await pipe.execute()
    return [pair for reply in replies for pair in (reply or [])]


Write = tuple[str, Callable[[Any], Any]]
"""One write: its key, and what adds its command to a pipeline."""


def xadd_write(stream: str, fields: dict[Any, Any], maxlen: int) -> Write:
    """An XADD (trimmed to about `maxlen` entries) as a `Write`."""
    return stream, lambda pipe: pipe.xadd(stream, fields, maxlen=maxlen)


def set_write(key: str, value: str) -> Write:
    """A SET as a `Write`."""
    return key, lambda pipe: pipe.set(key, value)


async def transactions_by_slot(redis: Any, writes: Sequence[Write], last: Iterable[str]) -> None:
    """Run `writes` (a key, and what adds its command to a pipeline) as one MULTI per slot,
    in `write_order`: the slots of the `last` keys at the end."""
    for group in write_order([key for key, _ in writes], last):
        async with redis.pipeline(transaction=True) as pipe:
            for i in group:
                writes[i][1](pipe)
            await pipe.execute()


def cluster_like(redis: Any, **options: Any) -> RedisCluster:
    """A new client to the same cluster as `redis` (same nodes, login and TLS), with
    `options` (timeouts, retries) of its own."""
    kwargs = dict(redis.connection_kwargs)
    known = inspect.signature(RedisCluster.__init__).parameters
    keep = {k: v for k, v in kwargs.items()
            if k in known and not k.startswith("socket_") and k not in ("retry", "max_connections")}
    if kwargs.get("connection_class") is SSLConnection:
        keep["ssl"] = True
    nodes = [ClusterNode(node.host, node.port) for node in redis.get_nodes()]
    keep.update(options)
    return RedisCluster(startup_nodes=nodes, **keep)
