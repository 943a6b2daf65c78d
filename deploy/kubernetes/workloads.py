"""One Kubernetes Deployment per worker, built from the workers' declarations. Pure.

`python -m deploy.kubernetes` writes them to `base/workers/<name>.yaml`, so the manifests
always run exactly the workers `services/wiring.py` lists (a test checks the files are fresh).

How each shape runs:
- "group" (stateless, one consumer group): no fixed replica count, as KEDA's ScaledObject
  (see `scaling.py`) sets it.
- "channels" (owns channels through leases): two copies; the live copies share the channels
  fairly, and when one dies the other takes its channels once their leases run out.
- "server" (the API): one copy, on port 8000, behind the `api` Service.

Every copy mounts the shared `clip-data` volume at /data and takes its settings from the
`clip-live-env` ConfigMap and the optional `clip-live-secrets` Secret. Its liveness probe is
`clip-live health <name>`, which looks for the worker's heartbeat from this pod in Redis.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from shared.workers import Worker

IMAGE = "clip-live:latest"
"""The image the repo's Dockerfile builds; an overlay's `images:` entry renames it."""
ENV_CONFIG = "clip-live-env"
SECRETS = "clip-live-secrets"
DATA_CLAIM = "clip-data"
DATA_DIR = "/data"
API_PORT = 8000
CHANNEL_OWNER_COPIES = 2
PART_OF = "clip-live"
SERVICE_LABEL = "clip-live/service"
"""The worker's own name (with its underscore), as `services/wiring.py` spells it."""


@dataclass(frozen=True)
class Sizing:
    """What one copy asks the scheduler for, and the memory it may not pass.

    Sized from the per-service numbers in the README's speed section (one channel, model
    loading included), with room for a few channels per copy. Starting points: change them
    in an overlay once you see your own load.
    """

    cpu: str
    memory: str
    memory_limit: str


SIZING: dict[str, Sizing] = {
    "ingest": Sizing("100m", "256Mi", "1Gi"),
    "audio_features": Sizing("100m", "512Mi", "1Gi"),
    "motion": Sizing("100m", "256Mi", "1Gi"),
    "asr": Sizing("250m", "512Mi", "2Gi"),
    "semantic": Sizing("100m", "1Gi", "2Gi"),
    "chat": Sizing("50m", "128Mi", "512Mi"),
    "face": Sizing("100m", "256Mi", "1Gi"),
    "fuser": Sizing("50m", "256Mi", "512Mi"),
    "clipper": Sizing("250m", "256Mi", "1Gi"),
    "vod": Sizing("100m", "256Mi", "1Gi"),
    "api": Sizing("100m", "128Mi", "512Mi"),
}


def k8s_name(service: str) -> str:
    """A service's name as Kubernetes object names must be (no underscores)."""
    return service.replace("_", "-")


def selector(worker: Worker) -> dict[str, str]:
    """The labels that pick one worker's pods."""
    return {"app.kubernetes.io/name": k8s_name(worker.name), "app.kubernetes.io/part-of": PART_OF}


def labels(worker: Worker) -> dict[str, str]:
    """Every label of one worker's objects."""
    return {**selector(worker), "app.kubernetes.io/component": "worker",
            SERVICE_LABEL: worker.name, "clip-live/shape": worker.shape}


def health_probe(worker: Worker, period_s: int, failures: int) -> dict[str, Any]:
    """`clip-live health <name>`: exit 0 when this pod's copy has a live heartbeat in Redis.

    While Redis is down no heartbeat can be read, so the probe fails then too: the liveness
    probe allows `failures` misses in a row (minutes) before the pod is restarted."""
    return {"exec": {"command": ["clip-live", "health", worker.name]},
            "periodSeconds": period_s, "timeoutSeconds": 10, "failureThreshold": failures}


def container(worker: Worker) -> dict[str, Any]:
    """The one container of a worker's pod: the shared image, running `python -m
    services.<name>`."""
    size = SIZING[worker.name]
    spec: dict[str, Any] = {
        "name": k8s_name(worker.name),
        "image": IMAGE,
        "imagePullPolicy": "IfNotPresent",
        "command": ["python", "-m", f"services.{worker.name}"],
        "envFrom": [{"configMapRef": {"name": ENV_CONFIG}},
                    {"secretRef": {"name": SECRETS, "optional": True}}],
        "resources": {"requests": {"cpu": size.cpu, "memory": size.memory},
                      "limits": {"memory": size.memory_limit}},
        "volumeMounts": [{"name": "data", "mountPath": DATA_DIR}],
        # Model loading and waiting for Redis happen before the first beat: allow 5 minutes.
        "startupProbe": health_probe(worker, period_s=10, failures=30),
        "livenessProbe": health_probe(worker, period_s=30, failures=6),
    }
    if worker.shape == "server":
        spec["env"] = [{"name": "CLIP_LIVE_API_HOST", "value": "0.0.0.0"},
                       {"name": "CLIP_LIVE_API_PORT", "value": str(API_PORT)}]
        spec["ports"] = [{"name": "http", "containerPort": API_PORT, "protocol": "TCP"}]
        # /health answers 200 while Redis is up (503 when not), without the token.
        spec["readinessProbe"] = {"httpGet": {"path": "/health", "port": "http"},
                                  "periodSeconds": 10, "timeoutSeconds": 5,
                                  "failureThreshold": 3}
    return spec


def deployment(worker: Worker) -> dict[str, Any]:
    """The Deployment that runs one worker."""
    template_meta: dict[str, Any] = {"labels": labels(worker)}
    if worker.shape == "server":
        template_meta["annotations"] = {"prometheus.io/scrape": "true",
                                        "prometheus.io/port": str(API_PORT),
                                        "prometheus.io/path": "/metrics"}
    spec: dict[str, Any] = {}
    if worker.shape == "channels":
        spec["replicas"] = CHANNEL_OWNER_COPIES
    elif worker.shape == "server":
        spec["replicas"] = 1
    # A "group" worker has no `replicas`: KEDA owns that number, and a fixed one here would
    # undo its choice on every `kubectl apply`.
    spec |= {
        "revisionHistoryLimit": 3,
        "selector": {"matchLabels": selector(worker)},
        # Start the new copy before the old one stops: a channel owner hands its channels
        # over on SIGTERM, and the new copy takes its fair share.
        "strategy": {"type": "RollingUpdate",
                     "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}},
        "template": {
            "metadata": template_meta,
            "spec": {
                # No service variables in the pods (`API_PORT=tcp://...`): under a name
                # prefix such as `clip-live-` they would read as our own settings.
                "enableServiceLinks": False,
                "terminationGracePeriodSeconds": 30,
                "containers": [container(worker)],
                "volumes": [{"name": "data",
                             "persistentVolumeClaim": {"claimName": DATA_CLAIM}}],
            },
        },
    }
    return {"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": k8s_name(worker.name), "labels": labels(worker)},
            "spec": spec}
