"""How many live channels one node on this machine keeps up with, and the CPU each costs.

For N = 1, 2, 3, 4 channels: a fresh Redis, one `clip-live node` (every worker but the API)
and N live 720p30 HLS streams with speech most of the time (see `stream_file`). The streams are
passed through from a file made once, so making them costs next to no CPU and the node has the
machine. After a warm-up, the node runs `--window` seconds; then:

- CPU per service and in all, in cores, and per channel;
- each consumer group's lag (messages not yet handed out) at the start and the end of the window:
  a lag that grows is a worker that falls behind;
- audio that ASR skipped to stay live (its "fell behind" log lines);
- how far the events rows are behind the newest audio, in stream seconds;
- how late captions, events rows and spikes come, p50 and p95 (`bench/latency.py`);
- Redis memory at the end, and how much it grew in the window.

A node "keeps up" when no group's lag grew by more than `LAG_SLACK` messages and ASR skipped
less than 5 % of the audio. It stops at the first N that does not keep up.

`--source file` has each channel read the file itself, paced in real time, as a source that
sends media as it is made would (SRT, RTMP, Twitch's low-latency stream): audio comes every
0.5 s rather than in 2 s bursts, so it shows what the bursts cost.

    python -m bench.node_capacity [--max 4] [--window 60] [--source hls|file] [--json]
    python -m bench.node_capacity --only 2 --window 1800   # Redis memory after 30 minutes
"""

from __future__ import annotations

import argparse
import json
import re
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import psutil
from redis import Redis

from bench.latency import latencies
from bench.mesh_memory import sample, service_of
from launcher.demo_media import make_demo
from launcher.live_hls import LiveHls
from shared.contracts import MonitorCommand
from shared.embedded_redis import EmbeddedRedis
from shared.streams import AUDIO, CONTROL, EVENTS
from tests.support import REPO, child_env

WARM_UP_S = 40.0
STREAM_S = 120
DEV_DATA = REPO.parent / "shared" / "data" / "asr"
LAG_SLACK = 6
LATENCIES = [f"{name}_{p}_s"
             for name in ("caption_first", "caption_asr", "caption_final", "row", "spike")
             for p in ("p50", "p95")]
SKIPPED = re.compile(r"fell behind: skipped ([0-9.]+) s of audio")


def stream_file(folder: Path, seconds: int = STREAM_S) -> Path:
    """A 720p30 stream (2 minutes unless asked) made once, with a key frame every 2 s: a busy
    test picture with grain (about 3.5 Mbit/s, B-frames, as Twitch sends) and speech most of
    the time (the shared read-speech clips over light noise, looped). Without the shared data:
    the demo's media."""
    out = folder / "stream_720p30.mp4"
    speech = [*sorted((DEV_DATA / "librivox").glob("*.wav")), DEV_DATA / "jfk.flac"]
    if not all(path.is_file() for path in speech):
        speech = [make_demo(folder / "demo").video]
    parts = "".join(f"[{i}:a]aresample=48000,aformat=channel_layouts=mono,apad=pad_dur=0.4[a{i}];"
                    for i in range(len(speech)))
    joined = "".join(f"[a{i}]" for i in range(len(speech)))
    audio = (f"{parts}{joined}concat=n={len(speech)}:v=0:a=1,aloop=loop=-1:size=2e9,"
             f"atrim=0:{seconds}[talk];anoisesrc=color=pink:amplitude=0.02:sample_rate=48000,"
             f"aformat=channel_layouts=mono[hum];[talk][hum]amix=inputs=2:duration=first[aout]")
    video = len(speech)
    subprocess.run(
        ["ffmpeg", "-v", "error", "-nostdin", "-y",
         *[arg for path in speech for arg in ("-i", str(path))],
         "-f", "lavfi", "-i", f"testsrc2=size=1280x720:rate=30:duration={seconds}",
         "-filter_complex", f"{audio};[{video}:v]noise=alls=14:allf=t+u[vout]",
         "-map", "[vout]", "-map", "[aout]", "-t", str(seconds),
         "-c:v", "libx264", "-preset", "veryfast", "-b:v", "3500k", "-maxrate", "3500k",
         "-bufsize", "7000k", "-g", "60", "-keyint_min", "60", "-sc_threshold", "0",
         "-c:a", "aac", "-ar", "48000", str(out)],
        check=True, timeout=900)
    return out


def group_lags(redis: Redis, channels: list[str], looks: int = 5) -> dict[str, int]:
    """Each (stream topic, group)'s lag, summed over the channels: the least of a few looks
    0.3 s apart, since audio comes in bursts (a whole HLS segment of every channel at once) and
    one look may catch a burst not read yet. A lag that stays is a worker behind."""
    found = lags_now(redis, channels)
    for _ in range(looks - 1):
        time.sleep(0.3)
        found = {name: min(lag, found.get(name, lag))
                 for name, lag in lags_now(redis, channels).items()}
    return found


def lags_now(redis: Redis, channels: list[str]) -> dict[str, int]:
    """Each (stream topic, group)'s lag now, summed over the channels."""
    found: dict[str, int] = {}
    for channel in channels:
        for key in redis.scan_iter(match=AUDIO.stream(channel).rsplit(":", 1)[0] + ":*",
                                   _type="stream"):
            topic = key.decode().rsplit(":", 1)[1]
            for group in redis.xinfo_groups(key):
                name = f"{topic}/{group['name'].decode()}"
                found[name] = found.get(name, 0) + int(group.get("lag") or 0)
    return found


def newest_t(redis: Redis, stream: str) -> float:
    last: Any = redis.xrevrange(stream, count=1)
    if not last:
        return 0.0
    return float(json.loads(last[0][1][b"data"])["t"])


def one_run(n: int, media: Path, window_s: float, tmp: Path, source: str = "hls"
            ) -> dict[str, Any]:
    data = tmp / f"data{n}"
    redis_server = EmbeddedRedis(tmp / f"redis{n}").start(fresh=True)
    redis = Redis.from_url(redis_server.url)
    if source == "hls":
        streams = [LiveHls(tmp / f"hls{n}_{i}", loop_file=media, copy=True) for i in range(n)]
        urls = [hls.url for hls in streams]
    else:  # each channel reads the file itself, paced in real time
        streams, urls = [], [str(media)] * n
    log = tmp / f"node{n}.log"
    node = subprocess.Popen(
        [sys.executable, str(REPO / "clip_live.py"), "node", "--redis", redis_server.url],
        env=child_env(CLIP_LIVE_DATA_DIR=str(data)), cwd=tmp, stdin=subprocess.DEVNULL,
        stdout=log.open("wb"), stderr=subprocess.STDOUT)
    channels = [f"c{i}" for i in range(n)]
    try:
        for hls in streams:
            hls.start()
        for channel, url in zip(channels, urls, strict=True):
            command = MonitorCommand(channel=channel, action="start", url=url,
                                     wall=time.time())
            redis.xadd(CONTROL.stream(), {"data": command.model_dump_json()})
        time.sleep(WARM_UP_S)
        services = {name: p for p in psutil.Process(node.pid).children()
                    if (name := service_of(p))}
        first, lags0 = sample(services), group_lags(redis, channels)
        memory0 = used_memory_mb(redis)
        log_start = log.stat().st_size
        started, since = time.monotonic(), time.time()
        time.sleep(window_s)
        last, lags1 = sample(services), group_lags(redis, channels)
        took = time.monotonic() - started
        behind = max(newest_t(redis, AUDIO.stream(c)) - newest_t(redis, EVENTS.stream(c))
                     for c in channels)
        late = latencies(redis, channels, since, time.time())
        memory = used_memory_mb(redis)
    finally:
        node.send_signal(signal.SIGINT)
        try:
            node.wait(60)
        except subprocess.TimeoutExpired:
            node.kill()
        for hls in streams:
            hls.stop()
        redis_server.stop()
    with log.open("rb") as handle:
        handle.seek(log_start)
        skipped = sum(float(m) for m in SKIPPED.findall(handle.read().decode(errors="replace")))
    cpu = {name: (last[name][1] - first[name][1]) / took for name in last if name in first}
    grew = {name: lags1.get(name, 0) - lags0.get(name, 0) for name in lags1}
    keeps_up = max(grew.values(), default=0) <= LAG_SLACK and skipped < 0.05 * window_s * n
    return {
        "channels": n, "keeps_up": keeps_up, "cores_in_all": round(sum(cpu.values()), 2),
        "cores_per_channel": round(sum(cpu.values()) / n, 2),
        "cpu_cores": {k: round(v, 2) for k, v in sorted(cpu.items())},
        "lag_growth": {k: v for k, v in sorted(grew.items()) if v},
        "asr_skipped_s": round(skipped, 1), "events_behind_audio_s": round(behind, 1),
        "redis_memory_mb": memory, "redis_growth_mb_per_min": round(
            (memory - memory0) * 60 / took, 2),
        **late,
    }


def used_memory_mb(redis: Redis) -> float:
    info: Any = redis.info("memory")
    return round(int(info["used_memory"]) / 1e6, 1)


def measure(most: int, window_s: float, least: int = 1, source: str = "hls"
            ) -> list[dict[str, Any]]:
    results = []
    with tempfile.TemporaryDirectory(prefix="clip-live-nodes-") as name:
        tmp = Path(name)
        # A file is read once, not looped: it must outlast the warm-up and the window.
        seconds = STREAM_S if source == "hls" else max(STREAM_S, round(WARM_UP_S + window_s) + 30)
        media = stream_file(tmp, seconds)
        for n in range(least, most + 1):
            result = one_run(n, media, window_s, tmp, source)
            print(json.dumps(result), file=sys.stderr, flush=True)
            results.append(result)
            if not result["keeps_up"]:
                break
    return results


def run(most: int = 4, window_s: float = 60.0, least: int = 1, source: str = "hls"
        ) -> dict[str, Any]:
    """The numbers `python -m bench` prints."""
    results = measure(most, window_s, least, source)
    kept = [r["channels"] for r in results if r["keeps_up"]]
    out: dict[str, Any] = {"channels_kept_up": max(kept, default=0)}
    for r in results:
        n = r["channels"]
        out[f"{n}ch_keeps_up"] = r["keeps_up"]
        out[f"{n}ch_cores_per_channel"] = r["cores_per_channel"]
        out[f"{n}ch_asr_skipped_s"] = r["asr_skipped_s"]
        out[f"{n}ch_events_behind_audio_s"] = r["events_behind_audio_s"]
        out[f"{n}ch_lag_growth"] = json.dumps(r["lag_growth"])
        for key in ("redis_memory_mb", "redis_growth_mb_per_min", "spikes", *LATENCIES):
            if key in r:
                out[f"{n}ch_{key}"] = r[key]
        out[f"{n}ch_cpu_cores"] = json.dumps(r["cpu_cores"])
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max", type=int, default=4, help="most channels to try (default 4)")
    parser.add_argument("--window", type=float, default=60.0,
                        help="seconds measured per step, after a warm-up (default 60)")
    parser.add_argument("--only", type=int, default=0,
                        help="run this many channels only (e.g. 2 with --window 1800)")
    parser.add_argument("--source", choices=("hls", "file"), default="hls",
                        help="hls: live HLS in 2 s bursts (default); file: each channel reads "
                             "the file paced in real time, audio every 0.5 s")
    parser.add_argument("--json", action="store_true", help="print JSON only")
    args = parser.parse_args()
    least, most = (args.only, args.only) if args.only else (1, args.max)
    result = run(most, args.window, least, args.source)
    if args.json:
        print(json.dumps(result))
    else:
        for key, value in result.items():
            print(f"{key:<32} {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
