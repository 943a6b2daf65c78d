"""`clip-live node`: run some of the workers on this machine against a Redis that runs elsewhere.

Many nodes can join one bus. Channel owners (ingest, asr, face, chat, fuser) share the channels
through their leases; stateless workers (audio_features, motion, semantic, clipper) share the
messages through their consumer groups. A node that dies leaves its leases to run out; the
other nodes take its channels over and claim what it had read but not finished. So a node
needs nothing of the others but the Redis URL and the data folder (recordings and clips), which
all nodes must share (a network file system, or a ReadWriteMany volume).

Unlike `clip-live run`, a node starts no Redis of its own, writes no mesh file and, unless
asked, runs no API.
"""

from __future__ import annotations

import logging
import signal
import sys
import time
from types import FrameType

from launcher.mesh import Supervisor, service_env
from services.wiring import SERVICES
from shared.logs import setup_logging
from shared.redis_client import redact_url
from shared.settings import Settings

log = logging.getLogger("clip_live.node")

DEFAULT_SERVICES: tuple[str, ...] = tuple(name for name in SERVICES if name != "api")
"""What a node runs when not told: every worker but the API (one API is enough for a mesh)."""


class NodeError(Exception):
    """The node cannot start; the message says why, in one line."""


def chosen_services(spec: str | None) -> tuple[str, ...]:
    """The services named in `spec` ("asr,fuser"), in start order; every worker but the API
    when `spec` is None. Raises NodeError for an unknown or missing name."""
    if spec is None:
        return DEFAULT_SERVICES
    names = [name.strip() for name in spec.split(",") if name.strip()]
    unknown = sorted(set(names) - set(SERVICES))
    if unknown:
        raise NodeError(f"no service is called {', '.join(unknown)}; "
                        f"the services are: {', '.join(SERVICES)}")
    if not names:
        raise NodeError(f"--services names no service; the services are: {', '.join(SERVICES)}")
    return tuple(name for name in SERVICES if name in names)


def check_redis(url: str) -> None:
    """Fail at once, in one line, when the Redis at `url` does not answer."""
    from redis import Redis
    from redis.exceptions import RedisError

    try:
        Redis.from_url(url, socket_connect_timeout=5, socket_timeout=5).ping()
    except (RedisError, OSError, ValueError) as err:
        raise NodeError(f"cannot reach Redis at {redact_url(url)}: {err}") from None


def run_node(settings: Settings, redis_url: str | None, services: str | None) -> int:
    """Run the chosen services until Ctrl-C or SIGTERM, starting again any that stops by
    itself; their logs go to this terminal. Returns the exit code."""
    url = redis_url or settings.redis_url
    try:
        if not url:
            raise NodeError("a node joins a Redis that runs elsewhere: give --redis URL "
                            "(or set CLIP_LIVE_REDIS_URL)")
        names = chosen_services(services)
        check_redis(url)
    except NodeError as err:
        print(f"clip-live node: {err}", file=sys.stderr)
        return 2
    setup_logging("clip-live", level=settings.log_level,
                  fmt=settings.log_format, secrets=settings.secrets())
    data_dir = settings.data_dir.resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    supervisor = Supervisor(names, service_env(url, data_dir))
    stopping: list[int] = []

    def ask_stop(signum: int, frame: FrameType | None) -> None:
        stopping.append(signum)

    old = {s: signal.signal(s, ask_stop) for s in (signal.SIGINT, signal.SIGTERM)}
    log.info("node starting %s against %s (data in %s)", ", ".join(names), redact_url(url),
             data_dir)
    try:
        supervisor.start_all()
        while not stopping:
            supervisor.tend()
            time.sleep(0.2)
        log.info("stopping the node's services")
    finally:
        supervisor.stop_all()
        for sig, handler in old.items():
            signal.signal(sig, handler)
    log.info("node stopped")
    return 0
