"""KEDA ScaledObjects for the stateless ("group") workers, built from their declarations. Pure.

Each one scales a worker's Deployment on how far its consumer group is behind: KEDA's
redis-streams scaler with `lagCount`, the entries of a stream not yet handed to the group
(`XINFO GROUPS`, Redis 7 or newer).

That scaler watches one named stream per trigger. So:
- a worker that reads a global stream (the clipper: `clip-live:{clip-requests}`) gets one
  trigger on it, in the base;
- a worker that reads per-channel streams (audio_features, motion, semantic) needs one
  trigger per watched channel, and the base cannot know your channels. In the base such a
  worker scales on CPU (KEDA's cpu scaler) as a stand-in. List your channels in an overlay's
  `channels.txt`; `python -m deploy.kubernetes` then writes that overlay's `scaling/`
  component, which adds one lag trigger per channel and stream (CPU stays as a floor).
  Kubernetes takes the largest count any trigger asks for, so the worker scales on its
  worst channel, not on the sum: a copy reads every channel, so when the copies fall short
  every channel's lag grows, and the worst one passes its target first.

KEDA allows only one ScaledObject per Deployment, so it is one per worker with many
triggers, not one per channel.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from deploy.kubernetes.workloads import k8s_name, labels
from deploy.kubernetes.yamlfile import dump_patch
from services.wiring import WORKERS
from shared.contracts import check_channel
from shared.streams import Topic
from shared.workers import Worker

ADDRESS_ENV = "KEDA_REDIS_ADDRESS"
"""The variable (from the `clip-live-env` ConfigMap) that tells KEDA where Redis is, as
`host:port`. KEDA connects from its own namespace, so it must be the full name
(`redis.<namespace>.svc:6379`)."""
CPU_PERCENT = "80"
"""The CPU stand-in's target: average use, in percent of the container's CPU request."""


@dataclass(frozen=True)
class Scaling:
    """How one worker scales: `lag` is the target of entries behind per copy (more copies are
    added when a stream is further behind than that), `most` the largest number of copies."""

    lag: int
    most: int = 4
    fewest: int = 1


SCALING: dict[str, Scaling] = {
    # Audio comes as half-second chunks: 20 entries is 10 s of audio not yet read.
    "audio_features": Scaling(lag=20),
    # Segments are 2 s of video each: 5 is 10 s behind.
    "motion": Scaling(lag=5),
    # Captions come a few per 10 s: 10 is far behind.
    "semantic": Scaling(lag=10),
    # Each clip request means an FFmpeg cut: scale soon. At least one copy stays, as the
    # clipper also keeps an index of the segments it watches.
    "clipper": Scaling(lag=2),
    # A VOD job runs for minutes, one at a time per copy: a copy for each job that waits.
    "vod": Scaling(lag=1),
}


def scaled_workers() -> tuple[Worker, ...]:
    """The workers KEDA scales: every stateless ("group") one, in start order."""
    return tuple(worker for worker in WORKERS if worker.shape == "group")


def lag_trigger(worker: Worker, topic: Topic[Any], channel: str | None) -> dict[str, Any]:
    """A redis-streams trigger on one stream that `worker`'s consumer group reads."""
    stream = topic.stream(channel)
    return {
        "type": "redis-streams",
        "name": topic.name if channel is None else f"{topic.name}-{channel}",
        "metadata": {
            "addressFromEnv": ADDRESS_ENV,
            "stream": stream,
            "consumerGroup": worker.group,
            "lagCount": str(SCALING[worker.name].lag),
            "activationLagCount": "1",
        },
    }


def cpu_trigger() -> dict[str, Any]:
    """The CPU stand-in for a worker whose streams are per channel."""
    return {"type": "cpu", "name": "cpu", "metricType": "Utilization",
            "metadata": {"value": CPU_PERCENT}}


def triggers(worker: Worker, channels: Sequence[str]) -> list[dict[str, Any]]:
    """Every trigger of `worker`'s ScaledObject, with `channels` watched."""
    found: list[dict[str, Any]] = []
    if worker.channel_reads:
        found.append(cpu_trigger())
    found += [lag_trigger(worker, topic, None) for topic in worker.global_reads]
    for channel in channels:
        found += [lag_trigger(worker, topic, check_channel(channel))
                  for topic in worker.channel_reads]
    return found


def scaled_object(worker: Worker) -> dict[str, Any]:
    """The base's ScaledObject of one worker (no channels known)."""
    how = SCALING[worker.name]
    return {
        "apiVersion": "keda.sh/v1alpha1",
        "kind": "ScaledObject",
        "metadata": {"name": k8s_name(worker.name), "labels": labels(worker)},
        "spec": {
            "scaleTargetRef": {"name": k8s_name(worker.name)},
            "minReplicaCount": how.fewest,
            "maxReplicaCount": how.most,
            "pollingInterval": 15,
            # Wait 5 minutes of quiet before removing a copy: streams come in bursts.
            "cooldownPeriod": 300,
            "triggers": triggers(worker, ()),
        },
    }


def channel_component(channels: Sequence[str]) -> dict[str, Any]:
    """A kustomize Component that gives each per-channel worker's ScaledObject its lag
    triggers for `channels` (a JSON patch replaces the whole trigger list)."""
    patches = []
    for worker in scaled_workers():
        if not worker.channel_reads:
            continue
        ops = [{"op": "replace", "path": "/spec/triggers", "value": triggers(worker, channels)}]
        patches.append({
            "target": {"group": "keda.sh", "version": "v1alpha1", "kind": "ScaledObject",
                       "name": k8s_name(worker.name)},
            "patch": dump_patch(ops),
        })
    return {"apiVersion": "kustomize.config.k8s.io/v1alpha1", "kind": "Component",
            "patches": patches}


def read_channels(lines: Iterable[str]) -> list[str]:
    """The channels of a `channels.txt`: one a line; blank lines and `#` comments skipped."""
    found: list[str] = []
    for line in lines:
        name = line.split("#", 1)[0].strip()
        if name and name not in found:
            found.append(check_channel(name))
    return found
