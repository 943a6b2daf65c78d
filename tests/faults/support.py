"""Helpers for the fault tests: a redis-server of the test's own, that a test may pause
(SIGSTOP), kill (SIGKILL) and start again."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from shared.embedded_redis import EmbeddedRedis
from shared.settings import Settings

PAUSE_S = 15.0
"""How long the fault tests pause Redis: as long as the outages measured on a running mesh."""


@contextmanager
def own_redis(folder: Path) -> Iterator[EmbeddedRedis]:
    """A redis-server for one test only (never the session's, never port 6379)."""
    server = EmbeddedRedis(folder).start()
    try:
        yield server
    finally:
        if server.process is not None and server.process.poll() is None:
            os.kill(server.process.pid, signal.SIGCONT)  # a paused one cannot stop
        server.stop()


def pid_of(server: EmbeddedRedis) -> int:
    assert server.process is not None
    return server.process.pid


def quick_settings(server: EmbeddedRedis, folder: Path) -> Settings:
    """Settings for a test against `server`, with quick timers."""
    return Settings(redis_url=server.url, data_dir=folder, read_block_ms=100,
                    claim_idle_ms=2_000, heartbeat_interval_s=0.2, heartbeat_ttl_s=1.0,
                    lease_ttl_s=1.0)


def kill(server: EmbeddedRedis) -> None:
    """SIGKILL the server and wait for it to be gone (as a crash or the OOM killer would)."""
    assert server.process is not None
    server.process.send_signal(signal.SIGKILL)
    server.process.wait(5)
