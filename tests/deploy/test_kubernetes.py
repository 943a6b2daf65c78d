"""The Kubernetes manifests (deploy/kubernetes), checked with no cluster and no kubectl.

Every core object is checked against Kubernetes' own schema for K8S_VERSION
(kubernetes-validate, strict: unknown fields fail), every ScaledObject against KEDA's CRD
schema (cloudcoil's model of it, plus a round trip so unknown fields fail too), and both
against the mesh's wiring: one Deployment per worker, a ScaledObject for each stateless
worker on its own consumer group's streams. The kustomizations are built by
tests/deploy/kustomize.py, a small kustomize of our own.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
from cloudcoil.models.keda.v1alpha1 import ScaledObject

from deploy.kubernetes.__main__ import main as write_manifests
from deploy.kubernetes.__main__ import rendered, stale
from deploy.kubernetes.scaling import ADDRESS_ENV, SCALING, read_channels, scaled_workers
from deploy.kubernetes.workloads import SERVICE_LABEL, SIZING, k8s_name
from services.wiring import SERVICES, WORKERS, worker_named
from tests.deploy.kustomize import build, documents, kustomization
from tests.support import REPO

K8S_VERSION = "1.30"
"""The Kubernetes version whose schemas the core objects are checked against."""
ROOT = REPO / "deploy" / "kubernetes"
BASE = ROOT / "base"
EXAMPLE = ROOT / "overlays" / "example"
REDIS_STREAMS_FIELDS = {
    "address", "addressFromEnv", "host", "hostFromEnv", "port", "portFromEnv",
    "usernameFromEnv", "passwordFromEnv", "stream", "consumerGroup", "pendingEntriesCount",
    "streamLength", "lagCount", "activationLagCount", "enableTLS", "unsafeSsl", "databaseIndex",
}
"""The redis-streams scaler's metadata fields, as KEDA's documentation lists them."""

Doc = dict[str, Any]


@pytest.fixture(scope="module")
def base() -> list[Doc]:
    return build(BASE)


@pytest.fixture(scope="module")
def example() -> list[Doc]:
    return build(EXAMPLE)


def of_kind(objects: list[Doc], kind: str) -> dict[str, Doc]:
    return {obj["metadata"]["name"]: obj for obj in objects if obj["kind"] == kind}


def keda_check(obj: Doc) -> None:
    """Check one ScaledObject against KEDA's schema. The model ignores unknown fields, so
    what it gives back must equal what went in: a field it dropped or changed is an error."""
    model = ScaledObject.model_validate(obj)
    back = model.model_dump(by_alias=True, exclude_unset=True, mode="json")
    assert back == obj, f"{obj['metadata']['name']}: fields KEDA does not know, or wrong types"


def test_generated_manifests_are_fresh() -> None:
    files = rendered()
    for path, text in files.items():
        assert path.exists() and path.read_text() == text, \
            f"{path.relative_to(REPO)} is out of date: run `python -m deploy.kubernetes`"
    assert stale(ROOT, files) == []
    assert write_manifests(["--check"]) == 0


@pytest.mark.parametrize("folder", [BASE, EXAMPLE], ids=["base", "example"])
def test_every_core_object_is_valid_kubernetes(folder: Path) -> None:
    objects = [obj for obj in build(folder) if obj["kind"] != "ScaledObject"]
    assert len(objects) >= len(SERVICES) + 5
    for obj in objects:
        assert kubernetes_validate.validate(obj, K8S_VERSION, strict=True) == K8S_VERSION


def test_the_kubernetes_check_catches_a_wrong_field(base: list[Doc]) -> None:
    broken = copy.deepcopy(of_kind(base, "Deployment")["clipper"])
    broken["spec"]["template"]["spec"]["containers"][0]["comand"] = ["python"]
    with pytest.raises(kubernetes_validate.ValidationError, match="comand"):
        kubernetes_validate.validate(broken, K8S_VERSION, strict=True)


@pytest.mark.parametrize("folder", [BASE, EXAMPLE], ids=["base", "example"])
def test_every_scaled_object_is_valid_keda(folder: Path) -> None:
    scaled = of_kind(build(folder), "ScaledObject")
    assert scaled
    for obj in scaled.values():
        keda_check(obj)
        for trigger in obj["spec"]["triggers"]:
            if trigger["type"] != "redis-streams":
                continue
            meta = trigger["metadata"]
            assert set(meta) <= REDIS_STREAMS_FIELDS
            assert meta["addressFromEnv"] == ADDRESS_ENV
            # KEDA asks for activationLagCount whenever lagCount is set; counts are digits.
            assert meta["lagCount"].isdigit() and meta["activationLagCount"].isdigit()


def test_the_keda_check_catches_a_wrong_field(base: list[Doc]) -> None:
    good = of_kind(base, "ScaledObject")["clipper"]
    unknown = copy.deepcopy(good)
    unknown["spec"]["maxReplicas"] = 8
    with pytest.raises(AssertionError, match="fields KEDA does not know"):
        keda_check(unknown)
    wrong_type = copy.deepcopy(good)
    wrong_type["spec"]["minReplicaCount"] = "1"
    with pytest.raises(AssertionError, match="wrong types"):
        keda_check(wrong_type)
    not_text = copy.deepcopy(good)
    not_text["spec"]["triggers"][0]["metadata"]["lagCount"] = 2
    with pytest.raises(ValueError, match="string"):
        keda_check(not_text)


def test_kustomizations_list_every_file() -> None:
    for folder in (BASE, BASE / "workers"):
        listed = kustomization(folder)["resources"]
        assert len(listed) == len(set(listed))
        files = {path.name for path in folder.glob("*.yaml")} - {"kustomization.yaml"}
        subfolders = {path.name for path in folder.iterdir()
                      if (path / "kustomization.yaml").exists()}
        assert set(listed) == files | subfolders, f"{folder}: listed vs present"
    spec = kustomization(EXAMPLE)
    assert (EXAMPLE / "../../base").resolve() == BASE.resolve()
    assert "../../base" in spec["resources"]
    for entry in [*spec["resources"], *spec["components"]]:
        assert (EXAMPLE / entry).exists(), entry
    assert kustomization(EXAMPLE / "scaling")["kind"] == "Component"


def test_one_deployment_per_worker(base: list[Doc]) -> None:
    deployments = [obj for obj in base if obj["kind"] == "Deployment"]
    workers = [obj for obj in deployments
               if obj["metadata"]["labels"].get("app.kubernetes.io/component") == "worker"]
    assert [obj["metadata"]["labels"][SERVICE_LABEL] for obj in workers] == list(SERVICES)
    assert {obj["metadata"]["name"] for obj in deployments} - \
        {k8s_name(name) for name in SERVICES} == {"retrain"}
    assert set(SIZING) == set(SERVICES)
    for obj in workers:
        name = obj["metadata"]["labels"][SERVICE_LABEL]
        worker = worker_named(name)
        pod = obj["spec"]["template"]["spec"]
        (box,) = pod["containers"]
        assert box["command"] == ["python", "-m", f"services.{name}"]
        assert (REPO / "services" / name / "__main__.py").exists()
        for probe in ("startupProbe", "livenessProbe"):
            assert box[probe]["exec"]["command"] == ["clip-live", "health", name]
        assert {"name": "data", "mountPath": "/data"} in box["volumeMounts"]
        assert pod["enableServiceLinks"] is False
        assert pod["volumes"] == [{"name": "data",
                                   "persistentVolumeClaim": {"claimName": "clip-data"}}]
        assert {"configMapRef": {"name": "clip-live-env"}} in box["envFrom"]
        assert obj["spec"]["selector"]["matchLabels"].items() <= \
            obj["spec"]["template"]["metadata"]["labels"].items()
        # KEDA sets a stateless worker's copies; a fixed count would fight it.
        assert ("replicas" in obj["spec"]) == (worker.shape != "group")
        if worker.shape == "channels":
            assert obj["spec"]["replicas"] >= 2, "a second copy takes over the leases"


def test_the_api_is_behind_a_service(base: list[Doc]) -> None:
    api = of_kind(base, "Deployment")["api"]
    (box,) = api["spec"]["template"]["spec"]["containers"]
    assert {"name": "CLIP_LIVE_API_HOST", "value": "0.0.0.0"} in box["env"]
    assert box["ports"] == [{"name": "http", "containerPort": 8000, "protocol": "TCP"}]
    assert box["readinessProbe"]["httpGet"] == {"path": "/health", "port": "http"}
    service = of_kind(base, "Service")["api"]
    assert service["spec"]["selector"].items() <= \
        api["spec"]["template"]["metadata"]["labels"].items()
    assert service["spec"]["ports"][0]["targetPort"] == "http"
    assert [obj["metadata"]["name"] for obj in base if obj["kind"] == "Service"] == \
        ["redis", "api"]


def test_redis_data_and_settings(base: list[Doc]) -> None:
    redis = of_kind(base, "StatefulSet")["redis"]
    (box,) = redis["spec"]["template"]["spec"]["containers"]
    assert box["image"].startswith("redis:7"), "lagCount needs Redis 7 (XINFO GROUPS lag)"
    assert "--appendonly" in box["args"]
    assert box["args"][box["args"].index("--appendonly") + 1] == "yes"
    claim = of_kind(base, "PersistentVolumeClaim")["clip-data"]
    assert claim["spec"]["accessModes"] == ["ReadWriteMany"]
    env = of_kind(base, "ConfigMap")["clip-live-env"]["data"]
    assert env["CLIP_LIVE_REDIS_URL"] == "redis://redis:6379/0"
    assert env["CLIP_LIVE_DATA_DIR"] == "/data"
    assert env[ADDRESS_ENV] == "redis.default.svc:6379"
    assert all("namespace" not in obj["metadata"] for obj in base), "the base has no namespace"


def lag_streams(obj: Doc) -> set[tuple[str, str]]:
    return {(t["metadata"]["stream"], t["metadata"]["consumerGroup"])
            for t in obj["spec"]["triggers"] if t["type"] == "redis-streams"}


def test_scaled_objects_follow_the_wiring(base: list[Doc], example: list[Doc]) -> None:
    stateless = [worker for worker in WORKERS if worker.shape == "group"]
    assert stateless == list(scaled_workers()) and set(SCALING) == {w.name for w in stateless}
    channels = read_channels((EXAMPLE / "channels.txt").read_text().splitlines())
    assert len(channels) >= 2
    for objects, watched in ((base, []), (example, channels)):
        scaled = of_kind(objects, "ScaledObject")
        deployments = of_kind(objects, "Deployment")
        assert set(scaled) == {k8s_name(worker.name) for worker in stateless}
        for worker in stateless:
            obj = scaled[k8s_name(worker.name)]
            assert obj["spec"]["scaleTargetRef"] == {"name": k8s_name(worker.name)}
            assert obj["spec"]["scaleTargetRef"]["name"] in deployments
            wanted = {(topic.stream(), worker.group) for topic in worker.global_reads}
            wanted |= {(topic.stream(channel), worker.group)
                       for topic in worker.channel_reads for channel in watched}
            assert lag_streams(obj) == wanted
            cpu = [t for t in obj["spec"]["triggers"] if t["type"] == "cpu"]
            # The CPU stand-in is there exactly for a worker of per-channel streams.
            assert bool(cpu) == bool(worker.channel_reads)
    # With channels listed, every stateless worker scales on its group's lag.
    assert all(lag_streams(obj) for obj in of_kind(example, "ScaledObject").values())
    clipper = of_kind(base, "ScaledObject")["clipper"]
    assert lag_streams(clipper) == {("clip-live:{clip-requests}", "clipper")}


def test_the_example_overlay(example: list[Doc]) -> None:
    namespace = kustomization(EXAMPLE)["namespace"]
    assert of_kind(example, "Namespace") == {namespace: documents(EXAMPLE / "namespace.yaml")[0]}
    for obj in example:
        if obj["kind"] != "Namespace":
            assert obj["metadata"]["namespace"] == namespace
    env = of_kind(example, "ConfigMap")["clip-live-env"]["data"]
    assert env[ADDRESS_ENV] == f"redis.{namespace}.svc:6379", "KEDA must find this Redis"
    images = {box["image"] for obj in example
              for box in obj.get("spec", {}).get("template", {}).get("spec", {})
              .get("containers", [])}
    assert images == {"registry.example.com/clip-live:0.1.0", "redis:7-alpine"}
    assert of_kind(example, "ScaledObject")["clipper"]["spec"]["maxReplicaCount"] == 8
    assert of_kind(example, "Deployment")["asr"]["spec"]["replicas"] == 3
    assert of_kind(example, "PersistentVolumeClaim")["clip-data"]["spec"]["storageClassName"]


def test_the_channel_list_is_checked() -> None:
    assert read_channels(["# comment", "", "a_b  # why", "a_b", "c-d"]) == ["a_b", "c-d"]
    with pytest.raises(ValueError, match="lower-case"):
        read_channels(["Bad Name"])


def test_a_patch_that_picks_nothing_fails(tmp_path: Path) -> None:
    (tmp_path / "cm.yaml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n")
    (tmp_path / "kustomization.yaml").write_text(
        "resources: [cm.yaml]\npatches:\n  - target: {kind: ConfigMap, name: b}\n"
        "    patch: '[{op: add, path: /data, value: {}}]'\n")
    with pytest.raises(ValueError, match="picks nothing"):
        build(tmp_path)
