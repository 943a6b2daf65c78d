"""Redis paused (SIGSTOP) for 15 s across a planted moment: the publisher and the fuser wait
it out; afterwards every second is written once and the moment's clip is asked for once."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from pathlib import Path

import pytest

from services.fuser import service, signals
from services.fuser.worker import WORKER
from shared.bus import Bus
from shared.channels import save_state
from shared.contracts import ChannelState
from shared.embedded_redis import EmbeddedRedis
from shared.runtime import run_service
from shared.settings import Settings
from shared.streams import CLIP_REQUESTS, EVENTS
from tests.services.fuser.scenario import CHANNEL, SESSION, stream
from tests.support import wait_until

SECONDS = 100
MOMENT = 60
PAUSE_S = 15.0


@pytest.mark.timeout(150)
async def test_a_15_s_redis_pause_across_a_moment_loses_nothing(tmp_path: Path) -> None:
    with EmbeddedRedis(tmp_path / "redis") as redis_server:
        assert redis_server.process is not None
        settings = Settings(redis_url=redis_server.url, data_dir=tmp_path / "data",
                            read_block_ms=100, heartbeat_interval_s=0.2, heartbeat_ttl_s=2.0,
                            lease_ttl_s=30.0)
        bus = await Bus.connect(redis_server.url, settings)
        try:
            await save_state(bus.redis, ChannelState(channel=CHANNEL, session=SESSION,
                                                     state="live", url="demo", wall=time.time()))
            fuser = asyncio.create_task(run_service(WORKER, service.main, settings))
            paused = False
            for message in stream(seconds=SECONDS, moment=MOMENT):
                if not paused and message.t >= MOMENT - 1:
                    os.kill(redis_server.process.pid, signal.SIGSTOP)
                    paused = True
                    loop = asyncio.get_running_loop()
                    loop.call_later(PAUSE_S, os.kill, redis_server.process.pid, signal.SIGCONT)
                await bus.publish(signals.by_model(type(message)).topic, message,
                                  channel=CHANNEL)
                await asyncio.sleep(0.002)

            async def all_rows() -> bool:
                return await bus.redis.xlen(EVENTS.stream(CHANNEL)) >= SECONDS - 5

            await wait_until(all_rows, 60, "rows after the pause")
            await asyncio.sleep(0.5)
            assert not fuser.done()
            fuser.cancel()
            await asyncio.gather(fuser, return_exceptions=True)
            rows = [d.message.t for d in await bus.read(EVENTS, channel=CHANNEL, count=1000)]
            assert rows == [float(t) for t in range(len(rows))] and len(rows) >= SECONDS - 5
            jobs = [d.message for d in await bus.read(CLIP_REQUESTS, count=100)]
            assert len(jobs) == 1 and MOMENT - 2 <= (jobs[0].t or 0) <= MOMENT + 4
        finally:
            os.kill(redis_server.process.pid, signal.SIGCONT)
            await bus.close()
