"""END-TO-END (marked `e2e`): two `clip-live node` processes on one Redis watch three live
streams. The channels spread over both nodes; then one node dies whole (SIGKILL to it and every
process it started, as when a machine goes down). Its channels go on on the other node within a
lease time, no second of events.csv is missing or written twice, and every clip job asked for,
before and after the death, is cut exactly once."""

from __future__ import annotations

import asyncio
import contextlib
import csv
import signal
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from launcher.live_hls import LiveHls
from services.fuser.events_log import session_dir
from shared.bus import Bus
from shared.contracts import ClipRequest
from shared.leases import ChannelLeases
from shared.settings import Settings
from shared.streams import CLIP_REQUESTS, CLIPS, EVENTS
from tests.services.ingest.support import command, state_of
from tests.support import PYTHON, REPO, child_env, wait_until

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(300)]

CHANNELS = ("north", "south", "west")
SERVICES = "ingest,audio_features,fuser,clipper"
OWNERS = ("ingest", "fuser")  # the channel-owning workers a node runs here
LEASE_TTL_S = 2.0


@contextlib.contextmanager
def streams(folder: Path) -> Iterator[dict[str, LiveHls]]:
    """Three small live HLS streams, each with a tone of its own."""
    made = {name: LiveHls(folder / name, size="320x180", rate=15, tone_hz=300 + 100 * i)
            for i, name in enumerate(CHANNELS)}
    try:
        for hls in made.values():
            hls.start()
        yield made
    finally:
        for hls in made.values():
            hls.stop()


def start_node(settings: Settings, log: Path) -> subprocess.Popen[bytes]:
    env = child_env(
        CLIP_LIVE_DATA_DIR=str(settings.data_dir), CLIP_LIVE_READ_BLOCK_MS="100",
        CLIP_LIVE_CLAIM_IDLE_MS="3000", CLIP_LIVE_LEASE_TTL_S=str(LEASE_TTL_S),
        CLIP_LIVE_HEARTBEAT_INTERVAL_S="0.5", CLIP_LIVE_HEARTBEAT_TTL_S="2",
        CLIP_LIVE_INGEST_HLS_VIA="ffmpeg", CLIP_LIVE_STALL_TIMEOUT_S="4",
        CLIP_LIVE_RECONNECT_MIN_S="0.3", CLIP_LIVE_RECONNECT_MAX_S="1",
        CLIP_LIVE_CLIP_WAIT_EXTRA_S="20", OPENBLAS_NUM_THREADS="1")
    return subprocess.Popen(
        [PYTHON, str(REPO / "clip_live.py"), "node", "--redis", str(settings.redis_url),
         "--services", SERVICES], env=env, cwd=REPO, stdin=subprocess.DEVNULL,
        stdout=log.open("wb"), stderr=subprocess.STDOUT)


def instances(node: subprocess.Popen[bytes]) -> set[str]:
    """The instance names (host-pid) of the services a node started."""
    host = socket.gethostname()
    return {f"{host}-{child.pid}" for child in psutil.Process(node.pid).children()}


def kill_whole(node: subprocess.Popen[bytes]) -> None:
    """SIGKILL the node and everything it started, at once."""
    tree = [psutil.Process(node.pid), *psutil.Process(node.pid).children(recursive=True)]
    for proc in tree:
        with contextlib.suppress(psutil.Error):
            proc.send_signal(signal.SIGKILL)
    node.wait(10)


async def owners(bus: Bus, service: str) -> dict[str, str | None]:
    leases = ChannelLeases(bus.redis, service, "test", LEASE_TTL_S)
    return {channel: await leases.owner(channel) for channel in CHANNELS}


async def ask_clips(bus: Bus) -> list[str]:
    """One clip job per channel, of the last moments; returns the job ids."""
    jobs = []
    for channel in CHANNELS:
        state = await state_of(bus, channel)
        assert state is not None
        job = ClipRequest(channel=channel, job_id=uuid.uuid4().hex[:12], session=state.session,
                          pre=3.0, post=3.0, wall=time.time())
        await bus.publish(CLIP_REQUESTS, job)
        jobs.append(job.job_id)
    return jobs


def event_times(settings: Settings, channel: str, session: str) -> list[float]:
    path = session_dir(settings.data_dir, channel, session) / "events.csv"
    with path.open(newline="") as handle:
        return [float(row["time"]) for row in csv.DictReader(handle)]


async def test_two_nodes_share_three_channels_and_one_takes_over_when_the_other_dies(
    settings: Settings, bus: Bus, tmp_path: Path
) -> None:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    nodes = [start_node(settings, tmp_path / f"node{i}.log") for i in range(2)]
    try:
        with streams(tmp_path / "hls") as live:
            await wait_until(lambda: all(len(instances(n)) == 4 for n in nodes), 30,
                             "both nodes to start their four services")
            for channel, hls in live.items():
                await command(bus, channel, "start", hls.url)

            async def rows_everywhere() -> bool:
                lengths = [await bus.redis.xlen(EVENTS.stream(c)) for c in CHANNELS]
                return min(lengths) >= 3
            await wait_until(rows_everywhere, 90, "events rows on every channel")

            # The channels spread over the two nodes.
            mine = [instances(n) for n in nodes]
            for service in OWNERS:
                held = await owners(bus, service)
                per_node = [sum(1 for o in held.values() if o in m) for m in mine]
                assert sorted(per_node) == [1, 2], (service, held)
            before = await ask_clips(bus)
            await asyncio.sleep(2.0)

            ingest_owners = set((await owners(bus, "ingest")).values())
            victim = next(i for i, m in enumerate(mine) if ingest_owners & m)
            survivor = mine[1 - victim]
            kill_whole(nodes[victim])
            killed_at = time.monotonic()

            async def all_on_survivor() -> bool:
                for service in OWNERS:
                    if not all(o in survivor for o in (await owners(bus, service)).values()):
                        return False
                return True
            await wait_until(all_on_survivor, 30, "the survivor to own every channel")
            took = time.monotonic() - killed_at
            after = await ask_clips(bus)

            async def clips_done() -> bool:
                done = {d.message.job_id for d in await bus.read(CLIPS, count=1000)}
                return set(before + after) <= done
            await wait_until(clips_done, 150, "every clip job to be cut")
            # Time for a clip cut twice, or a second written twice, to show.
            rows_now = {c: await bus.redis.xlen(EVENTS.stream(c)) for c in CHANNELS}

            async def more_rows() -> bool:
                now = {c: await bus.redis.xlen(EVENTS.stream(c)) for c in CHANNELS}
                return all(now[c] >= rows_now[c] + 5 for c in CHANNELS)
            await wait_until(more_rows, 60, "more events rows after the clips")
    finally:
        for node in nodes:
            if node.poll() is None:
                node.send_signal(signal.SIGTERM)
        for node in nodes:
            try:
                node.wait(30)
            except subprocess.TimeoutExpired:
                kill_whole(node)
    print(f"the survivor owned every channel {took:.1f} s after the kill")
    assert took <= LEASE_TTL_S + 2.0 + 3.0  # the lease time, a heartbeat time, some slack

    clips = [d.message for d in await bus.read(CLIPS, count=1000)]
    for job in before + after:
        cut = [c for c in clips if c.job_id == job]
        assert len(cut) == 1, f"job {job} was cut {len(cut)} times"
        assert Path(cut[0].video).is_file() and Path(cut[0].video).stat().st_size > 0
    for channel in CHANNELS:
        state = await state_of(bus, channel)
        assert state is not None
        times = event_times(settings, channel, state.session)
        assert times == [times[0] + i for i in range(len(times))], channel  # none missing
        published = [d.message.t for d in await bus.read(EVENTS, channel=channel, count=10_000)]
        assert len(published) == len(set(published)), channel  # none written twice
