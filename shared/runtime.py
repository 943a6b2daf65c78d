"""The service runtime: what every worker process does around its own work.

`run_service` sets up logs, connects to the bus, keeps a heartbeat in Redis (so `clip-live
status` can see the worker), stops gently on SIGTERM or Ctrl-C, and exits with a clear code:
0 when stopped, 1 when the work failed, 2 when a setting is bad.

It also reads for the worker what its declaration (`shared/workers.py`) says it reads:
`ctx.consume(handler)` through the worker's consumer group, `ctx.consume_channel(channel,
handler)` for one owned channel, and `ctx.own_channels(run_channel)` takes the channels.

The heartbeat says "running" only while the work is alive: a task started beside the work
with `ctx.spawn(coro)` that fails makes the service stop and exit 1, so `clip-live run`
starts it again, instead of it running on without that task.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import socket
import sys
import time
import uuid
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any, TypeVar

from redis.asyncio import Redis

from shared.bus import Bus, Handler
from shared.cancelling import cancel_and_wait
from shared.channels import channel_choice, channel_subscriptions
from shared.contracts import ChannelState, Heartbeat
from shared.leases import ChannelLeases, ChannelRunner, own_channels
from shared.logs import setup_logging
from shared.redis_client import REDIS_DOWN, Outage, RedisUnreachable, redact_url
from shared.settings import Settings, SettingsError, load_settings, unknown_variables
from shared.streams import HEARTBEAT_PATTERN, heartbeat_key
from shared.timing import sleep_unless
from shared.workers import Worker

STOP_GRACE_S = 10.0
"""How long a worker may take to finish after it is asked to stop."""

SUPERVISOR_PID_ENV = "CLIP_LIVE_SUPERVISOR_PID"
"""Set by `clip-live run`: a worker stops by itself if that process is gone."""

T = TypeVar("T")


@dataclass
class ServiceContext:
    """What a worker's main function gets: its declaration, settings, the bus, a logger and a
    stop flag."""

    worker: Worker
    settings: Settings
    bus: Bus
    log: logging.Logger
    instance: str = field(default_factory=lambda: f"{socket.gethostname()}-{os.getpid()}")
    stop: asyncio.Event = field(default_factory=asyncio.Event)
    started: float = field(default_factory=time.time)
    state: str = "running"
    detail: str = ""
    failure: BaseException | None = None
    """The error of a spawned task that failed: the service stops and exits 1."""
    failed: asyncio.Event = field(default_factory=asyncio.Event)
    tasks: set[asyncio.Task[Any]] = field(default_factory=set)

    def spawn(self, coro: Coroutine[Any, Any, T], name: str | None = None) -> asyncio.Task[T]:
        """Run `coro` beside the work, tied to the service: if it fails, the service stops and
        exits 1 (so its supervisor starts it again). Cancelling it is not a failure."""
        task = asyncio.create_task(coro, name=name)
        self.tasks.add(task)
        task.add_done_callback(self._task_ended)
        return task

    def _task_ended(self, task: asyncio.Task[Any]) -> None:
        self.tasks.discard(task)
        if task.cancelled() or task.exception() is None or self.failure is not None:
            return
        self.failure = task.exception()
        self.state, self.detail = "failed", f"{task.get_name()} failed: {self.failure!r}"
        self.failed.set()

    @property
    def name(self) -> str:
        return self.worker.name

    def leases(self) -> ChannelLeases:
        """Channel leases in this worker's name (for stateful workers)."""
        return ChannelLeases(self.bus.redis, self.name, self.instance, self.settings.lease_ttl_s)

    def consumer_name(self) -> str:
        """A name unique to this process, for consumer groups."""
        return f"{self.instance}-{uuid.uuid4().hex[:6]}"

    async def consume(
        self, handler: Handler, *, bus: Bus | None = None, consumer: str | None = None
    ) -> None:
        """Hand `handler` each message the worker reads through its consumer group, until
        stopped: the global topics it reads and, for a "group" worker, its per-channel topics
        of every known channel. `bus` and `consumer` replace the context's own."""
        topics = self.worker.global_reads
        if self.worker.shape == "group":
            topics += self.worker.channel_reads
        if not topics:
            raise ValueError(f"{self.name} declares no topic to read through a group")
        bus = bus or self.bus
        await bus.consume(channel_subscriptions(bus.redis, *topics), self.worker.group,
                          consumer or self.consumer_name(), handler, self.stop)

    async def consume_channel(self, channel: str, handler: Handler) -> None:
        """Hand `handler` each message of the per-channel topics the worker reads, for one
        channel it owns, until stopped (or cancelled when the channel is given up)."""
        streams = self.worker.channel_streams(channel)
        if not streams:
            raise ValueError(f"{self.name} declares no per-channel topic to read")
        await self.bus.consume(streams, self.worker.group, self.consumer_name(), handler,
                               self.stop)

    async def own_channels(
        self, run_channel: ChannelRunner, keep: Callable[[ChannelState], bool] | None = None
    ) -> None:
        """Own our fair share of the channels through leases (they spread over the live
        copies of this worker), and run `run_channel(channel)` for each, until stopped.
        Channels: the active ones (every known one if the worker declares
        `ended_too`), less those `keep` turns down."""
        wanted = channel_choice(self.bus.redis, ended_too=self.worker.ended_too, keep=keep)
        await own_channels(self.leases(), wanted, run_channel, self.stop, owners=self.copies)

    async def copies(self) -> int:
        """How many copies of this worker are alive now (on any machine), by their heartbeats;
        at least 1, this one."""
        beats = await heartbeats(self.bus.redis)
        return max(1, sum(1 for b in beats if b.service == self.name))


ServiceMain = Callable[[ServiceContext], Coroutine[Any, Any, None]]


def main_entry(worker: Worker | str, main: ServiceMain) -> None:
    """Run a service as a program: `python -m services.<name>` ends here."""
    try:
        sys.exit(asyncio.run(run_service(worker, main)))
    except KeyboardInterrupt:  # Ctrl-C before the service was up: stop quietly.
        sys.exit(130)


async def run_service(
    worker: Worker | str, main: ServiceMain, settings: Settings | None = None
) -> int:
    """Run `main` with a heartbeat until it returns or a stop signal comes. A plain name
    stands for a worker that declares nothing (it reads the bus by itself)."""
    if isinstance(worker, str):
        worker = Worker(worker)
    name = worker.name
    try:
        settings = settings or load_settings()
    except SettingsError as err:
        print(f"clip-live {name}: {err}", file=sys.stderr)
        return 2
    log = setup_logging(name, level=settings.log_level, fmt=settings.log_format,
                        secrets=settings.secrets())
    for warning in unknown_variables():
        log.warning("%s", warning)
    if not settings.redis_url:
        log.error("no Redis to talk to: set CLIP_LIVE_REDIS_URL (clip-live run sets it for you)")
        return 2
    try:
        bus = await Bus.connect(settings.redis_url, settings)
    except RedisUnreachable as err:
        log.error("%s", err)
        return 1
    ctx = ServiceContext(worker=worker, settings=settings, bus=bus, log=log)
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, ctx.stop.set)
    log.info("started", extra={"instance": ctx.instance, "redis": redact_url(settings.redis_url)})
    helpers = [asyncio.create_task(_heartbeat(ctx)), asyncio.create_task(_watch_supervisor(ctx))]
    work = asyncio.create_task(main(ctx))
    code = 0
    try:
        code = await _wait_work(ctx, work)
    except asyncio.CancelledError:
        # Cancelled from outside (a test, a program that runs us): stop the work the gentle
        # way, as a signal would, so it hands over what it holds; then go on cancelling.
        ctx.stop.set()
        await _wait_work(ctx, work)
        raise
    finally:
        await cancel_and_wait(*helpers, *ctx.tasks)
        with contextlib.suppress(*REDIS_DOWN):
            await bus.redis.delete(heartbeat_key(name, ctx.instance))
        await bus.close()
        log.info("stopped", extra={"exit_code": code})
    return code


async def _wait_work(ctx: ServiceContext, work: asyncio.Task[None]) -> int:
    stopping = asyncio.create_task(ctx.stop.wait())
    failing = asyncio.create_task(ctx.failed.wait())
    try:
        await asyncio.wait({work, stopping, failing}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        stopping.cancel()
        failing.cancel()
    if ctx.failure is not None and not work.done():
        ctx.log.error("a task of the service failed; stopping: %r", ctx.failure,
                      exc_info=ctx.failure)
        ctx.stop.set()
    if not work.done():
        ctx.log.info("stopping")
        try:
            async with asyncio.timeout(STOP_GRACE_S):
                await asyncio.shield(work)
        except TimeoutError:
            ctx.log.warning("did not stop in %.0f s; cancelling", STOP_GRACE_S)
            await cancel_and_wait(work)
            return 1 if ctx.failure is not None else 0
    if work.cancelled():
        return 1 if ctx.failure is not None else 0
    error = work.exception()
    if error is not None:
        ctx.log.error("failed: %s", error, exc_info=error)
        return 1
    return 1 if ctx.failure is not None else 0


async def heartbeats(redis: Redis) -> list[Heartbeat]:
    """Every live worker's latest heartbeat (those whose key has not run out)."""
    found = []
    async for key in redis.scan_iter(match=HEARTBEAT_PATTERN, count=500):
        raw = await redis.get(key)
        if raw:
            found.append(Heartbeat.model_validate_json(raw))
    return found


async def _heartbeat(ctx: ServiceContext) -> None:
    """Write the heartbeat key again and again; it expires if this process dies."""
    key = heartbeat_key(ctx.name, ctx.instance)
    ttl_ms = int(ctx.settings.heartbeat_ttl_s * 1000)
    outage = Outage("the heartbeat", ctx.settings.heartbeat_interval_s, ctx.log)
    while True:
        beat = Heartbeat(service=ctx.name, instance=ctx.instance, pid=os.getpid(),
                         host=socket.gethostname(), started=ctx.started, wall=time.time(),
                         state=ctx.state, detail=ctx.detail)
        try:
            await ctx.bus.redis.set(key, beat.model_dump_json(), px=ttl_ms)
            outage.over()
        except REDIS_DOWN as err:
            await outage.wait(err, ctx.stop)
        else:
            await sleep_unless(ctx.stop, ctx.settings.heartbeat_interval_s)
        if ctx.stop.is_set():
            return


async def _watch_supervisor(ctx: ServiceContext) -> None:
    """Stop when the `clip-live run` that started us is gone, so no worker is left behind."""
    pid = int(os.environ.get(SUPERVISOR_PID_ENV, "0") or 0)
    if not pid:
        return
    while not ctx.stop.is_set():
        if os.getppid() != pid:
            ctx.log.warning("clip-live run (pid %d) is gone; stopping", pid)
            ctx.stop.set()
            return
        await sleep_unless(ctx.stop, 1.0)
