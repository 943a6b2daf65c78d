"""`clip-live run` starts its own Redis again when it dies: a real run of the demo, a real
SIGKILL of its redis-server, and the mesh goes on by itself. And with a Redis of the user's that
keeps nothing (restarted empty), the channel comes back by itself: its owner writes it back."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
from pathlib import Path
from typing import Any

import psutil
import pytest
import redis

from launcher.demo import DEMO_CHANNEL
from shared.embedded_redis import find_redis_server, free_port
from shared.streams import AUDIO_FEATURES, CHANNELS_KEY, SEGMENTS
from tests.support import PYTHON, REPO, child_env

CLI = [PYTHON, str(REPO / "clip_live.py")]


def _status(env: dict[str, str], cwd: Path) -> tuple[int, dict[str, Any] | None]:
    done = subprocess.run([*CLI, "status", "--json"], env=env, cwd=cwd, capture_output=True,
                          text=True, timeout=60)
    return done.returncode, (json.loads(done.stdout) if done.stdout.strip() else None)


def _redis_server(mesh: subprocess.Popen[str]) -> psutil.Process:
    found = [p for p in psutil.Process(mesh.pid).children(recursive=True)
             if "redis-server" in p.name()]
    assert len(found) == 1, found
    return found[0]


def _answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def _newest_ms(port: int, stream: str) -> int:
    """The time (ms, Redis clock) of the newest entry of a stream, or 0."""
    client = redis.Redis(port=port, socket_timeout=5)
    try:
        newest: Any = client.xrevrange(stream, count=1)
    except redis.exceptions.RedisError:
        return 0
    finally:
        client.close()
    return int(newest[0][0].split(b"-")[0]) if newest else 0


def _wait(check: Any, timeout: float, what: str, mesh: subprocess.Popen[str]) -> float:
    """Wait until `check()` is true; returns how long it took."""
    began = time.monotonic()
    while not check():
        assert mesh.poll() is None, "clip-live run ended"
        assert time.monotonic() - began < timeout, f"waited {timeout:.0f} s for {what}"
        time.sleep(0.1)
    return time.monotonic() - began


@pytest.mark.timeout(300)
def test_run_starts_its_redis_again_after_a_kill_and_the_mesh_goes_on(tmp_path: Path) -> None:
    env = child_env(CLIP_LIVE_DATA_DIR=str(tmp_path / "data"), CLIP_LIVE_API_PORT=str(free_port()))
    mesh = subprocess.Popen([*CLI, "run"], env=env, cwd=tmp_path, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, start_new_session=True)
    features = AUDIO_FEATURES.stream(DEMO_CHANNEL)
    try:
        _wait(lambda: _status(env, tmp_path)[0] == 0, 150, "every service to come up", mesh)
        server = _redis_server(mesh)
        _, before = _status(env, tmp_path)
        assert before is not None
        port = int(before["redis"].rsplit(":", 1)[1].split("/")[0])
        _wait(lambda: _newest_ms(port, features) > 0, 90, "the demo's audio features", mesh)
        _, before = _status(env, tmp_path)
        assert before is not None
        pids_before = {s["service"]: s["pid"] for s in before["services"]}

        server.send_signal(signal.SIGKILL)
        killed_wall = time.time()
        back_s = _wait(lambda: _answers(port), 15, "a new redis-server on the same port", mesh)
        assert _redis_server(mesh).pid != server.pid

        def fresh_status() -> bool:
            code, status = _status(env, tmp_path)
            return code == 0 and status is not None and all(
                s["wall"] > killed_wall for s in status["services"])

        beats_s = _wait(fresh_status, 60, "every service to beat again", mesh)
        restarted = time.time() * 1000
        # The channel goes on: new segments and new audio features after the restart.
        flow_s = _wait(lambda: _newest_ms(port, SEGMENTS.stream(DEMO_CHANNEL)) > restarted
                       and _newest_ms(port, features) > restarted, 60,
                       "the demo channel to go on", mesh)
        _, after = _status(env, tmp_path)
        assert after is not None
        assert after["channels"][DEMO_CHANNEL]["state"] in {"live", "starting", "reconnecting"}
        pids_after = {s["service"]: s["pid"] for s in after["services"]}
        restarted_services = sorted(n for n, pid in pids_after.items()
                                    if pids_before.get(n) != pid)
        print(f"\nredis back in {back_s:.1f} s; every service beating again "
              f"{back_s + beats_s:.1f} s after the kill; the channel flowing again "
              f"{back_s + beats_s + flow_s:.1f} s after it; services restarted: "
              f"{restarted_services or 'none'}")
    finally:
        os.killpg(mesh.pid, signal.SIGINT)
        out, _ = mesh.communicate(timeout=60)
    assert mesh.returncode == 0, out
    assert "the embedded redis-server stopped" in out, out  # the terminal says so
    assert "Traceback" not in out, out


def _redis_without_data(port: int, folder: Path) -> subprocess.Popen[bytes]:
    """A redis-server that keeps nothing, as a user's might be run."""
    server = subprocess.Popen([str(find_redis_server()), "--port", str(port), "--bind",
                               "127.0.0.1", "--save", "", "--appendonly", "no", "--dir",
                               str(folder)], stdout=subprocess.DEVNULL, start_new_session=True)
    began = time.monotonic()
    while not _answers(port):
        assert time.monotonic() - began < 10, "redis-server did not start"
        time.sleep(0.05)
    return server


@pytest.mark.timeout(300)
def test_a_users_redis_restarted_empty_gets_the_channel_back(tmp_path: Path) -> None:
    port = free_port()
    server = _redis_without_data(port, tmp_path)
    env = child_env(CLIP_LIVE_DATA_DIR=str(tmp_path / "data"), CLIP_LIVE_API_PORT=str(free_port()),
                    CLIP_LIVE_REDIS_URL=f"redis://127.0.0.1:{port}/0")
    mesh = subprocess.Popen([*CLI, "run"], env=env, cwd=tmp_path, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, start_new_session=True)
    features = AUDIO_FEATURES.stream(DEMO_CHANNEL)
    try:
        _wait(lambda: _newest_ms(port, features) > 0, 150, "the demo's audio features", mesh)
        server.kill()
        server.wait(5)
        time.sleep(2.0)
        server = _redis_without_data(port, tmp_path)
        restarted = time.time() * 1000
        client = redis.Redis(port=port, socket_timeout=5)
        try:
            listed_s = _wait(lambda: client.hexists(CHANNELS_KEY, DEMO_CHANNEL), 30,
                             "the channel to be written back", mesh)
            state = json.loads(client.hget(CHANNELS_KEY, DEMO_CHANNEL) or b"{}")
        finally:
            client.close()
        assert state["state"] in {"live", "reconnecting"}, state
        flow_s = _wait(lambda: _newest_ms(port, SEGMENTS.stream(DEMO_CHANNEL)) > restarted
                       and _newest_ms(port, features) > restarted, 60,
                       "the demo channel to go on", mesh)
        print(f"\nchannel listed again {listed_s:.1f} s after Redis came back empty; "
              f"segments and audio features flowing {listed_s + flow_s:.1f} s after it")
    finally:
        os.killpg(mesh.pid, signal.SIGINT)
        out, _ = mesh.communicate(timeout=60)
        server.kill()
        server.wait(5)
    assert mesh.returncode == 0, out
    assert "Traceback" not in out, out
