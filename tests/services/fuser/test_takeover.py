"""SIGKILL of a real fuser process around a planted moment: the next fuser goes on from the
checkpoint, the moment's clip is cut once, and events.csv has every second exactly once."""

from __future__ import annotations

import asyncio
import csv
import signal
import subprocess
import time
from pathlib import Path

import pytest
from redis.asyncio import Redis

from services.fuser import signals
from services.fuser.events_log import session_dir
from shared.bus import Bus
from shared.channels import save_state
from shared.contracts import ChannelState
from shared.settings import Settings
from shared.streams import CLIP_REQUESTS, EVENTS, fuser_checkpoint_key
from tests.services.fuser.scenario import CHANNEL, SESSION, stream
from tests.support import PYTHON, child_env, wait_until

SECONDS = 100
MOMENT = 60


def start_fuser(settings: Settings) -> subprocess.Popen[bytes]:
    env = child_env(CLIP_LIVE_REDIS_URL=str(settings.redis_url),
                    CLIP_LIVE_DATA_DIR=str(settings.data_dir), CLIP_LIVE_READ_BLOCK_MS="100",
                    CLIP_LIVE_LEASE_TTL_S="1.0", CLIP_LIVE_HEARTBEAT_INTERVAL_S="0.2",
                    CLIP_LIVE_HEARTBEAT_TTL_S="1.0")
    return subprocess.Popen([PYTHON, "-m", "services.fuser"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


async def publish(bus: Bus, messages: list) -> None:
    for message in messages:
        await bus.publish(signals.by_model(type(message)).topic, message, channel=CHANNEL)


async def rows_written(redis: Redis) -> int:
    return int(await redis.xlen(EVENTS.stream(CHANNEL)))


@pytest.mark.timeout(120)
@pytest.mark.parametrize("killed_after", [MOMENT + 1.0, MOMENT + 3.0])
async def test_sigkill_of_the_fuser_after_a_moment_loses_no_second_and_no_clip(
    settings: Settings, bus: Bus, redis_client: Redis, killed_after: float
) -> None:
    await save_state(redis_client, ChannelState(channel=CHANNEL, session=SESSION, state="live",
                                                url="demo", wall=time.time()))
    messages = stream(seconds=SECONDS, moment=MOMENT)
    heard = [m for m in messages if m.t < killed_after]
    first = start_fuser(settings)
    try:
        await publish(bus, heard)

        async def caught_up() -> bool:  # It has written what it could close of them.
            return bool(await redis_client.get(fuser_checkpoint_key(CHANNEL))) and \
                await rows_written(redis_client) >= int(killed_after) - 5

        await wait_until(caught_up, 60, "the first fuser to catch up")
        await asyncio.sleep(0.3)
    finally:
        first.send_signal(signal.SIGKILL)  # No goodbye: its open seconds die with it.
        first.wait(10)
    rows_before = await rows_written(redis_client)
    assert rows_before < int(killed_after)  # some seconds were open when it died

    second = start_fuser(settings)
    try:
        await publish(bus, [m for m in messages if m.t >= killed_after])

        async def all_rows() -> bool:
            return await rows_written(redis_client) >= SECONDS - 5

        await wait_until(all_rows, 60, "the second fuser to write the rest")
        await asyncio.sleep(0.5)
    finally:
        second.send_signal(signal.SIGTERM)
        second.wait(20)

    path = session_dir(settings.data_dir, CHANNEL, SESSION) / "events.csv"
    with path.open(newline="") as handle:
        times = [float(row["time"]) for row in csv.DictReader(handle)]
    assert times == [float(t) for t in range(SECONDS)]  # every second, exactly once
    published = [d.message.t for d in await bus.read(EVENTS, channel=CHANNEL, count=1000)]
    assert published == times
    jobs = [d.message for d in await bus.read(CLIP_REQUESTS, count=100)]
    assert len(jobs) == 1 and MOMENT - 2 <= (jobs[0].t or 0) <= MOMENT + 4  # cut, once
    with path.open(newline="") as handle:
        flagged = [float(r["time"]) for r in csv.DictReader(handle) if r["clip_flag"] == "1"]
    assert flagged == [jobs[0].t]


def test_the_checkpoint_module_reads_what_it_wrote(tmp_path: Path) -> None:
    from services.fuser.checkpoint import Checkpoint

    note = Checkpoint("s1", 42, 41, {"a": "1-0"})
    assert Checkpoint.loads(note.dumps()) == note
    assert Checkpoint.loads("not json") is None and Checkpoint.loads(None) is None
