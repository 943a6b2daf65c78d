"""Channel leases: how stateful workers agree on who owns a channel.

A lease is a Redis key holding the owner's name, with a time to live. The owner renews it often.
If the owner dies, the key runs out and another replica takes the channel over. An owner whose
lease ran out while nobody else took it (Redis was paused, or restarted without its data) takes
it back and goes on.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
from collections.abc import Awaitable, Callable, Coroutine, Iterable, Mapping
from typing import Any

from redis.asyncio import Redis

from shared.cancelling import cancel_and_wait
from shared.redis_client import REDIS_DOWN, Outage
from shared.streams import lease_key
from shared.timing import sleep_unless

log = logging.getLogger("clip_live.leases")

# Renew or free the lease only if we still own it (a plain SET could steal another's lease).
_RENEW = "if redis.call('get', KEYS[1]) == ARGV[1] then " \
         "return redis.call('pexpire', KEYS[1], ARGV[2]) else return 0 end"
# The same, but a key that ran out (nobody holds it) is taken back.
_RENEW_OR_RETAKE = "local v = redis.call('get', KEYS[1]) " \
                   "if v == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) end " \
                   "if not v then redis.call('set', KEYS[1], ARGV[1], 'px', ARGV[2]) " \
                   "return 1 end return 0"
_RELEASE = "if redis.call('get', KEYS[1]) == ARGV[1] then " \
           "return redis.call('del', KEYS[1]) else return 0 end"


class KeyLease:
    """One Redis key that names its holder and runs out unless the holder renews it."""

    def __init__(self, redis: Redis, key: str, holder: str, ttl_ms: int,
                 retake: bool = False) -> None:
        self.redis = redis
        self.key = key
        self.holder = holder
        self.ttl_ms = ttl_ms
        self.retake = retake
        """Renewing a key that ran out (nobody holds it) takes it again."""

    async def take(self) -> bool:
        """Take the key if nobody holds it. True if we took it."""
        return bool(await self.redis.set(self.key, self.holder, nx=True, px=self.ttl_ms))

    async def renew(self) -> bool:
        """Push the end further out. False if we no longer hold it."""
        script = _RENEW_OR_RETAKE if self.retake else _RENEW
        return bool(await self.redis.eval(script, 1, self.key, self.holder, self.ttl_ms))

    async def release(self) -> None:
        """Give it back, only if it is still ours."""
        await self.redis.eval(_RELEASE, 1, self.key, self.holder)


class ChannelLeases:
    """Take, keep and give back channel leases for one worker instance."""

    def __init__(self, redis: Redis, service: str, instance: str, ttl_s: float) -> None:
        self.redis = redis
        self.service = service
        self.instance = instance
        self.ttl_ms = int(ttl_s * 1000)

    def _lease(self, channel: str) -> KeyLease:
        return KeyLease(self.redis, lease_key(self.service, channel), self.instance, self.ttl_ms,
                        retake=True)

    async def acquire(self, channel: str) -> bool:
        """Take the lease if nobody holds it. True if we hold it now."""
        lease = self._lease(channel)
        return await lease.take() or await lease.renew()

    async def renew(self, channel: str) -> bool:
        """Push our lease's end further out (taking it back if it ran out and nobody took
        it). False if another holds it now."""
        return await self._lease(channel).renew()

    async def release(self, channel: str) -> None:
        await self._lease(channel).release()

    async def owner(self, channel: str) -> str | None:
        value: Any = await self.redis.get(lease_key(self.service, channel))
        return value.decode() if value else None


RECANCEL_S = 8.0
"""A channel task gets this long to end after its cancel (it may be handing over media)."""

ChannelRunner = Callable[[str], Coroutine[Any, Any, None]]
Wanted = Callable[[], Awaitable[Iterable[str] | Mapping[str, bool]]]
"""Which channels to own: a list of names, or every known channel and whether it is wanted
(then a channel we run that is not known at all is kept: the list lost it, not stopped it)."""


class FairShare:
    """How many channels one owner takes while others are there to take them.

    With `owners` live copies of a worker and `n` channels, each takes at most ceil(n /
    owners), so the channels spread over the machines. A channel nobody took for a whole
    lease time (another copy is stuck, or turns it down) is taken all the same, so no channel
    is ever left without an owner."""

    def __init__(self, owners: Callable[[], Awaitable[int]] | None, patience_s: float,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.owners = owners
        self.patience_s = patience_s
        self.clock = clock
        self.free_since: dict[str, float] = {}

    async def cap(self, wanted: int) -> int:
        """The most channels we should own now."""
        if self.owners is None:
            return wanted
        return math.ceil(wanted / max(1, await self.owners()))

    def may_take(self, channel: str, owned: int, cap: int) -> bool:
        """True when we may try to take a free `channel` while owning `owned`."""
        now = self.clock()
        since = self.free_since.setdefault(channel, now)
        return owned < cap or now - since >= self.patience_s

    def taken(self, channel: str) -> None:
        """The channel has an owner now (us or another)."""
        self.free_since.pop(channel, None)


async def own_channels(
    leases: ChannelLeases,
    wanted: Wanted,
    run_channel: ChannelRunner,
    stop: asyncio.Event,
    owners: Callable[[], Awaitable[int]] | None = None,
) -> None:
    """Own wanted channels, and run `run_channel(channel)` for each we own. `owners` counts
    the live copies of this worker: each then takes its fair share (see `FairShare`); without
    it we take all we can.

    A channel's task is cancelled when we lose its lease or the channel is no longer wanted.
    Runs until `stop` is set, then gives every lease back.
    """
    tasks: dict[str, asyncio.Task[None]] = {}
    period = leases.ttl_ms / 3000
    outage = Outage(f"tending the {leases.service} channel leases", max_wait_s=period)
    lost: set[str] = set()
    share = FairShare(owners, patience_s=leases.ttl_ms / 1000)
    try:
        while not stop.is_set():
            try:
                await _tend(leases, _wanted_now(await wanted(), tasks, lost), run_channel, tasks,
                            share)
                outage.over()
            except REDIS_DOWN as err:
                await outage.wait(err, stop)
                continue
            await sleep_unless(stop, period)
    finally:
        # Stop them all at once: each may take a few seconds to hand over its last media.
        await asyncio.gather(*(_drop(leases, channel, tasks) for channel in list(tasks)))


def _wanted_now(
    choice: Iterable[str] | Mapping[str, bool], tasks: dict[str, asyncio.Task[None]],
    lost: set[str],
) -> set[str]:
    """The channels to run now. With a mapping, a channel we run that the list lost altogether
    is kept (said once, in `lost`, until the list has it again)."""
    if not isinstance(choice, Mapping):
        return set(choice)
    unknown = {c for c in tasks if c not in choice}
    if unknown - lost:
        log.warning("the channel list lost %s (Redis restarted without its data?); still "
                    "running it", ", ".join(sorted(unknown - lost)))
    lost.intersection_update(unknown)
    lost.update(unknown)
    return {c for c, yes in choice.items() if yes} | unknown


async def _tend(
    leases: ChannelLeases, wanted: set[str], run_channel: ChannelRunner,
    tasks: dict[str, asyncio.Task[None]], share: FairShare,
) -> None:
    for channel, task in list(tasks.items()):
        if channel not in wanted or task.done():
            await _drop(leases, channel, tasks)
        elif not await leases.renew(channel):
            log.warning("lost the lease; another worker owns it now", extra={"channel": channel})
            await _drop(leases, channel, tasks, release=False)
    free = []
    for channel in sorted(wanted - set(tasks)):
        if await leases.owner(channel) is None:
            free.append(channel)
        else:
            share.taken(channel)
    if not free:
        return  # nothing to take: no need to count the copies
    cap = await share.cap(len(wanted))
    for channel in free:
        if not share.may_take(channel, len(tasks), cap):
            continue
        if await leases.acquire(channel):
            share.taken(channel)
            log.info("took the channel", extra={"channel": channel})
            tasks[channel] = asyncio.create_task(run_channel(channel), name=f"channel:{channel}")


async def _drop(
    leases: ChannelLeases, channel: str, tasks: dict[str, asyncio.Task[None]], release: bool = True
) -> None:
    """Cancel a channel's task, wait until it has ended (cancelled again if its cancel got
    lost), and give its lease back when `release`."""
    task = tasks.pop(channel)
    await cancel_and_wait(task, grace_s=RECANCEL_S, log=log, extra={"channel": channel})
    if not task.cancelled() and task.exception():
        log.error("channel task failed: %r", task.exception(), extra={"channel": channel})
    if release:
        with contextlib.suppress(*REDIS_DOWN):  # If not, the lease runs out by itself.
            await leases.release(channel)
