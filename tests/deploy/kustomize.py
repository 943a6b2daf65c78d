"""Just enough of kustomize to build our manifests in the tests, with no binary.

It knows only the fields our kustomizations use (resources, components, JSON patches with a
target, images, namespace) and refuses any other, so a new field fails loudly here instead of
being skipped. Order, as kustomize does it: the resources, then the components' patches, then
this folder's own patches, images and namespace.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import yaml

KNOWN = {"apiVersion", "kind", "resources", "components", "patches", "images", "namespace"}
CLUSTER_WIDE = {"Namespace", "PersistentVolume", "StorageClass", "ClusterRole",
                "ClusterRoleBinding", "CustomResourceDefinition", "ClusterTriggerAuthentication"}

Doc = dict[str, Any]


def kustomization(folder: Path) -> Doc:
    """The kustomization file of `folder`, checked for fields we do not handle."""
    data: Doc = yaml.safe_load((folder / "kustomization.yaml").read_text())
    unknown = set(data) - KNOWN
    if unknown:
        raise NotImplementedError(f"{folder}: kustomization fields not handled: {unknown}")
    return data


def documents(path: Path) -> list[Doc]:
    """Every YAML document in one file (empty ones skipped)."""
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc]


def build(folder: Path) -> list[Doc]:
    """What `kubectl kustomize folder` prints, as a list of objects."""
    spec = kustomization(folder)
    if spec.get("kind", "Kustomization") != "Kustomization":
        raise ValueError(f"{folder} is a {spec['kind']}, not a Kustomization")
    objects: list[Doc] = []
    for entry in spec.get("resources", []):
        path = (folder / entry).resolve()
        objects += build(path) if path.is_dir() else documents(path)
    for entry in spec.get("components", []):
        component = kustomization((folder / entry).resolve())
        if component.get("kind") != "Component" or set(component) - {"apiVersion", "kind",
                                                                     "patches"}:
            raise NotImplementedError(f"{entry}: only a Component with patches is handled")
        apply_patches(objects, component.get("patches", []), folder / entry)
    apply_patches(objects, spec.get("patches", []), folder)
    for image in spec.get("images", []):
        set_image(objects, image)
    if "namespace" in spec:
        for obj in objects:
            if obj["kind"] not in CLUSTER_WIDE:
                obj["metadata"]["namespace"] = spec["namespace"]
    return objects


def group_version(obj: Doc) -> tuple[str, str]:
    """`apps/v1` is group `apps`, version `v1`; a bare `v1` is the core group ``."""
    group, _, version = obj["apiVersion"].rpartition("/")
    return group, version


def matches(obj: Doc, target: Doc) -> bool:
    """Whether a patch `target` picks `obj`."""
    group, version = group_version(obj)
    wanted = {"group": group, "version": version, "kind": obj["kind"],
              "name": obj["metadata"]["name"]}
    unknown = set(target) - set(wanted)
    if unknown:
        raise NotImplementedError(f"patch target fields not handled: {unknown}")
    return all(wanted[key] == value for key, value in target.items())


def apply_patches(objects: list[Doc], patches: list[Doc], folder: Path) -> None:
    """Apply JSON patches (RFC 6902) to the objects their targets pick; each must pick one."""
    for patch in patches:
        text = patch["patch"] if "patch" in patch else (folder / patch["path"]).read_text()
        ops = yaml.safe_load(text)
        if not isinstance(ops, list) or "target" not in patch:
            raise NotImplementedError("only JSON patches with a target are handled")
        picked = [obj for obj in objects if matches(obj, patch["target"])]
        if not picked:
            raise ValueError(f"patch target {patch['target']} picks nothing")
        for obj in picked:
            for op in ops:
                json_patch(obj, op)


def _steps(pointer: str) -> list[str]:
    return [part.replace("~1", "/").replace("~0", "~") for part in pointer.split("/")[1:]]


def json_patch(obj: Doc, op: Doc) -> None:
    """One add, replace or remove operation, in place."""
    *parents, last = _steps(op["path"])
    node: Any = obj
    for step in parents:
        node = node[int(step)] if isinstance(node, list) else node[step]
    kind = op["op"]
    if isinstance(node, list):
        if kind == "add":
            node.insert(len(node) if last == "-" else int(last), copy.deepcopy(op["value"]))
            return
        index = int(last)
        if kind == "replace":
            node[index] = copy.deepcopy(op["value"])
        elif kind == "remove":
            del node[index]
        else:
            raise NotImplementedError(kind)
        return
    if kind in ("replace", "remove") and last not in node:
        raise KeyError(f"{op['path']}: nothing there to {kind}")
    if kind in ("add", "replace"):
        node[last] = copy.deepcopy(op["value"])
    elif kind == "remove":
        del node[last]
    else:
        raise NotImplementedError(kind)


def containers(obj: Doc) -> list[Doc]:
    """The containers of a workload's pod template (none for other kinds)."""
    pod = obj.get("spec", {}).get("template", {}).get("spec", {})
    return [*pod.get("initContainers", []), *pod.get("containers", [])]


def set_image(objects: list[Doc], image: Doc) -> None:
    """An `images:` entry: containers whose image is `name` (any tag) get the new name/tag."""
    for obj in objects:
        for box in containers(obj):
            name, _, tag = box["image"].partition(":")
            if name == image["name"]:
                box["image"] = f"{image.get('newName', name)}:{image.get('newTag', tag)}"
