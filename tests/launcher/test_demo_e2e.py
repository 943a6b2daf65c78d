"""The whole mesh on the demo stream, as a new user runs it: `clip_live.py run` with no URL.

The demo is 3 minutes of calm stream with one exciting moment (a crowd roar, a shout of "oh my
god that was insane, what a clutch", a fast pan, and a chat burst from a local IRC server).
Beside it, the same 3 minutes without the moment play on a second channel (`clip-live watch`).
After 3 minutes of stream: exactly one clip on the demo channel, and it holds the roar, with the
words heard in its .srt; none on the calm channel but the one asked for with `clip-live clip`;
events.csv has one row per second with clip_flag set around the clip.

Every service runs as its own process with real models. This is the slowest test (about 4
minutes), so it runs once for both channels at the same time.
"""

from __future__ import annotations

import csv
import json
import signal
import subprocess
import time
from pathlib import Path

import numpy as np
import pytest

from launcher.demo_media import make_demo
from launcher.live_hls import LiveHls
from shared.embedded_redis import free_port
from tests.support import PYTHON, REPO, child_env

CLI = [PYTHON, str(REPO / "clip_live.py")]
STREAM_S = 180


def _status(env: dict[str, str], cwd: Path) -> dict[str, object]:
    done = subprocess.run([*CLI, "status", "--json"], env=env, cwd=cwd, capture_output=True,
                          text=True, timeout=60)
    return json.loads(done.stdout) if done.stdout.strip() else {}


def _loudest_second_db(video: Path) -> float:
    pcm = subprocess.run(["ffmpeg", "-v", "error", "-i", str(video), "-ac", "1", "-ar", "16000",
                          "-f", "s16le", "-"], capture_output=True, check=True).stdout
    x = np.frombuffer(pcm, dtype="<i2").astype(float) / 32768
    seconds = x[: len(x) // 16000 * 16000].reshape(-1, 16000)
    return float(max(20 * np.log10(np.sqrt(np.mean(s**2)) + 1e-9) for s in seconds))


def _session_rows(data: Path, channel: str, name: str = "events.csv") -> list[dict[str, str]]:
    [events] = list((data / "events" / channel).glob(f"*/{name}"))
    with events.open() as handle:
        return list(csv.DictReader(handle))


@pytest.mark.timeout(420)
def test_the_demo_makes_exactly_one_clip_and_the_calm_stream_none(tmp_path: Path) -> None:
    data = tmp_path / "data"
    env = child_env(CLIP_LIVE_DATA_DIR=str(data), CLIP_LIVE_API_PORT=str(free_port()))
    calm_media = make_demo(data / "demo", excited=False)
    log = (tmp_path / "mesh.log").open("w")
    mesh = subprocess.Popen([*CLI, "run"], env=env, cwd=tmp_path, stdout=log,
                            stderr=subprocess.STDOUT)
    calm = LiveHls(tmp_path / "calm_hls", loop_file=calm_media.video)
    try:
        calm.start()
        deadline = time.monotonic() + 90
        while "demo" not in (_status(env, tmp_path).get("channels") or {}):
            assert mesh.poll() is None, (tmp_path / "mesh.log").read_text()[-3000:]
            assert time.monotonic() < deadline, "the demo channel never started"
            time.sleep(1)
        watched = subprocess.run([*CLI, "watch", calm.url, "--channel", "calm"], env=env,
                                 cwd=tmp_path, capture_output=True, text=True, timeout=60)
        assert watched.returncode == 0, watched.stderr
        deadline = time.monotonic() + STREAM_S + 120
        while True:
            channels = _status(env, tmp_path).get("channels") or {}
            ts = [float(c["t"]) for c in channels.values()]  # type: ignore[index]
            if len(ts) == 2 and min(ts) >= STREAM_S:
                break
            assert mesh.poll() is None, (tmp_path / "mesh.log").read_text()[-3000:]
            assert time.monotonic() < deadline, f"the streams did not reach {STREAM_S} s: {ts}"
            time.sleep(2)
        # "Clip that!" on the calm channel, as a streamer would from the command line.
        manual = subprocess.run([*CLI, "clip", "--channel", "calm", "--wait", "90"], env=env,
                                cwd=tmp_path, capture_output=True, text=True, timeout=120)
        assert manual.returncode == 0, manual.stdout + manual.stderr
        assert "clip ready:" in manual.stdout
    finally:
        calm.stop()
        mesh.send_signal(signal.SIGINT)
        mesh.wait(90)
        log.close()
    text = (tmp_path / "mesh.log").read_text()
    assert "Traceback" not in text, text[-3000:]

    demo_clips = sorted((data / "clips" / "demo").glob("clip_*.mp4"))
    assert len(demo_clips) == 1, text[-3000:]
    assert _loudest_second_db(demo_clips[0]) > -20.0  # it holds the roar (calm talk: ~-25 dB)
    [calm_clip] = list((data / "clips" / "calm").glob("clip_*.json"))  # only the manual one
    assert json.loads(calm_clip.read_text())["reason"] == "manual"

    meta = json.loads(demo_clips[0].with_suffix(".json").read_text())
    assert "-->" in demo_clips[0].with_suffix(".srt").read_text()  # real captions in the .srt
    rows = _session_rows(data, "demo")
    times = [float(r["time"]) for r in rows]
    assert times == [float(t) for t in range(len(times))]  # one row per second, no hole
    assert len(rows) >= STREAM_S - 10
    flagged = [float(r["time"]) for r in rows if r["clip_flag"] == "1"]
    assert flagged and all(meta["start"] - 5 <= t <= meta["start"] + meta["duration"]
                           for t in flagged)
    assert not any(r["clip_flag"] == "1" for r in _session_rows(data, "calm"))
    # The demo's chat reached the fuser, with its burst after the moment.
    chat = [float(r["chat_rate_z"] or 0) for r in _session_rows(data, "demo", "features.csv")]
    assert sum(1 for z in chat if z) > 5 and max(chat) > 5
