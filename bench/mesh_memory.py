"""Each service's memory and CPU under `clip-live run`, on the demo stream.

It runs the mesh as a new user does (`clip_live.py run` with no URL: embedded Redis, the demo
stream and its chat), finds each service's process under the supervisor, and every second
adds up the resident memory of that process and of the programs it started (FFmpeg for
ingest and the clipper). After `--seconds` of stream it stops the mesh with Ctrl-C.

    python bench/mesh_memory.py [--seconds 120] [--json]

Per service: its peak memory in MB and its CPU over the run, in percent of one core (model
loading at start included). Per signal: the share of the run's events rows (features.csv)
in which it was present. `run()` gives the same numbers to `python -m bench`.
"""

from __future__ import annotations

import argparse
import csv
import json
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import psutil

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from launcher.mesh import SERVICES, read_info  # noqa: E402
from services.fuser import signals  # noqa: E402
from shared.embedded_redis import free_port  # noqa: E402
from tests.support import child_env  # noqa: E402

START_TIMEOUT_S = 120.0


def service_of(proc: psutil.Process) -> str | None:
    """Which service a child of the supervisor is (`python -m services.<name>`), if any."""
    try:
        cmdline = proc.cmdline()
    except psutil.Error:
        return None
    for part in cmdline:
        if part.startswith("services.") and part.removeprefix("services.") in SERVICES:
            return part.removeprefix("services.")
    return None


def sample(services: dict[str, psutil.Process]) -> dict[str, tuple[float, float]]:
    """(resident MB, CPU seconds so far) of each service with the programs it started."""
    found: dict[str, tuple[float, float]] = {}
    for name, proc in services.items():
        rss = cpu = 0.0
        try:
            family = [proc, *proc.children(recursive=True)]
        except psutil.Error:
            continue
        for member in family:
            try:
                rss += member.memory_info().rss / 2**20
                times = member.cpu_times()
                cpu += times.user + times.system
            except psutil.Error:
                pass
        found[name] = (rss, cpu)
    return found


def measure(seconds: float) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="clip-live-bench-") as tmp:
        data = Path(tmp) / "data"
        env = child_env(CLIP_LIVE_DATA_DIR=str(data), CLIP_LIVE_API_PORT=str(free_port()))
        mesh = subprocess.Popen([sys.executable, str(REPO / "clip_live.py"), "run"], env=env,
                                cwd=tmp, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            supervisor = _wait_for_mesh(mesh, data)
            services = {name: p for p in supervisor.children() if (name := service_of(p))}
            started = time.monotonic()
            first = sample(services)
            peaks = {name: rss for name, (rss, _) in first.items()}
            last = first
            while time.monotonic() - started < seconds:
                time.sleep(1.0)
                assert mesh.poll() is None, "the mesh stopped by itself"
                last = sample(services)
                for name, (rss, _) in last.items():
                    peaks[name] = max(peaks.get(name, 0.0), rss)
            took = time.monotonic() - started
        finally:
            mesh.send_signal(signal.SIGINT)
            mesh.wait(120)
        clips = len(list((data / "clips").glob("*/clip_*.mp4")))
        presence = signal_presence(data)
    result: dict[str, Any] = {"seconds": round(took, 1), "clips_made": clips, **presence}
    for name in sorted(peaks):
        result[f"{name}_peak_mb"] = round(peaks[name], 1)
        cpu = last.get(name, (0.0, 0.0))[1] - first.get(name, (0.0, 0.0))[1]
        result[f"{name}_cpu_pct_of_a_core"] = round(100 * cpu / took, 1)
    result["all_services_peak_mb"] = round(sum(peaks.values()), 1)
    return result


def signal_presence(data: Path) -> dict[str, float]:
    """Per signal with model features: the percent of events rows where it gave a value."""
    rows: list[dict[str, str]] = []
    for path in data.glob("events/*/*/features.csv"):
        with path.open(newline="") as handle:
            rows += list(csv.DictReader(handle))
    found: dict[str, float] = {"events_rows": float(len(rows))}
    for declared in signals.signals():
        if declared.features and rows:
            column = declared.features[0].name
            have = sum(1 for row in rows if row.get(column))
            found[f"{declared.name}_present_pct"] = round(100 * have / len(rows), 1)
    return found


def _wait_for_mesh(mesh: subprocess.Popen[bytes], data: Path) -> psutil.Process:
    """The supervisor, once every service has started under it."""
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        assert mesh.poll() is None, f"clip-live run stopped with exit code {mesh.returncode}"
        info = read_info(data)
        if info is not None:
            supervisor = psutil.Process(info.pid)
            named = {service_of(p) for p in supervisor.children()} - {None}
            if named == set(SERVICES):
                return supervisor
        time.sleep(0.5)
    raise TimeoutError(f"the mesh did not start every service in {START_TIMEOUT_S:.0f} s")


def run(seconds: float = 120.0) -> dict[str, Any]:
    return measure(seconds)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=120.0, help="how long to watch")
    parser.add_argument("--json", action="store_true", help="print JSON only")
    args = parser.parse_args()
    result = run(args.seconds)
    if args.json:
        print(json.dumps(result))
    else:
        for key, value in result.items():
            print(f"{key:<40} {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
