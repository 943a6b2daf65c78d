"""The mesh's numbers for Prometheus, read from Redis on each scrape.

Two parts:
- `read_snapshot(bus, settings, tally)` asks Redis (through the app's own bus) for everything
  in one plain dict, a `Snapshot`.
- `families(snapshot)` turns that dict into Prometheus metric families, and `exposition`
  writes them in Prometheus's text format. Both are pure: no Redis, no asyncio.

Every number comes from Redis, so any API copy answers the same, and a restart of the API
loses nothing: the counters are Redis's own (`entries-read` of a consumer group, the length of
the dead-letter stream, the clip index, the asr worker's running total). The API only keeps a
tally of the clips it has read already, so it does not read them again (`clip_tally.py`).

The names (a Grafana dashboard in `deploy/` uses them):
- `clip_live_consumer_lag_messages{stream,group}`: entries not yet handed to the group
  (`lag` of XINFO GROUPS). When Redis cannot tell (it says nil after entries were deleted
  inside the stream) we show the stream's length: an upper bound, so a stuck reader is never
  hidden behind a 0.
- `clip_live_consumer_pending_messages{stream,group}`: handed out, not yet acknowledged.
- `clip_live_messages_handled_total{stream,group}`: entries handed to the group in all
  (`entries-read`); 0 for a group that was never handed anything; left out when Redis cannot
  tell.
- `clip_live_dead_letters_total`: entries in the dead-letter stream.
- `clip_live_asr_lag_seconds{channel}`: how old the newest audio the asr worker heard was.
- `clip_live_asr_dropped_audio_seconds_total{channel}`: audio asr skipped to keep up.
- `clip_live_clips_total{channel}`: clips in the clip index (see `clip_tally.py`).
- `clip_live_clip_ready_latency_seconds`: a histogram, per clip, of the time from its moment
  (the spike's wall time) to its file being ready (the clip record's `wall`).
- `clip_live_channels_owned{service}`: channel leases held, per service.
- `clip_live_service_up{service}`: live heartbeats (worker copies), per service; 0 for an
  expected service with none.
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any, TypedDict

from prometheus_client import generate_latest
from prometheus_client.metrics_core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector, CollectorRegistry
from prometheus_client.utils import floatToGoString

from services.api import clip_tally
from services.api.clip_tally import LATENCY_BUCKETS, ClipTally, bucket_counts, number
from services.api.routes_health import stream_lag
from services.wiring import SERVICES, WORKERS
from shared.bus import Bus
from shared.settings import Settings
from shared.status import gather_status
from shared.streams import LEASE_PATTERN, asr_stats_key, lease_service
from shared.text import as_text

METRIC_NAMES = (
    "clip_live_consumer_lag_messages",
    "clip_live_consumer_pending_messages",
    "clip_live_messages_handled_total",
    "clip_live_dead_letters_total",
    "clip_live_asr_lag_seconds",
    "clip_live_asr_dropped_audio_seconds_total",
    "clip_live_clips_total",
    "clip_live_clip_ready_latency_seconds",
    "clip_live_channels_owned",
    "clip_live_service_up",
)
"""Every metric `/metrics` serves, as Prometheus names them (a histogram by its base name).
The Grafana dashboard's test checks its queries against this list."""


class Snapshot(TypedDict):
    """What Redis holds, as plain data (what `families` turns into metrics)."""

    streams: dict[str, dict[str, Any]]
    """Per stream, `stream_lag`'s answer: `length` and per group `lag`, `pending`,
    `entries_read` (each None when Redis cannot tell)."""
    dead_letters: int
    services: dict[str, int]
    """Service -> its live heartbeats (0 for an expected service with none)."""
    owned: dict[str, int]
    """Service -> the channel leases it holds (0 for a channel owner with none)."""
    asr: dict[str, dict[str, float]]
    """Channel -> `lag_s` and `dropped_s`, as the asr worker last wrote them (either may be
    missing)."""
    clips: dict[str, int]
    """Channel -> its clips in the index."""
    latency_counts: list[int]
    """Clips per `LATENCY_BUCKETS` bucket of seconds from the moment to the clip file (not
    summed up; the last: above every bound), for clips that record both times."""
    latency_sum: float


def empty_snapshot() -> Snapshot:
    return Snapshot(streams={}, dead_letters=0, services={}, owned={}, asr={}, clips={},
                    latency_counts=bucket_counts([]), latency_sum=0.0)


# ---- Pure: snapshot -> metric families --------------------------------------------------------


def families(snap: Snapshot) -> list[Metric]:
    """Every metric family of the snapshot, in a steady order."""
    lag = GaugeMetricFamily(
        "clip_live_consumer_lag_messages",
        "Entries not yet handed to the consumer group (the stream's length when Redis cannot "
        "tell).", labels=["stream", "group"])
    pending = GaugeMetricFamily(
        "clip_live_consumer_pending_messages",
        "Entries handed to the consumer group but not yet acknowledged.",
        labels=["stream", "group"])
    handled = CounterMetricFamily(
        "clip_live_messages_handled_total", "Entries handed to the consumer group in all.",
        labels=["stream", "group"])
    for stream, info in sorted(snap["streams"].items()):
        for group, g in sorted(info.get("groups", {}).items()):
            labels = [stream, group]
            lag.add_metric(labels, group_lag(g, int(info.get("length") or 0)))
            pending.add_metric(labels, int(g.get("pending") or 0))
            read = group_handled(g)
            if read is not None:
                handled.add_metric(labels, read)
    dead = CounterMetricFamily("clip_live_dead_letters_total",
                               "Messages that failed too often and went to the dead-letter "
                               "stream.", value=snap["dead_letters"])
    asr_lag = GaugeMetricFamily("clip_live_asr_lag_seconds",
                                "How old the newest audio the asr worker heard was.",
                                labels=["channel"])
    asr_dropped = CounterMetricFamily("clip_live_asr_dropped_audio_seconds_total",
                                      "Audio the asr worker skipped to keep up with live.",
                                      labels=["channel"])
    for channel, stats in sorted(snap["asr"].items()):
        if "lag_s" in stats:
            asr_lag.add_metric([channel], stats["lag_s"])
        if "dropped_s" in stats:
            asr_dropped.add_metric([channel], stats["dropped_s"])
    clips = CounterMetricFamily("clip_live_clips_total", "Clips cut.", labels=["channel"])
    for channel, count in sorted(snap["clips"].items()):
        clips.add_metric([channel], count)
    latency = HistogramMetricFamily(
        "clip_live_clip_ready_latency_seconds",
        "Seconds from a clip's moment (the spike) to its file being ready.",
        buckets=histogram_buckets(snap["latency_counts"]), sum_value=snap["latency_sum"])
    return [lag, pending, handled, dead, asr_lag, asr_dropped, clips, latency,
            _per_service("clip_live_channels_owned", "Channel leases held.", snap["owned"]),
            _per_service("clip_live_service_up", "Live heartbeats (worker copies running).",
                         snap["services"])]


def group_lag(group: dict[str, Any], length: int) -> int:
    """The group's `lag`; when Redis cannot tell (None), the stream's length: an upper bound."""
    lag = group.get("lag")
    return length if lag is None else int(lag)


def group_handled(group: dict[str, Any]) -> int | None:
    """Entries handed to the group in all (`entries_read`). Redis does not say it for a group
    made at id 0 that read nothing yet: that is 0 (nothing was ever handed out). Else None."""
    read = group.get("entries_read")
    if read is None and group.get("last_delivered_id") in ("0-0", "0"):
        return 0
    return None if read is None else int(read)


def histogram_buckets(counts: Sequence[int]) -> list[tuple[str, float]]:
    """Prometheus histogram buckets from per-bucket counts (see `bucket_counts`): for each
    bound of `LATENCY_BUCKETS`, how many are at or below it, then `+Inf` with all of them."""
    summed = list(itertools.accumulate(counts))
    bounds = [floatToGoString(bound) for bound in LATENCY_BUCKETS] + ["+Inf"]
    return [(le, float(n)) for le, n in zip(bounds, summed, strict=True)]


def _per_service(name: str, doc: str, counts: dict[str, int]) -> GaugeMetricFamily:
    family = GaugeMetricFamily(name, doc, labels=["service"])
    for service, count in sorted(counts.items()):
        family.add_metric([service], count)
    return family


class SnapshotCollector(Collector):
    """A collector that yields one snapshot's families (a fresh one is made per scrape)."""

    def __init__(self, snap: Snapshot) -> None:
        self.snap = snap

    def collect(self) -> Iterable[Metric]:
        return families(self.snap)


def exposition(snap: Snapshot) -> bytes:
    """The snapshot in Prometheus's text format."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(SnapshotCollector(snap))
    return generate_latest(registry)


def asr_stats(raw: Sequence[Any]) -> dict[str, float]:
    """The asr worker's `lag_s` and `dropped_s`, from an HMGET of those two fields."""
    found = {name: number(value) for name, value in zip(("lag_s", "dropped_s"), raw,
                                                         strict=False)}
    return {name: value for name, value in found.items() if value is not None}


# ---- Reading Redis ----------------------------------------------------------------------------


async def read_snapshot(bus: Bus, settings: Settings, tally: ClipTally) -> Snapshot:
    """Everything `/metrics` shows, read through the app's own bus: heartbeats, channels and
    dead letters (as `/health` reads them), consumer groups, leases, asr stats, and clips
    (only the new ones: `tally` holds what the last scrapes counted)."""
    redis = bus.redis
    status = await gather_status(bus, settings.redis_url or "", settings.data_dir, SERVICES)
    channels = sorted(status["channels"])
    snap = empty_snapshot()
    snap["dead_letters"] = int(status["dead_letters"])
    beats = Counter(str(beat["service"]) for beat in status["services"])
    snap["services"] = {name: beats[name] for name in [*status["missing"], *beats]}
    snap["streams"] = await stream_lag(redis, channels)
    owned = {worker.name: 0 for worker in WORKERS if worker.shape == "channels"}
    async for key in redis.scan_iter(match=LEASE_PATTERN, count=500):
        service = lease_service(as_text(key))
        owned[service] = owned.get(service, 0) + 1
    snap["owned"] = owned
    async with redis.pipeline(transaction=False) as pipe:
        for channel in channels:
            pipe.hmget(asr_stats_key(channel), ["lag_s", "dropped_s"])
        replies = await pipe.execute()
    stats = {c: asr_stats(r) for c, r in zip(channels, replies, strict=True)}
    snap["asr"] = {channel: found for channel, found in stats.items() if found}
    await clip_tally.update(redis, tally)
    snap["clips"] = dict(tally.clips)
    snap["latency_counts"], snap["latency_sum"] = list(tally.counts), tally.total_s
    return snap
