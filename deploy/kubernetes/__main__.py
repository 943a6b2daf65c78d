"""Write the manifests that follow the mesh's wiring: `python -m deploy.kubernetes`.

- base/workers/<name>.yaml: one Deployment per worker in services/wiring.py, and the
  kustomization that lists them;
- base/scaledobjects.yaml: KEDA's ScaledObjects for the stateless workers;
- overlays/<name>/scaling/kustomization.yaml, for each overlay with a `channels.txt`: the lag
  triggers of its watched channels (see `scaling.py`).

`--check` writes nothing and exits 1 when a file is missing or differs (for CI).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from deploy.kubernetes.scaling import (
    channel_component,
    read_channels,
    scaled_object,
    scaled_workers,
)
from deploy.kubernetes.workloads import deployment, k8s_name
from deploy.kubernetes.yamlfile import HEADER, dump
from services.wiring import WORKERS

ROOT = Path(__file__).resolve().parent
KUSTOMIZE = "kustomize.config.k8s.io/v1beta1"
SCALING_NOTE = (
    "#\n# audio_features, motion and semantic read per-channel streams, and KEDA needs a named\n"
    "# stream per trigger: here they scale on CPU until an overlay lists its channels\n"
    "# (channels.txt) and gets their lag triggers. See deploy/kubernetes/scaling.py.\n"
)


def rendered(root: Path = ROOT) -> dict[Path, str]:
    """Every written file's path and text."""
    files: dict[Path, str] = {}
    workers = root / "base" / "workers"
    names = []
    for worker in WORKERS:
        name = f"{k8s_name(worker.name)}.yaml"
        files[workers / name] = dump([deployment(worker)])
        names.append(name)
    files[workers / "kustomization.yaml"] = dump(
        [{"apiVersion": KUSTOMIZE, "kind": "Kustomization", "resources": names}])
    files[root / "base" / "scaledobjects.yaml"] = dump(
        [scaled_object(worker) for worker in scaled_workers()], header=HEADER + SCALING_NOTE)
    for listed in sorted((root / "overlays").glob("*/channels.txt")):
        channels = read_channels(listed.read_text().splitlines())
        files[listed.parent / "scaling" / "kustomization.yaml"] = dump(
            [channel_component(channels)])
    return files


def stale(root: Path, files: dict[Path, str]) -> list[Path]:
    """Worker files left from a worker that is gone."""
    return [path for path in sorted((root / "base" / "workers").glob("*.yaml"))
            if path not in files]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m deploy.kubernetes",
                                     description=__doc__.split("\n", 1)[0] if __doc__ else None)
    parser.add_argument("--check", action="store_true",
                        help="write nothing; exit 1 when a file is missing or out of date")
    args = parser.parse_args(argv)
    files = rendered()
    old = stale(ROOT, files)
    if args.check:
        differ = [path for path, text in files.items()
                  if not path.exists() or path.read_text() != text]
        for path in [*differ, *old]:
            print(f"out of date: {path.relative_to(ROOT)}", file=sys.stderr)
        return 1 if differ or old else 0
    for path, text in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.exists() or path.read_text() != text:
            path.write_text(text)
            print(f"wrote {path.relative_to(ROOT)}")
    for path in old:
        path.unlink()
        print(f"removed {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
