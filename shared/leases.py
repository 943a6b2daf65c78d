"""Channel leases: how stateful workers agree on who owns a channel.

A lease is a Redis key holding the owner's name, with a time to live. The owner renews it often.
If the owner dies, the key runs out and another replica takes the channel over.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Coroutine, Iterable
from typing import Any

from redis.asyncio import Redis

from shared.bus import REDIS_DOWN
from shared.streams import lease_key
from shared.timing import sleep_unless

log = logging.getLogger("clip_live.leases")

# Renew or free the lease only if we still own it (a plain SET could steal another's lease).
_RENEW = "if redis.call('get', KEYS[1]) == ARGV[1] then " \
         "return redis.call('pexpire', KEYS[1], ARGV[2]) else return 0 end"
_RELEASE = "if redis.call('get', KEYS[1]) == ARGV[1] then " \
           "return redis.call('del', KEYS[1]) else return 0 end"


class KeyLease:
    """One Redis key that names its holder and runs out unless the holder renews it."""

    def __init__(self, redis: Redis, key: str, holder: str, ttl_ms: int) -> None:
        self.redis = redis
        self.key = key
        self.holder = holder
        self.ttl_ms = ttl_ms

    async def take(self) -> bool:
        """Take the key if nobody holds it. True if we took it."""
        return bool(await self.redis.set(self.key, self.holder, nx=True, px=self.ttl_ms))

    async def renew(self) -> bool:
        """Push the end further out. False if we no longer hold it."""
        return bool(await self.redis.eval(_RENEW, 1, self.key, self.holder, self.ttl_ms))

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
        return KeyLease(self.redis, lease_key(self.service, channel), self.instance, self.ttl_ms)

    async def acquire(self, channel: str) -> bool:
        """Take the lease if nobody holds it. True if we hold it now."""
        lease = self._lease(channel)
        return await lease.take() or await lease.renew()

    async def renew(self, channel: str) -> bool:
        """Push our lease's end further out. False if we lost it."""
        return await self._lease(channel).renew()

    async def release(self, channel: str) -> None:
        await self._lease(channel).release()

    async def owner(self, channel: str) -> str | None:
        value: Any = await self.redis.get(lease_key(self.service, channel))
        return value.decode() if value else None


RECANCEL_S = 8.0
"""A channel task gets this long to end after its cancel (it may be handing over media)."""

ChannelRunner = Callable[[str], Coroutine[Any, Any, None]]


async def own_channels(
    leases: ChannelLeases,
    wanted: Callable[[], Awaitable[Iterable[str]]],
    run_channel: ChannelRunner,
    stop: asyncio.Event,
) -> None:
    """Own as many wanted channels as we can, and run `run_channel(channel)` for each we own.

    A channel's task is cancelled when we lose its lease or the channel is no longer wanted.
    Runs until `stop` is set, then gives every lease back.
    """
    tasks: dict[str, asyncio.Task[None]] = {}
    period = leases.ttl_ms / 3000
    try:
        while not stop.is_set():
            try:
                await _tend(leases, set(await wanted()), run_channel, tasks)
            except REDIS_DOWN as err:
                log.warning("cannot tend channel leases: %s", err)
            await sleep_unless(stop, period)
    finally:
        # Stop them all at once: each may take a few seconds to hand over its last media.
        await asyncio.gather(*(_drop(leases, channel, tasks) for channel in list(tasks)))


async def _tend(
    leases: ChannelLeases, wanted: set[str], run_channel: ChannelRunner,
    tasks: dict[str, asyncio.Task[None]],
) -> None:
    for channel, task in list(tasks.items()):
        if channel not in wanted or task.done():
            await _drop(leases, channel, tasks)
        elif not await leases.renew(channel):
            log.warning("lost the lease; another worker owns it now", extra={"channel": channel})
            await _drop(leases, channel, tasks, release=False)
    for channel in sorted(wanted - set(tasks)):
        if await leases.acquire(channel):
            log.info("took the channel", extra={"channel": channel})
            tasks[channel] = asyncio.create_task(run_channel(channel), name=f"channel:{channel}")


async def _drop(
    leases: ChannelLeases, channel: str, tasks: dict[str, asyncio.Task[None]], release: bool = True
) -> None:
    task = tasks.pop(channel)
    task.cancel()
    await _wait_ended(task, channel)
    if release:
        with contextlib.suppress(*REDIS_DOWN):  # If not, the lease runs out by itself.
            await leases.release(channel)


async def _wait_ended(task: asyncio.Task[None], channel: str) -> None:
    """Wait for a cancelled channel task to end. On Python 3.11 a cancel can get lost (when it
    lands just as a wait inside the task ends), so a task still running after `RECANCEL_S`
    is cancelled again, with a warning."""
    try:
        while not (await asyncio.wait({task}, timeout=RECANCEL_S))[0]:
            log.warning("the channel task still runs %.0f s after its cancel; cancelling again",
                        RECANCEL_S, extra={"channel": channel})
            task.cancel()
    except asyncio.CancelledError:
        task.cancel()  # We are cancelled ourselves: the channel task must not outlive us.
        raise
    if not task.cancelled() and task.exception():
        log.error("channel task failed: %r", task.exception(), extra={"channel": channel})
