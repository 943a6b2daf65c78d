"""How much CPU ingest needs per second of stream, at 720p30.

It starts a private Redis, a live 720p30 HLS stream on 127.0.0.1, and `python -m services.ingest`
as a real process, lets it watch the stream, then reads the CPU time used by the ingest process
and its FFmpeg (psutil) over the measured stretch, and divides by the seconds of stream it took in.

    python bench/ingest_cpu.py [--seconds 30] [--size 1280x720] [--rate 30] [--json]

The last line printed is the number: CPU seconds per stream second (0.05 = 5 % of one core).
`run()` gives the same numbers to `python -m bench`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from launcher.live_hls import LiveHls  # noqa: E402
from shared.bus import Bus  # noqa: E402
from shared.contracts import MonitorCommand  # noqa: E402
from shared.embedded_redis import EmbeddedRedis  # noqa: E402
from shared.settings import Settings  # noqa: E402
from shared.streams import AUDIO, CONTROL  # noqa: E402
from tests.support import child_env  # noqa: E402

CHANNEL = "bench"


def cpu_seconds(proc: psutil.Process) -> float:
    """User + system CPU time of a process and all its living children."""
    total = 0.0
    for p in [proc, *proc.children(recursive=True)]:
        try:
            times = p.cpu_times()
            total += times.user + times.system
        except psutil.NoSuchProcess:
            pass
    return total


async def stream_seconds(bus: Bus) -> float:
    """Seconds of audio ingest has published so far (= seconds of stream taken in)."""
    total, after = 0, "0"
    while True:
        page = await bus.read(AUDIO, channel=CHANNEL, after=after, count=1000)
        if not page:
            return total / 16000
        after = page[-1].id
        total += sum(d.message.samples for d in page)


async def measure(seconds: float, size: str, rate: int, work: Path) -> dict[str, float]:
    with EmbeddedRedis(work / "redis") as redis, LiveHls(work / "hls", size=size, rate=rate) as hls:
        settings = Settings(redis_url=redis.url, data_dir=work / "data")
        bus = await Bus.connect(redis.url, settings)
        env = child_env(CLIP_LIVE_REDIS_URL=redis.url, CLIP_LIVE_DATA_DIR=str(work / "data"))
        proc = subprocess.Popen([sys.executable, "-m", "services.ingest"], env=env, cwd=work,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            await bus.publish(CONTROL, MonitorCommand(channel=CHANNEL, action="start",
                                                      url=hls.url, wall=time.time()))
            # Skip the start: streamlink's first read bursts ~6 s of stream at once.
            deadline = time.monotonic() + 60
            while await stream_seconds(bus) < 10:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise RuntimeError("ingest did not start taking the stream in")
                await asyncio.sleep(0.5)
            ingest = psutil.Process(proc.pid)
            cpu0, media0, wall0 = cpu_seconds(ingest), await stream_seconds(bus), time.monotonic()
            await asyncio.sleep(seconds)
            cpu1, media1, wall1 = cpu_seconds(ingest), await stream_seconds(bus), time.monotonic()
        finally:
            proc.terminate()
            proc.wait(20)
            await bus.close()
    media = media1 - media0
    return {"cpu_s": cpu1 - cpu0, "stream_s": media, "wall_s": wall1 - wall0,
            "cpu_per_stream_s": (cpu1 - cpu0) / media if media else float("nan")}


def run(seconds: float = 30.0, size: str = "1280x720", rate: int = 30) -> dict[str, float]:
    """The numbers for `make bench` (`python -m bench`)."""
    with tempfile.TemporaryDirectory(prefix="ingest-bench-") as tmp:
        result = asyncio.run(measure(seconds, size, rate, Path(tmp)))
    label = f"ingest {size}@{rate}"
    return {
        f"{label}: CPU s per stream s": result["cpu_per_stream_s"],
        f"{label}: % of one core": 100 * result["cpu_per_stream_s"],
        f"{label}: stream s measured": result["stream_s"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--size", default="1280x720")
    parser.add_argument("--rate", type=int, default=30)
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="ingest-bench-") as tmp:
        result = asyncio.run(measure(args.seconds, args.size, args.rate, Path(tmp)))
    if args.json:
        print(json.dumps(result))
        return
    print(f"ingest at {args.size} {args.rate} fps: {result['cpu_s']:.2f} s CPU for "
          f"{result['stream_s']:.1f} s of stream ({result['wall_s']:.1f} s wall), "
          f"{100 * result['cpu_per_stream_s']:.1f} % of one core")
    print(f"{result['cpu_per_stream_s']:.4f}")


if __name__ == "__main__":
    main()
