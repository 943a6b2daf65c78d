"""The fuser service on a real Redis: signals in, event rows, spikes, clip jobs and events.csv
out; a newly installed model is picked up without a restart."""

from __future__ import annotations

import asyncio
import csv
import time
from pathlib import Path
from typing import Any

import pytest
from redis.asyncio import Redis

from services.fuser import service, signals
from services.fuser.checkpoint import Checkpoint
from services.fuser.events_log import EVENT_COLUMNS
from services.fuser.model import ModelStore, prior_model
from services.fuser.worker import WORKER
from shared.bus import Bus
from shared.channels import save_state
from shared.contracts import ChannelState, Motion
from shared.runtime import run_service
from shared.settings import Settings
from shared.streams import CLIP_REQUESTS, EVENTS, SPIKES, Topic, fuser_checkpoint_key
from tests.services.fuser.scenario import CHANNEL, SESSION, stream
from tests.support import wait_until

SIGNALS: dict[type, Topic[Any]] = {topic.model: topic for topic in signals.topics()}


@pytest.mark.timeout(90)
@pytest.mark.parametrize("clip_jobs", [True, False])
async def test_signals_in_one_clip_job_out_and_events_csv(
    settings: Settings, bus: Bus, redis_client: Redis, clip_jobs: bool
) -> None:
    """With `fuser_clip_jobs` off (a VOD run) the spike and its flag are the same, but no job
    goes to the clipper."""
    await save_state(redis_client, ChannelState(channel=CHANNEL, session=SESSION, state="live",
                                                url="demo", wall=time.time()))
    settings = settings.model_copy(update={"fuser_clip_jobs": clip_jobs})
    task = asyncio.create_task(run_service(WORKER, service.main, settings))
    try:
        await _publish(bus, stream(seconds=100, moment=60))

        async def rows_done() -> bool:
            return await redis_client.xlen(EVENTS.stream(CHANNEL)) >= 95

        await wait_until(rows_done)
        jobs = await bus.read(CLIP_REQUESTS)
        if not clip_jobs:
            assert jobs == []
            spikes = await bus.read(SPIKES, channel=CHANNEL)
            assert [s.message for s in spikes if s.message.job_id]
            return
        assert len(jobs) == 1 and 58 <= (jobs[0].message.t or 0) <= 64
        spikes = await bus.read(SPIKES, channel=CHANNEL)
        assert spikes and spikes[0].message.job_id == jobs[0].message.job_id
        csv_path = settings.data_dir / "events" / CHANNEL / SESSION / "events.csv"
        with csv_path.open() as handle:
            rows = list(csv.reader(handle))
        assert tuple(rows[0]) == EVENT_COLUMNS
        times = [float(r[0]) for r in rows[1:]]
        assert times == [float(t) for t in range(len(times))]
        assert any(r[-1] == "1" for r in rows[1:])
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


@pytest.mark.timeout(60)
async def test_the_running_fuser_picks_up_a_new_model(
    settings: Settings, bus: Bus, redis_client: Redis, tmp_path: Path
) -> None:
    await save_state(redis_client, ChannelState(channel=CHANNEL, session=SESSION, state="live",
                                                url="demo", wall=time.time()))
    task = asyncio.create_task(run_service(WORKER, service.main, settings))
    store = ModelStore(settings.data_dir / "models")
    try:
        await wait_until(lambda: store.current_version() == "v0001")
        eager = prior_model()
        eager.intercept_[:] = 50.0  # a model that finds everything exciting
        store.install(eager, {"kind": "test model", "trained": False})
        await asyncio.sleep(service.MODEL_CHECK_S + 1.0)
        from shared.streams import MOTION
        from tests.services.fuser.scenario import stream as make

        for message in make(seconds=12, moment=None, chat=False, face=False):
            if type(message).__name__ == "Motion":
                await bus.publish(MOTION, message, channel=CHANNEL)  # type: ignore[arg-type]

        async def any_row() -> bool:
            return await redis_client.xlen(EVENTS.stream(CHANNEL)) >= 1

        await wait_until(any_row)
        rows = await bus.read(EVENTS, channel=CHANNEL)
        assert rows[0].message.excited_prob > 0.99  # scored by the new model, not the prior
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def _publish(bus: Bus, messages: list[Any]) -> None:
    for message in messages:
        topic = SIGNALS[type(message)]
        await bus.publish(topic, message, channel=CHANNEL)


async def _row_times(bus: Bus) -> list[float]:
    return [d.message.t for d in await bus.read(EVENTS, channel=CHANNEL, count=1000)]


async def _rows_reach(bus: Bus, count: int) -> bool:
    return len(await _row_times(bus)) >= count


@pytest.mark.timeout(90)
async def test_a_restart_loses_no_second_and_writes_none_twice(
    settings: Settings, bus: Bus, redis_client: Redis
) -> None:
    await save_state(redis_client, ChannelState(channel=CHANNEL, session=SESSION, state="live",
                                                url="demo", wall=time.time()))
    messages = stream(seconds=12, moment=None)
    # Motion for seconds 4 to 6 is late: those seconds stay open, the rest close as usual.
    held = [m for m in messages if 4 <= m.t < 7 and isinstance(m, Motion)]
    before = [m for m in messages if m.t < 7 and m not in held]
    after = [m for m in messages if m.t >= 7]

    # A long lateness, so only the watermark closes seconds while the first fuser runs (at
    # once: no settle time).
    settings = settings.model_copy(update={"fuser_settle_s": 0.0})
    first = asyncio.create_task(run_service(
        WORKER, service.main, settings.model_copy(update={"fuser_lateness_s": 60.0})))
    await _publish(bus, before)
    await wait_until(lambda: _rows_reach(bus, 4), 30, "rows 0 to 3")
    await asyncio.sleep(0.5)  # nothing more comes: 4 to 6 wait for their motion
    assert await _row_times(bus) == [0.0, 1.0, 2.0, 3.0]
    first.cancel()  # Stopped from outside, as a test or an embedding program does.
    await asyncio.gather(first, return_exceptions=True)
    rows = [d.message for d in await bus.read(EVENTS, channel=CHANNEL, count=1000)]
    assert [r.t for r in rows] == [float(t) for t in range(7)]  # 4 to 6 on the way out
    assert all("motion" in r.missing for r in rows[4:]) and "motion" not in rows[3].missing
    note = Checkpoint.loads((await redis_client.get(fuser_checkpoint_key(CHANNEL))).decode())
    assert note is not None and (note.session, note.closed_until, note.rows_from) == (SESSION, 7, 7)

    second = asyncio.create_task(run_service(WORKER, service.main, settings))
    try:
        await _publish(bus, held + after)
        await wait_until(lambda: _rows_reach(bus, 8), 30, "rows up to 7")
        await asyncio.sleep(0.5)
    finally:
        second.cancel()
        await asyncio.gather(second, return_exceptions=True)
    # Each second once, none missing: 4 to 6 were not written again, 7 to 11 were added.
    assert await _row_times(bus) == [float(t) for t in range(12)]
