"""Connections to Redis, set up to ride out a Redis that is paused, restarting or gone.

Two kinds of client:
- the main one (`connect_redis`): reads and small writes. Its socket gives up
  `READ_MARGIN_S` after the longest blocking read we do, so a blocking XREAD never trips it,
  and a dead server is noticed. A broken or refused connection is tried again for about 11 s,
  so a Redis that restarts is waited for; a timeout is not (the command may have run: sent
  again, it could run twice).
- the writer (`writer_for`): the bus's outbox writes through it. It has no read timeout: a
  write to a paused Redis waits for it, rather than being given up and sent again (which
  would write the message twice). TCP keepalive still notices a server that vanished.

`Outage` is how a loop rides out Redis being away: it logs once, waits longer each time,
and logs once more when Redis is back.

A Redis Cluster is found by itself: `connect_redis` asks the server at the URL (`INFO
cluster`), and when it says `cluster_enabled:1` the client is redis-py's cluster client,
started from that node, with the same timeouts and retries. Both clients offer the same
commands; the few places that must act differently ask `shared.cluster.is_cluster`.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import time
from typing import Any, cast

from redis.asyncio import ConnectionPool, Redis
from redis.asyncio.cluster import RedisCluster
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff, NoBackoff
from redis.exceptions import (
    ClusterDownError,
    RedisClusterException,
    RedisClusterUnreachableError,
    ResponseError,
    SlotNotCoveredError,
    TryAgainError,
)
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from shared.cluster import cluster_like, is_cluster
from shared.settings import Settings
from shared.timing import sleep_unless

log = logging.getLogger("clip_live.bus")

REDIS_DOWN = (RedisConnectionError, RedisTimeoutError, OSError, ClusterDownError, TryAgainError,
              SlotNotCoveredError, RedisClusterUnreachableError)
"""Errors that mean Redis cannot be reached right now (the last four: a cluster that is
down, or moving slots between shards; plain Redis never raises them)."""

CONNECT_TIMEOUT_S = 5.0
READ_MARGIN_S = 10.0
"""How much longer than the longest blocking read the socket waits for a reply."""
MIN_SOCKET_TIMEOUT_S = 15.0
"""The main client's read timeout is never shorter than this."""
CONNECT_RETRIES = 8
"""A command whose connection broke or was refused is tried again this many times, with
waits of 0.2, 0.4, 0.8, 1.6, then 2 s: about 11 s in all."""


class RedisUnreachable(Exception):
    """Redis could not be reached in the time allowed."""


def redact_url(url: str) -> str:
    """A Redis URL fit for a log line: any password is replaced by ***."""
    head, sep, tail = url.rpartition("@")
    if not sep:
        return url
    scheme, _, creds = head.partition("://")
    user = creds.split(":", 1)[0]
    return f"{scheme}://{user}:***@{tail}"


def socket_timeout_s(settings: Settings) -> float:
    """The main client's read timeout: well past the longest blocking read (`read_block_ms`)."""
    return max(MIN_SOCKET_TIMEOUT_S, settings.read_block_ms / 1000 + READ_MARGIN_S)


def longest_block_ms(redis: Redis) -> int | None:
    """The longest block a blocking read on this client may ask for without tripping its
    socket timeout (None: no limit)."""
    kwargs = cast(Any, redis).connection_kwargs if is_cluster(redis) else \
        redis.connection_pool.connection_kwargs
    timeout = kwargs.get("socket_timeout")
    if not timeout:
        return None
    return max(10, int((float(timeout) - READ_MARGIN_S / 2) * 1000))


def _keepalive() -> dict[int, int]:
    """TCP keepalive: probe an idle connection after 10 s, give up after 3 missed probes."""
    wanted = {"TCP_KEEPIDLE": 10, "TCP_KEEPINTVL": 5, "TCP_KEEPCNT": 3}
    return {getattr(socket, name): value for name, value in wanted.items()
            if hasattr(socket, name)}


def client_options(settings: Settings) -> dict[str, Any]:
    """How the main client talks to Redis."""
    return {
        "socket_connect_timeout": CONNECT_TIMEOUT_S,
        "socket_timeout": socket_timeout_s(settings),
        "socket_keepalive": True,
        "socket_keepalive_options": _keepalive(),
        # A broken or refused connection is opened again and the command sent again, for
        # about `CONNECT_RETRY_S` (a Redis that restarts is back by then); a timeout is never
        # retried by the client (the command may have run already).
        "retry": Retry(ExponentialBackoff(cap=2.0, base=0.1), CONNECT_RETRIES,
                       supported_errors=(RedisConnectionError,)),
    }


def writer_for(redis: Redis) -> Redis:
    """A client to the same server as `redis`, for writes that must not run twice: no read
    timeout, no retries by the client (the outbox retries, knowing what it sent)."""
    if is_cluster(redis):
        return cast(Redis, cluster_like(
            redis, socket_timeout=None, socket_connect_timeout=CONNECT_TIMEOUT_S,
            socket_keepalive=True, socket_keepalive_options=_keepalive(),
            retry=Retry(NoBackoff(), 0)))
    pool = redis.connection_pool
    kwargs = dict(pool.connection_kwargs)
    kwargs.update(socket_timeout=None, socket_connect_timeout=CONNECT_TIMEOUT_S,
                  socket_keepalive=True, socket_keepalive_options=_keepalive(),
                  retry=Retry(NoBackoff(), 0))
    return Redis.from_pool(ConnectionPool(connection_class=pool.connection_class, **kwargs))


async def connect_redis(url: str, settings: Settings) -> Redis:
    """Connect to Redis, trying again with growing waits while it cannot be reached.

    Gives up with `RedisUnreachable` only if `redis_connect_timeout_s` is set and has passed.
    """
    shown = redact_url(url)
    deadline = time.monotonic() + settings.redis_connect_timeout_s
    wait = 0.5
    while True:
        # A first look without the client's own retries, so a Redis that is not there is
        # reported (and waited for) here.
        probe: Redis = Redis.from_url(url, socket_connect_timeout=CONNECT_TIMEOUT_S,
                                      socket_timeout=CONNECT_TIMEOUT_S,
                                      retry=Retry(NoBackoff(), 0))
        try:
            await probe.ping()
            if not await _cluster_enabled(probe):
                return Redis.from_url(url, **client_options(settings))
            cluster = RedisCluster.from_url(url, **client_options(settings))
            try:
                await cluster.initialize()
            except BaseException:
                await cluster.aclose()
                raise
            return cast(Redis, cluster)
        except (*REDIS_DOWN, RedisClusterException) as err:
            reason = str(err).replace(url, shown) or type(err).__name__
            if settings.redis_connect_timeout_s and time.monotonic() + wait > deadline:
                raise RedisUnreachable(f"cannot reach Redis at {shown}: {reason}") from None
            log.warning("cannot reach Redis at %s (%s); trying again in %.1f s",
                        shown, reason, wait)
            await asyncio.sleep(wait)
            wait = min(wait * 2, settings.redis_retry_max_s)
        finally:
            await probe.aclose()


async def _cluster_enabled(probe: Redis) -> bool:
    """True when the server is a node of a Redis Cluster. A server that will not say (an
    old one, or a user not allowed INFO) counts as plain Redis."""
    try:
        info: Any = await probe.info("cluster")
    except ResponseError:
        return False
    return str(info.get("cluster_enabled", 0)) == "1"


class Outage:
    """Rides out Redis being away for one loop: says so once, waits a little longer each
    time, and says when it is back."""

    FIRST_WAIT_S = 0.2

    def __init__(self, what: str, max_wait_s: float = 2.0,
                 logger: logging.Logger | None = None) -> None:
        self.what = what
        self.max_wait_s = max_wait_s
        self.log = logger or log
        self.since: float | None = None
        self.wait_s = self.FIRST_WAIT_S

    @property
    def away(self) -> bool:
        return self.since is not None

    async def wait(self, err: BaseException, stop: asyncio.Event | None = None) -> None:
        """Redis failed us: say so (once), then wait before the next try."""
        if self.since is None:
            self.since = time.monotonic()
            self.log.warning("Redis is away (%s); %s goes on when it is back",
                             str(err) or type(err).__name__, self.what)
        if stop is None:
            await asyncio.sleep(self.wait_s)
        else:
            await sleep_unless(stop, self.wait_s)
        self.wait_s = min(self.wait_s * 2, self.max_wait_s)

    def over(self) -> None:
        """Redis answered again."""
        if self.since is not None:
            self.log.info("Redis is back after %.1f s; %s goes on",
                          time.monotonic() - self.since, self.what)
        self.since = None
        self.wait_s = self.FIRST_WAIT_S
