"""Run services in the test's own event loop, and wait for what they publish."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from services.wiring import worker_named
from shared.runtime import ServiceContext, ServiceMain, run_service
from shared.settings import Settings
from tests.support import Records, wait_until  # noqa: F401


@contextlib.asynccontextmanager
async def running(settings: Settings, **mains: ServiceMain) -> AsyncIterator[
        dict[str, asyncio.Task[int]]]:
    """Run each named service (with its declaration) with `run_service`; stop them gently at
    the end and check that each exits with 0."""
    stops: list[asyncio.Event] = []

    def keep_stop(main: ServiceMain) -> ServiceMain:
        async def wrapped(ctx: ServiceContext) -> None:
            stops.append(ctx.stop)
            await main(ctx)
        return wrapped

    tasks = {name: asyncio.create_task(run_service(worker_named(name), keep_stop(main), settings))
             for name, main in mains.items()}
    try:
        yield tasks
    finally:
        for stop in stops:
            stop.set()
        codes = {name: await asyncio.wait_for(task, 20) for name, task in tasks.items()}
        assert set(codes.values()) == {0}, codes


