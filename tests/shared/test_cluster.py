"""The mesh on a real Redis Cluster: three masters on loopback ports, started by the test.

Unit level: names keep one channel on one shard; the bus publishes, reads through groups,
acknowledges, reads back and writes together across channels that live on different shards;
leases and the heartbeat scan work across shards. End to end (marked `e2e`): ingest and the
clipper as their own processes and the api in this process, all on the cluster URL, cut a clip
of a live HLS stream on loopback.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from redis.asyncio import Redis
from redis.asyncio.cluster import RedisCluster

from services.api.clipdata import ClipFilter, list_clips
from services.api.routes_health import stream_lag
from services.clipper.store import save_record
from services.ingest.backlog import channel_streams
from shared.bus import Bus, Delivery
from shared.cluster import by_slot, is_cluster, slot_of, write_order
from shared.contracts import Clip, Heartbeat
from shared.leases import ChannelLeases
from shared.redis_client import connect_redis
from shared.runtime import heartbeats
from shared.settings import Settings
from shared.streams import (
    CHANNELS_KEY,
    CLIP_INDEX_KEY,
    CLIP_REQUESTS,
    CLIPS,
    DEAD_LETTER_STREAM,
    SEGMENTS,
    Topic,
    channel_pattern,
    clip_key,
    fuser_checkpoint_key,
    glob_escape,
    heartbeat_key,
    lease_key,
    pins_key,
)
from tests.local_cluster import LocalCluster
from tests.shared.workers import Note
from tests.support import PYTHON, REPO, child_env, wait_until

PINGS = Topic("pings", Note)
"""A per-channel test topic."""
CLIPS_NOTES = Topic("clip-notes", Note, per_channel=False)
"""A global test topic (a slot of its own)."""


# ---- Names (pure) -----------------------------------------------------------------------------


def test_one_channels_names_share_a_slot_and_global_ones_have_their_own() -> None:
    names = [PINGS.stream("alpha"), SEGMENTS.stream("alpha"), pins_key("alpha"),
             fuser_checkpoint_key("alpha"), lease_key("fuser", "alpha")]
    assert {slot_of(n) for n in names} == {slot_of("{alpha}")}
    assert SEGMENTS.stream("alpha") == "clip-live:ch:{alpha}:segments"
    assert slot_of(clip_key("x-1")) == slot_of(CLIP_INDEX_KEY)  # written in one MULTI
    assert CLIP_REQUESTS.stream() == "clip-live:{clip-requests}"
    assert DEAD_LETTER_STREAM == "clip-live:{dead-letter}"
    assert CHANNELS_KEY == "clip-live:{channels}"


def test_grouping_by_slot_and_the_order_of_writes() -> None:
    names = [PINGS.stream("a"), CLIPS.stream(), PINGS.stream("b"), fuser_checkpoint_key("a")]
    assert by_slot(names) == [[names[0], names[3]], [names[1]], [names[2]]]
    # The group holding the note of how far we got goes last.
    assert write_order(names, last=[names[3]]) == [[1], [2], [0, 3]]


def test_glob_escape_keeps_special_characters_literal() -> None:
    assert glob_escape("a*b?c[d]e\\f{g}") == "a\\*b\\?c\\[d\\]e\\\\f{g}"
    assert channel_pattern("alpha") == "clip-live:ch:{alpha}:*"


async def test_scan_pattern_finds_braced_names_on_plain_redis(redis_client: Redis) -> None:
    await redis_client.set(PINGS.stream("alpha"), "1")
    await redis_client.set(PINGS.stream("alpha2"), "1")
    found = [k async for k in redis_client.scan_iter(match=channel_pattern("alpha"))]
    assert found == [PINGS.stream("alpha").encode()]


async def test_plain_redis_gets_the_plain_client(settings: Settings) -> None:
    assert settings.redis_url
    client = await connect_redis(settings.redis_url, settings)
    try:
        assert isinstance(client, Redis) and not is_cluster(client)
    finally:
        await client.aclose()


# ---- On a real cluster ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalCluster]:
    with LocalCluster(tmp_path_factory.mktemp("cluster")) as running:
        yield running


@pytest.fixture
def cluster_settings(cluster: LocalCluster, tmp_path: Path) -> Settings:
    return Settings(redis_url=cluster.url, data_dir=tmp_path / "data", claim_idle_ms=300,
                    read_block_ms=100, heartbeat_interval_s=0.2, heartbeat_ttl_s=1.0,
                    lease_ttl_s=1.0)


@pytest.fixture
async def cbus(cluster_settings: Settings) -> AsyncIterator[Bus]:
    """A bus on the cluster, emptied first."""
    assert cluster_settings.redis_url
    bus = await Bus.connect(cluster_settings.redis_url, cluster_settings)
    await bus.redis.flushall(target_nodes=RedisCluster.PRIMARIES)  # type: ignore[call-arg]
    yield bus
    await bus.close()


def _port_of(bus: Bus, key: str) -> int:
    node = bus.redis.get_node_from_key(key)  # type: ignore[attr-defined]
    return int(node.port)


async def _spread_channels(bus: Bus, count: int = 3) -> list[str]:
    """Channels whose keys live on `count` different shards (checked with the server's own
    CLUSTER KEYSLOT)."""
    found: dict[int, str] = {}
    for i in range(200):
        channel = f"ch{i}"
        found.setdefault(_port_of(bus, PINGS.stream(channel)), channel)
        if len(found) == count:
            break
    channels = list(found.values())
    assert len(channels) == count
    for channel in channels:
        slot = await bus.redis.cluster_keyslot(PINGS.stream(channel))  # type: ignore[attr-defined]
        assert slot == slot_of(PINGS.stream(channel)) == slot_of(pins_key(channel))
    return channels


async def test_connect_finds_the_cluster(cbus: Bus) -> None:
    assert is_cluster(cbus.redis) and is_cluster(cbus.writer())
    assert len(cbus.redis.get_primaries()) == 3  # type: ignore[attr-defined]


async def test_publish_read_group_ack_and_read_back_across_shards(cbus: Bus) -> None:
    channels = await _spread_channels(cbus)
    assert len({_port_of(cbus, PINGS.stream(c)) for c in channels}) == 3
    for n, channel in enumerate(channels):
        await cbus.publish_many(PINGS, [(Note(n=10 * n + i), None) for i in range(3)],
                                channel=channel)
    streams = {PINGS.stream(c): PINGS for c in channels}
    seen: list[int] = []
    stop = asyncio.Event()

    async def handle(delivery: Delivery[Note]) -> None:
        seen.append(delivery.message.n)

    consumer = asyncio.create_task(cbus.consume(streams, "g", "c1", handle, stop))
    try:
        await wait_until(lambda: len(seen) == 9, 20, "nine notes over three shards")
        assert sorted(seen) == [0, 1, 2, 10, 11, 12, 20, 21, 22]
        await cbus.publish(PINGS, Note(n=99), channel=channels[2])  # while it blocks
        await wait_until(lambda: 99 in seen, 20, "a note published while reading")
        for stream in streams:  # every message acknowledged
            await wait_until(lambda s=stream: _no_pending(cbus, s), 10, f"acks on {stream}")
    finally:
        stop.set()
        await consumer
    back = await cbus.read_back(PINGS, channel=channels[1], count=2)
    assert [d.message.n for d in back] == [12, 11]
    found, last = await cbus.read_streams({PINGS.stream(c): (PINGS, "0") for c in channels},
                                          count=10)
    assert len(found) == 10 and set(last) == set(streams)


async def _no_pending(bus: Bus, stream: str) -> bool:
    summary: Any = await bus.redis.xpending(stream, "g")
    return int(summary["pending"]) == 0


async def test_a_blocking_read_over_shards_wakes_for_a_late_message(cbus: Bus) -> None:
    channels = await _spread_channels(cbus)
    streams = {PINGS.stream(c): (PINGS, "$") for c in channels}

    async def late() -> None:
        await asyncio.sleep(0.3)
        await cbus.publish(PINGS, Note(n=5), channel=channels[1])

    sender = asyncio.create_task(late())
    found, last = await cbus.read_streams(streams, count=10, block_ms=8000)
    await sender
    assert [d.message.n for d in found] == [5]
    assert list(last) == [PINGS.stream(channels[1])]
    nothing, _ = await cbus.read_streams(
        {PINGS.stream(c): (PINGS, "$") for c in channels}, count=10, block_ms=200)
    assert nothing == []


async def test_publish_together_over_shards_writes_everything_note_last(cbus: Bus) -> None:
    channels = await _spread_channels(cbus)
    a, b = channels[0], channels[1]
    note_key = fuser_checkpoint_key(a)
    await cbus.publish_together(
        [(PINGS, Note(n=1), a), (PINGS, Note(n=2), b), (CLIPS_NOTES, Note(n=3), None)],
        {note_key: "done"})
    assert [d.message.n for d in await cbus.read(PINGS, channel=a)] == [1]
    assert [d.message.n for d in await cbus.read(PINGS, channel=b)] == [2]
    assert [d.message.n for d in await cbus.read(CLIPS_NOTES)] == [3]
    assert await cbus.redis.get(note_key) == b"done"
    # One channel's outputs and its note share a slot: one MULTI, as on plain Redis.
    await cbus.publish_together([(PINGS, Note(n=4), a)], {note_key: "again"})
    assert await cbus.redis.get(note_key) == b"again"


async def test_invalid_messages_go_to_the_dead_letter_stream(cbus: Bus) -> None:
    channels = await _spread_channels(cbus, 2)
    for channel in channels:
        await cbus.redis.xadd(PINGS.stream(channel), {"data": "not json"})
    streams = {PINGS.stream(c): PINGS for c in channels}
    await cbus.ensure_group(PINGS.stream(channels[0]), "g")
    await cbus.ensure_group(PINGS.stream(channels[1]), "g")
    assert await cbus.read_group(streams, "g", "c1") == []
    assert len(await cbus.dead_letters()) == 2
    assert await cbus.read_mine(streams, "g", "c1") == []  # buried ones were acknowledged


async def test_leases_and_heartbeats_across_shards(cbus: Bus) -> None:
    channels = await _spread_channels(cbus)
    assert len({_port_of(cbus, lease_key("fuser", c)) for c in channels}) == 3
    a = ChannelLeases(cbus.redis, "fuser", "a", ttl_s=5.0)
    b = ChannelLeases(cbus.redis, "fuser", "b", ttl_s=5.0)
    for channel in channels:
        assert await a.acquire(channel)
        assert not await b.acquire(channel)
        assert await a.renew(channel)
    await a.release(channels[0])
    assert await b.acquire(channels[0])

    instances = [f"i{n}" for n in range(12)]
    assert len({_port_of(cbus, heartbeat_key("svc", i)) for i in instances}) == 3
    for instance in instances:
        beat = Heartbeat(service="svc", instance=instance, pid=1, host="h", started=1.0,
                         wall=time.time())
        await cbus.redis.set(heartbeat_key("svc", instance), beat.model_dump_json(), px=5000)
    assert sorted(h.instance for h in await heartbeats(cbus.redis)) == sorted(instances)


async def test_channel_scan_clip_record_and_health_pipelines(cbus: Bus) -> None:
    channels = await _spread_channels(cbus)
    for channel in channels:
        await cbus.publish(PINGS, Note(n=1), channel=channel)
        await cbus.redis.zadd(pins_key(channel), {"job": 1.0})
    assert await channel_streams(cbus.redis, channels[0]) == [PINGS.stream(channels[0])]

    clip = Clip(channel=channels[0], clip_id=f"{channels[0]}-x", job_id="job-x", session="s1",
                t=20.0, start=10.0, duration=1.0, video="/v.mp4", captions="/v.srt",
                metadata="/v.json", reason="model", wall=time.time())
    await save_record(cbus.redis, clip, clip.model_dump(mode="json"))
    total, listed = await list_clips(cbus.redis, ClipFilter(), 0, 10)
    assert total == 1 and listed[0].clip_id == clip.clip_id

    for channel in channels:
        await cbus.redis.xadd(SEGMENTS.stream(channel), {"data": "{}"})
        await cbus.ensure_group(SEGMENTS.stream(channel), "g")
    lag = await stream_lag(cbus.redis, channels)  # one pipeline over every shard
    for channel in channels:
        assert lag[SEGMENTS.stream(channel)]["length"] == 1
        assert set(lag[SEGMENTS.stream(channel)]["groups"]) == {"g"}


# ---- End to end -------------------------------------------------------------------------------


@pytest.mark.e2e
@pytest.mark.timeout(240)
async def test_the_mesh_cuts_a_clip_on_the_cluster(
    cbus: Bus, cluster_settings: Settings, tmp_path: Path
) -> None:
    from launcher.live_hls import LiveHls
    from tests.services.api.support import AUTH, api_settings, running_api

    settings = cluster_settings
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    spread = [SEGMENTS.stream("e2e"), CLIP_REQUESTS.stream(), CLIPS.stream()]
    assert len({_port_of(cbus, key) for key in spread}) == 3  # the mesh spans every shard
    hls = LiveHls(tmp_path / "hls")
    hls.start()
    try:
        with _services(settings, "ingest", "clipper"):
            async with running_api(api_settings(settings, api_allow_private_sources=True)) \
                    as api, httpx.AsyncClient(base_url=api.url, timeout=30) as http:
                started = await http.post("/api/channels", headers=AUTH,
                                          json={"url": hls.url, "channel": "e2e"})
                assert started.status_code == 202, started.text

                async def two_segments() -> bool:
                    return len(await cbus.read(SEGMENTS, channel="e2e")) >= 2

                await wait_until(two_segments, 90, "two segments from ingest")
                asked = await http.post("/api/channels/e2e/clip", headers=AUTH,
                                        json={"pre": 2, "post": 2})
                assert asked.status_code == 202, asked.text
                job = asked.json()["job_id"]

                async def clips() -> list[Delivery[Clip]]:
                    return [d for d in await cbus.read(CLIPS) if d.message.job_id == job]

                [made] = await wait_until(clips, 120, "the clip of the job")
                video = Path(made.message.video)
                assert video.is_file() and video.stat().st_size > 0
                assert video.read_bytes()[4:8] == b"ftyp"
                await asyncio.sleep(2.0)  # a second cut would show by now
                assert len(await clips()) == 1
                total, listed = await list_clips(cbus.redis, ClipFilter(), 0, 10)
                assert total == 1 and listed[0].clip_id == made.message.clip_id
                health = (await http.get("/health", headers=AUTH)).json()
                assert {"api", "ingest", "clipper"} <= {s["service"]
                                                          for s in health["services"]}
    finally:
        hls.stop()


class _services:
    """Run `python -m services.<name>` for each name against the cluster; stop them after."""

    def __init__(self, settings: Settings, *names: str) -> None:
        self.settings = settings
        self.names = names
        self.procs: list[Any] = []

    def __enter__(self) -> None:
        import subprocess

        env = child_env(
            CLIP_LIVE_REDIS_URL=str(self.settings.redis_url),
            CLIP_LIVE_DATA_DIR=str(self.settings.data_dir), CLIP_LIVE_READ_BLOCK_MS="100",
            CLIP_LIVE_CLAIM_IDLE_MS="2000", CLIP_LIVE_INGEST_HLS_VIA="ffmpeg",
            CLIP_LIVE_CLIP_WAIT_EXTRA_S="20", OPENBLAS_NUM_THREADS="1")
        for name in self.names:
            log = (self.settings.data_dir.parent / f"{name}.log").open("wb")
            self.procs.append(subprocess.Popen(
                [PYTHON, "-m", f"services.{name}"], cwd=REPO, env=env,
                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT))

    def __exit__(self, *exc: object) -> None:
        import subprocess

        for proc in self.procs:
            proc.terminate()
        for proc in self.procs:
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
