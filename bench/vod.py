"""VOD mode's numbers: how many times faster than real time `clip-live vod` runs a 10-minute
720p30 VOD with speech, three planted moments and a chat file, with every detector on; the
CPU each service used (which one sets the pace); the peak memory of the whole mesh; and the
time to the first ranked result (the clips come all at once, after the ranking).

It runs the real command, as a user would, and looks at its processes once a second.

It runs once with one worker set and once with two (`--workers 2`: two copies of every
worker, the VOD in two parts), on the same sample.

Run: `python -m bench.vod`.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import psutil

from launcher.vod.sample import MOMENT_LEN_S, SampleVod, make_sample_vod
from shared.embedded_redis import free_port
from tests.support import REPO, child_env

LENGTH_S = 600


def _service_of(proc: psutil.Process, names: dict[int, str]) -> str:
    """The service a process belongs to: its own `-m services.X`, else its parent's."""
    try:
        found = re.search(r"services\.(\w+)", " ".join(proc.cmdline()))
        if found:
            return found.group(1)
        parent = proc.ppid()
    except psutil.Error:
        return "gone"
    return names.get(parent, "launcher")


def run() -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        made = time.monotonic()
        vod = make_sample_vod(root / "media", LENGTH_S)
        make_s = time.monotonic() - made
        return {"making_the_sample_s": round(make_s, 1),
                "one_worker_set": run_once(vod, root / "one", 1),
                "two_worker_sets": run_once(vod, root / "two", 2)}


def run_once(vod: SampleVod, root: Path, workers: int) -> dict[str, Any]:
    """One `clip-live vod` run with `workers` worker sets, and its numbers."""
    env = child_env(CLIP_LIVE_DATA_DIR=str(root / "data"), CLIP_LIVE_API_PORT=str(free_port()))
    started = time.monotonic()
    job = subprocess.Popen(
        [sys.executable, str(REPO / "clip_live.py"), "vod", str(vod.video), "--chat",
         str(vod.chat), "--top", "3", "--out", str(root / "out"), "--workers", str(workers)],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    top = psutil.Process(job.pid)
    cpu: dict[int, tuple[str, float]] = {}
    names: dict[int, str] = {}  # the first name seen: a process that ends turns zombie
    peak_rss = 0
    while job.poll() is None:
        rss = 0
        for proc in [top, *top.children(recursive=True)]:
            try:
                name = names.setdefault(proc.pid, _service_of(proc, names))
                times = proc.cpu_times()
                cpu[proc.pid] = (name, times.user + times.system)
                rss += proc.memory_info().rss
            except psutil.Error:
                continue
        peak_rss = max(peak_rss, rss)
        time.sleep(1.0)
    out, err = job.communicate()
    wall = time.monotonic() - started
    if job.returncode != 0:
        raise SystemExit(f"clip-live vod failed: {err[-2000:]}")
    peaks = [json.loads(f.read_text())["moment"]["peak"]
             for f in sorted((root / "out").glob("[0-9][0-9].json"))]
    per_service: dict[str, float] = defaultdict(float)
    for name, seconds in cpu.values():
        per_service[name] += seconds
    rates = re.findall(r"([\d.]+)× real time", err)
    numbers: dict[str, Any] = {
        "vod_length_s": LENGTH_S,
        "worker_sets": workers,
        "wall_s_start_to_clips": round(wall, 1),
        "x_real_time_overall": round(LENGTH_S / wall, 2),
        "x_real_time_last_shown": float(rates[-1]) if rates else None,
        "time_to_first_ranked_result_s": round(wall, 1),
        "peak_memory_mesh_mb": round(peak_rss / 2**20),
        "clips": out.strip().splitlines()[-1] if out.strip() else "",
        "top_3_peaks": peaks,
        "top_3_are_the_planted_moments": len(peaks) == 3 and all(
            m - 2 <= p <= m + MOMENT_LEN_S + 2 for m, p in zip(vod.moments, sorted(peaks),
                                                               strict=True)),
    }
    for name, seconds in sorted(per_service.items(), key=lambda kv: -kv[1]):
        numbers[f"cpu_s_{name}"] = round(seconds, 1)
    return numbers


if __name__ == "__main__":
    print(json.dumps(run(), indent=1))
