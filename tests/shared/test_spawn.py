"""A heartbeat says "running" only while the work is alive: a service whose task started with
`ctx.spawn` dies exits non-zero, so its supervisor starts it again."""

from __future__ import annotations

import asyncio
import subprocess

import pytest

from shared import runtime
from shared.runtime import ServiceContext, heartbeats, run_service
from shared.settings import Settings
from shared.workers import Worker
from tests.support import PYTHON, child_env, wait_until


async def test_a_service_whose_reader_task_dies_exits_1(settings: Settings) -> None:
    async def main(ctx: ServiceContext) -> None:
        async def reader() -> None:
            await asyncio.sleep(0.2)
            raise RuntimeError("the reader broke")

        ctx.spawn(reader(), name="reader")
        await ctx.stop.wait()

    assert await asyncio.wait_for(run_service(Worker("dies"), main, settings), 20) == 1


async def test_work_that_ignores_the_stop_is_cancelled_and_still_exits_1(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(runtime, "STOP_GRACE_S", 0.5)

    async def main(ctx: ServiceContext) -> None:
        async def reader() -> None:
            raise RuntimeError("the reader broke")

        ctx.spawn(reader())
        await asyncio.Event().wait()

    assert await asyncio.wait_for(run_service(Worker("dies"), main, settings), 20) == 1


async def test_a_spawned_task_that_is_cancelled_or_ends_is_not_a_failure(
    settings: Settings,
) -> None:
    beating = asyncio.Event()

    async def main(ctx: ServiceContext) -> None:
        async def forever() -> None:
            await asyncio.Event().wait()

        async def quick() -> None:
            return None

        task = ctx.spawn(forever())
        ctx.spawn(quick())
        await asyncio.sleep(0.1)
        task.cancel()
        await wait_until(lambda: _beats(ctx), 10, "a heartbeat")
        beating.set()
        await ctx.stop.wait()

    service = asyncio.create_task(run_service(Worker("lives"), main, settings))
    await asyncio.wait_for(beating.wait(), 20)
    assert not service.done()
    service.cancel()
    with pytest.raises(asyncio.CancelledError):
        await service


async def _beats(ctx: ServiceContext) -> bool:
    return any(b.service == ctx.name and b.state == "running"
               for b in await heartbeats(ctx.bus.redis))


def test_a_service_process_whose_reader_dies_exits_non_zero(redis_url: str) -> None:
    done = subprocess.run([PYTHON, "-m", "tests.shared.workers", "dying-reader"],
                          env=child_env(CLIP_LIVE_REDIS_URL=redis_url), capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 1, done.stderr[-2000:]
    assert "the reader broke" in done.stderr + done.stdout
