"""Two ingest replicas as real processes: one runs the channel, the other takes over when the
first one is killed, and the stream clock goes on across the change."""

from __future__ import annotations

import asyncio
import signal
import socket
import subprocess
from pathlib import Path

import pytest

from launcher.live_hls import LiveHls
from shared.bus import Bus
from shared.leases import ChannelLeases
from shared.settings import Settings
from shared.streams import GAPS, HEARTBEAT_PATTERN
from tests.services.ingest.support import (
    audio,
    check_contiguous,
    command,
    ingest_ffmpegs,
    messages,
    runs,
    segments,
    wait_until,
)
from tests.support import PYTHON, child_env


@pytest.mark.timeout(90)
async def test_two_replicas_run_a_channel_once_and_hand_it_over(
    live_hls: LiveHls, settings: Settings, bus: Bus, tmp_path: Path
) -> None:
    assert settings.redis_url
    env = child_env(
        CLIP_LIVE_REDIS_URL=settings.redis_url, CLIP_LIVE_DATA_DIR=str(settings.data_dir),
        CLIP_LIVE_LEASE_TTL_S="1", CLIP_LIVE_STALL_TIMEOUT_S="3", CLIP_LIVE_RECONNECT_MIN_S="0.3",
        CLIP_LIVE_RECONNECT_MAX_S="1", CLIP_LIVE_HEARTBEAT_INTERVAL_S="0.5",
        CLIP_LIVE_HEARTBEAT_TTL_S="3",
    )
    logs = [(tmp_path / f"ingest{i}.log").open("wb") for i in range(2)]
    procs = [subprocess.Popen([PYTHON, "-m", "services.ingest"], env=env, cwd=tmp_path,
                              stdin=subprocess.DEVNULL, stdout=log, stderr=log) for log in logs]
    by_name = {f"{socket.gethostname()}-{p.pid}": p for p in procs}
    leases = ChannelLeases(bus.redis, "ingest", "test", 1.0)
    try:
        async def both_alive() -> bool:
            return len([k async for k in bus.redis.scan_iter(match=HEARTBEAT_PATTERN)]) == 2

        await wait_until(both_alive, 20, "two ingest replicas")
        await command(bus, "rep", "start", live_hls.url)

        async def segs_at_least(n: int) -> bool:
            return len(await segments(bus, "rep")) >= n

        await wait_until(lambda: segs_at_least(3), 30, "3 segments")
        owner = await leases.owner("rep")
        assert owner in by_name
        # Only the owner runs the channel: one FFmpeg, and it is the owner's.
        for _ in range(10):
            found = ingest_ffmpegs(settings.data_dir)
            assert [f.ppid() for f in found] == [by_name[owner].pid]
            await asyncio.sleep(0.2)

        by_name[owner].send_signal(signal.SIGKILL)
        by_name[owner].wait(5)
        other = next(name for name in by_name if name != owner)

        async def taken_over() -> bool:
            return await leases.owner("rep") == other

        await wait_until(taken_over, 5, "the other replica to take the lease")
        before = len(await segments(bus, "rep"))
        await wait_until(lambda: segs_at_least(before + 2), 30, "segments from the new owner")

        async def only_new_owner_ffmpeg() -> bool:
            return [f.ppid() for f in ingest_ffmpegs(settings.data_dir)] == [by_name[other].pid]

        await wait_until(only_new_owner_ffmpeg, 10, "the killed owner's FFmpeg to be gone")
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in procs:
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        for log in logs:
            log.close()
    assert by_name[other].returncode == 0, (tmp_path / "ingest0.log").read_text()[-2000:]
    assert not ingest_ffmpegs(settings.data_dir)

    # The session went on with one clock: a gap where the owner died, then more media.
    gaps = await messages(bus, GAPS, "rep")
    assert len(gaps) == 1 and "ingest restarted" in gaps[0].reason
    assert gaps[0].by == "ingest" and gaps[0].cause == "restart"
    connections = runs(await audio(bus, "rep"))
    assert len(connections) == 2
    for run in connections:
        check_contiguous(run)
    assert connections[1][0].t == pytest.approx(gaps[0].t + gaps[0].dur, abs=1e-3)
    segs = await segments(bus, "rep")
    seqs = [s.seq for s in segs]
    assert seqs == sorted(set(seqs)), "segment numbers never repeat"
    assert len({s.session for s in segs}) == 1
