"""Run every benchmark and print its numbers: `make bench`.

Each benchmark runs in a fresh Python process, so its peak memory (the largest resident size
of that process, and of the programs it started, such as FFmpeg or the services it ran) is
measured on its own and printed with its numbers. The JSON of everything goes to stderr.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

BENCHES = ["bench.bus", "bench.cluster", "bench.ingest_cpu", "bench.audio_motion", "bench.asr",
           "bench.semantic", "bench.face", "bench.chat", "bench.clip_latency", "bench.api_fanout",
           "bench.fuser", "bench.retrain", "bench.mesh_memory", "bench.redis_faults",
           "bench.export", "bench.vod", "bench.node_capacity"]

RUN_ONE = ("import importlib, json, sys; "
           "print(json.dumps(importlib.import_module(sys.argv[1]).run()))")


def run_one(name: str) -> dict[str, Any]:
    """One benchmark in its own process: its numbers, plus its peak memory in MB (the
    largest of that process and the programs it started and waited for)."""
    proc = subprocess.Popen([sys.executable, "-c", RUN_ONE, name], stdout=subprocess.PIPE)
    assert proc.stdout is not None
    out = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"{name} failed with exit code {proc.returncode}")
    numbers: dict[str, Any] = json.loads(out.decode().strip().splitlines()[-1])
    numbers["peak_memory_mb"] = usage.ru_maxrss / 1024  # Linux reports kilobytes.
    return numbers


def main() -> int:
    results: dict[str, Any] = {}
    for name in BENCHES:
        print(f"== {name}", flush=True)
        numbers = run_one(name)
        for key, value in numbers.items():
            shown = f"{value:,.2f}" if isinstance(value, float) else value
            print(f"  {key:<40} {shown}", flush=True)
        results[name] = numbers
    print(json.dumps(results, indent=1, default=str), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
