"""Start the whole mesh on this machine: Redis if needed, then one process per service.

`run_mesh` is what `clip-live run` does. It writes where the mesh is (`mesh.json` in the data
folder) so later commands can find it, restarts a service that crashes, starts its own Redis
again (same port, same data) if that dies, and on Ctrl-C or SIGTERM stops every service, then
Redis, and removes the file. Its own Redis starts empty with each run. Every child runs in a
session of its own, so the Ctrl-C a terminal sends to its whole process group reaches only
`clip-live run`, which then stops the services first and Redis last.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import IO, Protocol

from launcher.run_report import Outcome
from services.wiring import SERVICES
from shared.embedded_redis import EmbeddedRedis, EmbeddedRedisError
from shared.meshfile import MeshInfo, info_path, read_info, write_info
from shared.runtime import SUPERVISOR_PID_ENV
from shared.settings import Settings

REPO = Path(__file__).resolve().parent.parent

# SERVICES, every service `clip-live run` starts in start order, comes from the workers'
# declarations (services/wiring.py). The mesh file (mesh.json) is shared/meshfile.py's.

STOP_GRACE_S = 7.0
"""How long services get to stop after SIGTERM before they are killed. A service still loading
its models (a first run, with nothing cached yet) may not notice the signal for longer; Ctrl-C
must still end the run within 10 s. Killing is safe: the fuser goes on from its checkpoint,
ingest from its session, a clip job is taken over."""
RESTART_MAX_WAIT_S = 30.0

log = logging.getLogger("clip_live.mesh")


@dataclass
class Child:
    """One service process and its restart bookkeeping."""

    name: str
    process: subprocess.Popen[bytes] | None = None
    restarts: int = 0
    next_start: float = 0.0
    started: float = field(default=0.0)


class RedisKeeper:
    """Starts the mesh's own redis-server again, on the same port with the data it kept,
    whenever it dies; waits longer between tries that fail."""

    def __init__(self, redis: EmbeddedRedis) -> None:
        self.redis = redis
        self.restarts = 0
        self.next_try = 0.0
        self.wait_s = 0.5

    def tend(self) -> None:
        if self.redis.alive or time.monotonic() < self.next_try:
            return
        log.warning("the embedded redis-server stopped (exit code %s); starting it again on "
                    "port %d with the data it kept", self.redis.exit_code, self.redis.port)
        try:
            self.redis.restart()
        except EmbeddedRedisError as err:
            log.error("could not start redis-server again: %s; trying again in %.0f s",
                      err, self.wait_s)
            self.next_try = time.monotonic() + self.wait_s
            self.wait_s = min(self.wait_s * 2, RESTART_MAX_WAIT_S)
            return
        self.restarts += 1
        self.wait_s = 0.5
        log.warning("redis-server is back on port %d; the services go on by themselves",
                    self.redis.port)


class Watcher(Protocol):
    """Follows the running mesh; `outcome` is set when the run should end by itself."""

    @property
    def outcome(self) -> Outcome | None: ...

    def start(self) -> None: ...

    def stop(self) -> None: ...


class Supervisor:
    """Keeps one process per service running until told to stop. Their output goes to
    `output` (a log file), or to this process's own when it is None."""

    def __init__(self, services: tuple[str, ...], env: dict[str, str],
                 output: IO[bytes] | None = None) -> None:
        self.children = [Child(name) for name in services]
        self.env = env
        self.output = output

    def start(self, child: Child) -> None:
        child.process = subprocess.Popen(
            [sys.executable, "-m", f"services.{child.name}"], env=self.env,
            stdin=subprocess.DEVNULL, stdout=self.output, stderr=self.output,
            start_new_session=True,
        )
        child.started = time.monotonic()
        log.info("started %s (pid %d)", child.name, child.process.pid)

    def start_all(self) -> None:
        for child in self.children:
            self.start(child)

    def tend(self) -> None:
        """Start again, with growing waits, any service that stopped by itself."""
        now = time.monotonic()
        for child in self.children:
            proc = child.process
            if proc is not None and proc.poll() is not None:
                code = proc.returncode
                child.process = None
                if now - child.started > 60:
                    child.restarts = 0  # It ran a good while: start the waits again from short.
                wait = min(RESTART_MAX_WAIT_S, 0.5 * 2 ** child.restarts)
                child.restarts += 1
                child.next_start = now + wait
                log.error("%s stopped with exit code %s; starting it again in %.1f s",
                          child.name, code, wait)
            if child.process is None and now >= child.next_start:
                self.start(child)

    def stop_all(self) -> None:
        """Ask every service to stop, wait for them, and kill any that will not."""
        running = [c.process for c in self.children if c.process and c.process.poll() is None]
        for proc in running:
            proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + STOP_GRACE_S
        for proc in running:
            try:
                proc.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                log.warning("pid %d did not stop in time; killing it", proc.pid)
                proc.kill()
                proc.wait()


def service_env(redis_url: str, data_dir: Path,
                extra_env: dict[str, str] | None = None) -> dict[str, str]:
    """The environment every service process starts with: where Redis and the data are, and
    this process's pid (a service stops by itself when its supervisor is gone)."""
    env = dict(os.environ, CLIP_LIVE_REDIS_URL=redis_url, CLIP_LIVE_DATA_DIR=str(data_dir),
               **{SUPERVISOR_PID_ENV: str(os.getpid())})
    env.update(extra_env or {})
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    env["PYTHONUNBUFFERED"] = "1"
    return env


def worker_sets(count: int) -> tuple[str, ...]:
    """Every service once, and `count - 1` more copies of each worker (the API serves one
    port, so it runs once): the workers share channels and messages among their copies."""
    workers = tuple(name for name in SERVICES if name != "api")
    return SERVICES + workers * (count - 1)


def run_mesh(settings: Settings, after_start: Callable[[str], None] | None = None,
             extra_env: dict[str, str] | None = None, *,
             watch: Callable[[str], Watcher] | None = None,
             output: IO[bytes] | None = None,
             services: tuple[str, ...] = SERVICES) -> Outcome:
    """Run `services` until Ctrl-C or SIGTERM, or until the watcher made from the Redis URL by
    `watch` says the run is over. Services write to `output` (None: this terminal)."""
    data_dir = settings.data_dir.resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    running = read_info(data_dir)
    if running:
        return Outcome(1, f"a mesh already runs with data folder {data_dir} (pid {running.pid}); "
                          "stop it first")
    stopping = {"now": False}

    def ask_stop(signum: int, frame: FrameType | None) -> None:
        stopping["now"] = True

    old = {s: signal.signal(s, ask_stop) for s in (signal.SIGINT, signal.SIGTERM)}
    redis = None if settings.redis_url else EmbeddedRedis(data_dir / "redis").start(fresh=True)
    keeper = RedisKeeper(redis) if redis else None
    redis_url = settings.redis_url or (redis.url if redis else "")
    if redis:
        log.info("started an embedded redis-server at %s", redis_url)
    supervisor = Supervisor(services, service_env(redis_url, data_dir, extra_env), output)
    watcher = watch(redis_url) if watch else None
    outcome = Outcome(0, "stopped")
    write_info(MeshInfo(redis_url=redis_url, data_dir=str(data_dir), pid=os.getpid(),
                        started=time.time(), embedded_redis=redis is not None,
                        services=list(services)))
    try:
        supervisor.start_all()
        if after_start:
            after_start(redis_url)
        if watcher:
            watcher.start()
        log.info("Clip Live is running (data in %s). Press Ctrl-C to stop.", data_dir)
        while not stopping["now"]:
            if watcher and watcher.outcome:
                outcome = watcher.outcome
                break
            if keeper:
                keeper.tend()
            supervisor.tend()
            time.sleep(0.2)
        log.info("stopping every service")
    finally:
        if watcher:
            watcher.stop()
        supervisor.stop_all()
        if redis:
            redis.stop()
        info_path(data_dir).unlink(missing_ok=True)
        for sig, handler in old.items():
            signal.signal(sig, handler)
    log.info("stopped")
    return outcome
