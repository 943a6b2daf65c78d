"""Two clipper processes share the jobs: each job is done once, by one of them."""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import time
from collections import Counter
from pathlib import Path

from redis.asyncio import Redis

from shared.bus import Bus
from shared.runtime import heartbeats
from shared.settings import Settings
from shared.streams import DEAD_LETTER_STREAM, pins_key
from tests.services.clipper.media import (
    Recorded,
    ask_clip,
    clips,
    progress_of,
    publish_segments,
    set_state,
    wait_finished,
    wait_until,
)
from tests.support import PYTHON, REPO, child_env

JOBS = [f"job-{n}" for n in range(6)]


async def test_two_clippers_share_jobs_and_do_each_once(
    bus: Bus, redis_client: Redis, settings: Settings, recorded: list[Recorded], tmp_path: Path
) -> None:
    env = child_env(CLIP_LIVE_REDIS_URL=str(settings.redis_url),
                    CLIP_LIVE_DATA_DIR=str(settings.data_dir), CLIP_LIVE_CLIP_WORKERS="1",
                    CLIP_LIVE_CLAIM_IDLE_MS="1000", CLIP_LIVE_READ_BLOCK_MS="100",
                    CLIP_LIVE_HEARTBEAT_INTERVAL_S="0.2", CLIP_LIVE_HEARTBEAT_TTL_S="1")
    log_files = [tmp_path / f"clipper{n}.log" for n in range(2)]
    workers = [subprocess.Popen([PYTHON, "-m", "services.clipper"], cwd=REPO, env=env,
                                stdout=path.open("w"), stderr=subprocess.STDOUT)
               for path in log_files]
    try:
        await wait_until(lambda: _workers_up(redis_client, 2), timeout=30)
        wall0 = time.time() - 20
        await set_state(bus, "shared", "live")
        await publish_segments(bus, "shared", recorded[:10], wall0)  # up to t=20.02
        for job in JOBS:  # each needs up to t=23: not recorded yet
            await ask_clip(bus, "shared", job, t=19.0, pre=2.0, post=4.0)
        # Both take a job and wait for it longer than claim_idle_ms: no one may steal it.
        await asyncio.sleep(2.0)
        await publish_segments(bus, "shared", recorded[10:13], wall0, every_s=0.2)
        results = [await wait_finished(bus, job, timeout=40) for job in JOBS]
        await asyncio.sleep(0.5)  # time for a wrongly repeated job to show
    finally:
        for worker in workers:
            worker.send_signal(signal.SIGTERM)
        for worker in workers:
            try:
                worker.wait(timeout=20)
            except subprocess.TimeoutExpired:
                worker.kill()
                worker.wait()
        logs = [path.read_text() for path in log_files]
        print("\n".join(logs))  # shown when the test fails

    assert [w.returncode for w in workers] == [0, 0], logs
    # A waiting job's message stays with its worker (no take-over, so nobody had to skip it).
    assert not any("skipping clip job" in log or "took over" in log for log in logs), logs
    assert all(r.status == "done" for r in results), results
    made = await clips(bus)
    assert sorted(c.job_id for c in made) == JOBS
    for job in JOBS:
        statuses = [p.status for p in await progress_of(bus, job)]
        assert Counter(statuses)["queued"] == 1 and statuses[-1] == "done", statuses
    by_worker = Counter(json.loads(Path(c.metadata).read_text())["worker"] for c in made)
    assert len(by_worker) == 2, by_worker
    assert len({Path(c.video).name for c in made}) == len(JOBS)  # clip_<stamp>, _2, _3...
    assert await redis_client.xlen(DEAD_LETTER_STREAM) == 0


async def test_a_job_left_by_a_dead_clipper_is_finished_by_the_other(
    bus: Bus, redis_client: Redis, settings: Settings, recorded: list[Recorded], tmp_path: Path
) -> None:
    env = child_env(CLIP_LIVE_REDIS_URL=str(settings.redis_url),
                    CLIP_LIVE_DATA_DIR=str(settings.data_dir), CLIP_LIVE_CLIP_WORKERS="1",
                    CLIP_LIVE_CLAIM_IDLE_MS="1000", CLIP_LIVE_READ_BLOCK_MS="100")
    workers = {}
    for n in range(2):
        worker = subprocess.Popen([PYTHON, "-m", "services.clipper"], cwd=REPO, env=env,
                                  stdout=(tmp_path / f"clipper{n}.log").open("w"),
                                  stderr=subprocess.STDOUT)
        workers[worker.pid] = worker
    try:
        await wait_until(lambda: _workers_up(redis_client, 2), timeout=30)
        wall0 = time.time() - 20
        await set_state(bus, "shared", "live")
        await publish_segments(bus, "shared", recorded[:10], wall0)
        await ask_clip(bus, "shared", "job-orphan", t=19.0, pre=2.0, post=4.0)

        async def taken() -> bool:
            found = [p for p in await progress_of(bus, "job-orphan") if p.status == "waiting"]
            return bool(found)

        await wait_until(taken)
        [queued] = [p for p in await progress_of(bus, "job-orphan") if p.status == "queued"]
        owner_pid = int(queued.detail.rsplit("-", 2)[1])  # "taken by <host>-<pid>-<tag>"
        workers[owner_pid].kill()
        workers[owner_pid].wait()
        await publish_segments(bus, "shared", recorded[10:13], wall0)
        done = await wait_finished(bus, "job-orphan", timeout=30)
    finally:
        for worker in workers.values():
            if worker.poll() is None:
                worker.send_signal(signal.SIGTERM)
                worker.wait(timeout=20)

    assert done.status == "done", done.detail
    [clip] = await clips(bus)
    sidecar = json.loads(Path(clip.metadata).read_text())
    assert f"-{owner_pid}-" not in sidecar["worker"]
    assert await redis_client.zcard(pins_key("shared")) == 0


async def _workers_up(redis: Redis, count: int) -> bool:
    """True once `count` workers have a live heartbeat."""
    return len(await heartbeats(redis)) == count
