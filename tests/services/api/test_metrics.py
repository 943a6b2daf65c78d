"""`/metrics`: Prometheus text from what Redis holds, on the real api service and a real Redis.

A consumer group that nobody reads (a stopped worker) shows its lag growing scrape after
scrape; reading and acknowledging shows as handled; a broken message shows as a dead letter;
a clip record, a channel lease and the asr worker's stats show as their metrics. Parsed with
prometheus-client's own parser, as Prometheus would read it."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample
from redis.asyncio.cluster import RedisCluster

from services.api import clip_tally
from services.api.clip_tally import LATENCY_BUCKETS, ClipTally, bucket_counts
from services.api.metrics import (
    METRIC_NAMES,
    Snapshot,
    empty_snapshot,
    exposition,
    read_snapshot,
)
from services.clipper.store import save_record
from shared.bus import DATA_FIELD, Bus
from shared.contracts import Clip, Segment
from shared.leases import ChannelLeases
from shared.settings import Settings
from shared.streams import CLIP_INDEX_KEY, DEAD_LETTER_STREAM, SEGMENTS, asr_stats_key, clip_key
from tests.local_cluster import LocalCluster
from tests.services.api.support import AUTH, TOKEN, RunningApi, set_state
from tests.support import wait_until

LAG = "clip_live_consumer_lag_messages"
PENDING = "clip_live_consumer_pending_messages"
HANDLED = "clip_live_messages_handled_total"


def samples(text: str) -> list[Sample]:
    """Every sample of a Prometheus text page (the parser raises on a page that is not)."""
    return [s for family in text_string_to_metric_families(text) for s in family.samples]


def value(found: list[Sample], name: str, **labels: str) -> float | None:
    """The value of the one sample with this name and these labels (others ignored), or None."""
    hits = [s.value for s in found
            if s.name == name and all(s.labels.get(k) == v for k, v in labels.items())]
    assert len(hits) <= 1, (name, labels, hits)
    return hits[0] if hits else None


async def scrape(client: httpx.AsyncClient) -> list[Sample]:
    answer = await client.get("/metrics", headers=AUTH)
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/plain")
    return samples(answer.text)


# ---- Pure: snapshot -> text -------------------------------------------------------------------


def test_a_snapshot_becomes_prometheus_text() -> None:
    streams: dict[str, dict[str, Any]] = {
        "s1": {"length": 9, "groups": {"g": {"lag": 4, "pending": 2, "entries_read": 5}}},
        "s2": {"length": 7, "groups": {"g": {"lag": None, "pending": 0, "entries_read": None,
                                             "last_delivered_id": "5-0"}}},
        "s3": {"length": 2, "groups": {"g": {"lag": 2, "pending": 0, "entries_read": None,
                                             "last_delivered_id": "0-0"}}},
    }
    snap = Snapshot(streams=streams, dead_letters=3, services={"api": 1, "asr": 0},
                    owned={"asr": 2}, clips={"alpha": 2},
                    latency_counts=bucket_counts([12.0, 70.0]), latency_sum=82.0,
                    asr={"alpha": {"lag_s": 1.25, "dropped_s": 6.5}, "beta": {"dropped_s": 0.0}})
    found = samples(exposition(snap).decode())
    assert value(found, LAG, stream="s1", group="g") == 4
    assert value(found, LAG, stream="s2", group="g") == 7  # Redis cannot tell: the length
    assert value(found, PENDING, stream="s1", group="g") == 2
    assert value(found, HANDLED, stream="s1", group="g") == 5
    assert value(found, HANDLED, stream="s2", group="g") is None  # unknown: left out, not 0
    assert value(found, HANDLED, stream="s3", group="g") == 0  # never handed anything
    assert value(found, "clip_live_dead_letters_total") == 3
    assert value(found, "clip_live_asr_lag_seconds", channel="alpha") == 1.25
    assert value(found, "clip_live_asr_lag_seconds", channel="beta") is None
    assert value(found, "clip_live_asr_dropped_audio_seconds_total", channel="alpha") == 6.5
    assert value(found, "clip_live_clips_total", channel="alpha") == 2
    assert value(found, "clip_live_channels_owned", service="asr") == 2
    assert value(found, "clip_live_service_up", service="api") == 1
    assert value(found, "clip_live_service_up", service="asr") == 0
    latency = "clip_live_clip_ready_latency_seconds"
    assert value(found, latency + "_bucket", le="10.0") == 0
    assert value(found, latency + "_bucket", le="15.0") == 1
    assert value(found, latency + "_bucket", le="90.0") == 2
    assert value(found, latency + "_bucket", le="+Inf") == 2
    assert value(found, latency + "_count") == 2 and value(found, latency + "_sum") == 82
    buckets = [s for s in found if s.name == latency + "_bucket"]
    assert len(buckets) == len(LATENCY_BUCKETS) + 1


def test_an_empty_mesh_still_gives_valid_text_with_every_metric_named() -> None:
    text = exposition(empty_snapshot()).decode()
    found = samples(text)
    for name in METRIC_NAMES:  # what the Grafana dashboard is checked against
        assert f"# TYPE {name} " in text, name
    assert value(found, "clip_live_dead_letters_total") == 0
    assert value(found, "clip_live_clip_ready_latency_seconds_count") == 0


def test_latencies_fall_in_the_bucket_whose_bound_they_do_not_pass() -> None:
    counts = bucket_counts([0.0, 5.0, 5.01, 600.0, 601.0])
    assert len(counts) == len(LATENCY_BUCKETS) + 1 and sum(counts) == 5
    assert counts[0] == 2 and counts[1] == 1  # 5.0 is "le 5"; 5.01 is not
    assert counts[-2] == 1 and counts[-1] == 1  # 600 is "le 600"; 601 only "+Inf"
    tally = ClipTally()
    tally.add("a-1", 100.0, [b"alpha", b"70.0", b"100.0"])
    tally.add("a-2", 90.0, [b"alpha", None, b"90.0"])  # no moment: a clip, no latency
    tally.add("gone", 95.0, [None, None, None])  # its record is gone
    tally.add("a-3", 80.0, [b"alpha", b"NaN", b"80.0"])
    assert tally.clips == {"alpha": 3} and sum(tally.counts) == 1 and tally.total_s == 30.0
    assert tally.since == 100.0 and len(tally.seen) == 4


# ---- The real api service ---------------------------------------------------------------------


async def test_lag_grows_while_the_worker_is_stopped_and_reading_shows_as_handled(
    api: RunningApi, client: httpx.AsyncClient, bus: Bus
) -> None:
    await set_state(bus, "alpha")
    stream = SEGMENTS.stream("alpha")
    await bus.ensure_group(stream, "motion")  # the group exists; its worker is stopped

    async def publish(n: int) -> None:
        for seq in range(n):
            await bus.publish(SEGMENTS, Segment(channel="alpha", session="s1", t=seq, dur=1.0,
                                                wall=time.time(), seq=seq, path="/x.ts", size=1),
                              channel="alpha")

    await publish(3)
    first = await scrape(client)
    assert value(first, LAG, stream=stream, group="motion") == 3
    assert value(first, HANDLED, stream=stream, group="motion") == 0
    await publish(4)
    second = await scrape(client)
    assert value(second, LAG, stream=stream, group="motion") == 7  # grew while nobody reads

    # The worker comes back: reads and acknowledges everything, and meets one broken entry.
    await bus.redis.xadd(stream, {DATA_FIELD: "not json"})
    read = await bus.read_group({stream: SEGMENTS}, "motion", "c1")
    assert len(read) == 7  # the broken one went to the dead letters
    after_read = await scrape(client)
    assert value(after_read, PENDING, stream=stream, group="motion") == 7
    for delivery in read:
        await bus.ack(delivery, "motion")
    third = await scrape(client)
    assert value(third, LAG, stream=stream, group="motion") == 0
    assert value(third, PENDING, stream=stream, group="motion") == 0
    assert value(third, HANDLED, stream=stream, group="motion") == 8
    assert value(third, "clip_live_dead_letters_total") == 1
    assert await bus.redis.xlen(DEAD_LETTER_STREAM) == 1


async def test_clips_asr_stats_leases_and_heartbeats_show(
    api: RunningApi, client: httpx.AsyncClient, bus: Bus
) -> None:
    await set_state(bus, "alpha")
    ready = time.time()
    clip = Clip(channel="alpha", clip_id="alpha-clip_1", job_id="job-1", session="s1", t=40.0,
                start=30.0, duration=20.0, video="/v.mp4", captions="/v.srt",
                metadata="/v.json", reason="model", wall=ready)
    record: dict[str, Any] = clip.model_dump(mode="json")
    record["spike_wall"] = ready - 25.0  # what the clipper records beside the Clip
    await save_record(bus.redis, clip, record)
    # What the asr worker writes after each batch (services/asr/service.py note_stats).
    await bus.redis.hset(asr_stats_key("alpha"), mapping={"lag_s": 1.5, "wall": ready})
    await bus.redis.hincrbyfloat(asr_stats_key("alpha"), "dropped_s", 2.5)
    assert await ChannelLeases(bus.redis, "asr", "asr-1", ttl_s=30.0).acquire("alpha")

    async def api_beat() -> bool:
        return value(await scrape(client), "clip_live_service_up", service="api") == 1

    await wait_until(api_beat, 20, "the api's heartbeat")
    found = await scrape(client)
    assert value(found, "clip_live_service_up", service="api") == 1
    assert value(found, "clip_live_service_up", service="asr") == 0  # expected, not running
    assert value(found, "clip_live_channels_owned", service="asr") == 1
    assert value(found, "clip_live_channels_owned", service="fuser") == 0
    assert value(found, "clip_live_clips_total", channel="alpha") == 1
    latency = "clip_live_clip_ready_latency_seconds"
    assert value(found, latency + "_count") == 1
    assert abs((value(found, latency + "_sum") or 0) - 25.0) < 0.01
    assert value(found, latency + "_bucket", le="20.0") == 0
    assert value(found, latency + "_bucket", le="30.0") == 1
    assert value(found, "clip_live_asr_lag_seconds", channel="alpha") == 1.5
    assert value(found, "clip_live_asr_dropped_audio_seconds_total", channel="alpha") == 2.5


async def test_metrics_need_the_token(api: RunningApi, client: httpx.AsyncClient) -> None:
    assert (await client.get("/metrics")).status_code == 401
    wrong = await client.get("/metrics", headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401
    assert (await client.get("/health")).status_code == 200  # health stays open, as before
    by_query = await client.get("/metrics", params={"token": TOKEN})
    assert by_query.status_code == 200
    assert value(samples(by_query.text), "clip_live_dead_letters_total") == 0


# ---- Redis Cluster ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalCluster]:
    with LocalCluster(tmp_path_factory.mktemp("cluster")) as running:
        yield running


@pytest.fixture
async def cbus(cluster: LocalCluster, tmp_path: Path) -> AsyncIterator[Bus]:
    """A bus on a real three-shard cluster, emptied first."""
    bus = await Bus.connect(cluster.url, Settings(redis_url=cluster.url,
                                                  data_dir=tmp_path / "data"))
    await bus.redis.flushall(target_nodes=RedisCluster.PRIMARIES)
    yield bus
    await bus.close()


async def test_the_snapshot_reads_every_shard_of_a_cluster(cbus: Bus) -> None:
    """Channels on different shards: their groups, leases and asr stats are all found."""
    channels = ["alpha", "beta", "gamma", "delta"]
    for channel in channels:
        await set_state(cbus, channel)
        await cbus.ensure_group(SEGMENTS.stream(channel), "motion")
        await cbus.redis.xadd(SEGMENTS.stream(channel), {DATA_FIELD: "{}"})
        await cbus.redis.hset(asr_stats_key(channel), mapping={"lag_s": 0.5, "dropped_s": 1})
        assert await ChannelLeases(cbus.redis, "asr", "a1", ttl_s=30.0).acquire(channel)
    clip = Clip(channel="beta", clip_id="beta-clip_1", job_id="j", session="s1", t=1.0,
                start=0.0, duration=1.0, video="/v.mp4", captions="/v.srt",
                metadata="/v.json", reason="model", wall=time.time())
    await save_record(cbus.redis, clip, {**clip.model_dump(mode="json"),
                                         "spike_wall": clip.wall - 30.0})
    snap = await read_snapshot(cbus, cbus.settings, ClipTally())
    for channel in channels:
        assert snap["streams"][SEGMENTS.stream(channel)]["groups"]["motion"]["lag"] == 1
        assert snap["asr"][channel] == {"lag_s": 0.5, "dropped_s": 1.0}
    assert snap["owned"]["asr"] == len(channels)
    assert snap["clips"] == {"beta": 1} and snap["latency_sum"] == pytest.approx(30.0)
    assert snap["latency_counts"] == bucket_counts([30.0])
    assert samples(exposition(snap).decode())  # and it still writes valid text


async def test_the_clip_tally_reads_only_new_clips_and_recounts_when_some_are_gone(
    bus: Bus,
) -> None:
    async def save(n: int, channel: str = "alpha") -> None:
        wall = 1_000.0 + n
        clip = Clip(channel=channel, clip_id=f"{channel}-clip_{n}", job_id=f"j{n}",
                    session="s1", t=1.0, start=0.0, duration=1.0, video="/v.mp4",
                    captions="/v.srt", metadata="/v.json", reason="model", wall=wall)
        await save_record(bus.redis, clip, {**clip.model_dump(mode="json"),
                                            "spike_wall": wall - 20.0})

    tally = ClipTally()
    await save(1)
    await save(2)
    await clip_tally.update(bus.redis, tally)
    assert tally.clips == {"alpha": 2} and tally.total_s == 40.0
    # A record read once is not read again: change one behind the index's back.
    await bus.redis.hset(clip_key("alpha-clip_1"), "channel", "changed")
    await save(3, "beta")
    await clip_tally.update(bus.redis, tally)
    assert tally.clips == {"alpha": 2, "beta": 1} and sum(tally.counts) == 3
    # The index lost a clip: count everything again, from what Redis holds now.
    await bus.redis.zrem(CLIP_INDEX_KEY, "alpha-clip_2")
    await clip_tally.update(bus.redis, tally)
    assert tally.clips == {"changed": 1, "beta": 1} and sum(tally.counts) == 2
