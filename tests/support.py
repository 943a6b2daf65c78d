"""Small helpers for tests that start real child processes."""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
import os
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import TypeVar

from shared.runtime import ServiceContext, ServiceMain, run_service
from shared.settings import Settings
from shared.workers import Worker

REPO = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
DEV_DATA = REPO.parent / "shared" / "data"
"""The team's real development data, beside the repository (never copied into it)."""


def dev_data(*parts: str) -> Path:
    """A path in the development data; the test is skipped, saying why, when it is absent."""
    import pytest

    path = DEV_DATA.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"development data {path} is not on this machine")
    return path
T = TypeVar("T")


def child_env(**extra: str) -> dict[str, str]:
    """Environment for a child process of a test: the repo importable, no stray settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLIP_LIVE_")}
    env["PYTHONPATH"] = str(REPO)
    env["PYTHONUNBUFFERED"] = "1"
    env.update(extra)
    return env


async def wait_until(check: Callable[[], Awaitable[T | bool | None] | T | bool | None],
                     timeout: float = 30.0, what: str = "the condition", every: float = 0.05
                     ) -> T:
    """Call `check` (a plain or an async function) until it gives something true, and return
    that. Fails the test, naming `what`, if that takes longer than `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not (found := await _result(check())):
        if time.monotonic() > deadline:
            raise AssertionError(f"waited {timeout:.0f} s for {what}")
        await asyncio.sleep(every)
    return found  # type: ignore[return-value]


async def _result(value: object) -> object:
    return await value if inspect.isawaitable(value) else value

class Records(logging.Handler):
    """Keeps every log record of one logger (run_service replaces the root's handlers, so
    pytest's caplog would miss them)."""

    def __init__(self, logger: str) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []
        self.logger = logging.getLogger(logger)

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def __enter__(self) -> Records:
        self.logger.addHandler(self)
        return self

    def __exit__(self, *exc: object) -> None:
        self.logger.removeHandler(self)

    def messages(self, level: str) -> list[str]:
        """Messages logged at `level` ("WARNING", ...). Compared by number: streamlink renames
        the levels to lower case when it is imported."""
        number = logging.getLevelNamesMapping()[level]
        return [r.getMessage() for r in self.records if r.levelno == number]


@contextlib.asynccontextmanager
async def running_service(worker: Worker, main: ServiceMain,
                          settings: Settings) -> AsyncIterator[asyncio.Task[int]]:
    """Run a service's `main` in this process (as `python -m services.<name>` would) until the
    block ends, then stop it gently: it must end by itself, with exit code 0."""
    stops: list[asyncio.Event] = []

    async def keep_stop(ctx: ServiceContext) -> None:
        stops.append(ctx.stop)
        await main(ctx)

    task = asyncio.create_task(run_service(worker, keep_stop, settings))
    try:
        yield task
    finally:
        for stop in stops:
            stop.set()
        assert await asyncio.wait_for(task, 20) == 0
