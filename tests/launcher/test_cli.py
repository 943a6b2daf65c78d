"""`clip-live` as a user runs it: real processes, a real embedded redis-server, Ctrl-C."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import psutil
import pytest

from launcher.mesh import SERVICES
from shared.embedded_redis import free_port
from tests.support import PYTHON, REPO, child_env

CLI = [PYTHON, str(REPO / "clip_live.py")]


def _status(env: dict[str, str], cwd: Path) -> tuple[int, dict[str, object] | None]:
    done = subprocess.run([*CLI, "status", "--json"], env=env, cwd=cwd, capture_output=True,
                          text=True, timeout=60)
    return done.returncode, (json.loads(done.stdout) if done.stdout.strip() else None)


@pytest.mark.timeout(120)
def test_run_comes_up_status_lists_services_and_ctrl_c_leaves_nothing(tmp_path: Path) -> None:
    env = child_env(CLIP_LIVE_DATA_DIR=str(tmp_path / "data"), CLIP_LIVE_API_PORT=str(free_port()))
    # A session of its own, so that Ctrl-C can go to its whole process group, as a terminal's does.
    mesh = subprocess.Popen([*CLI, "run"], env=env, cwd=tmp_path, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while True:
            code, status = _status(env, tmp_path)
            if code == 0:
                break
            assert mesh.poll() is None, mesh.stdout.read() if mesh.stdout else ""
            assert time.monotonic() < deadline, f"services never all came up: {status}"
            time.sleep(0.5)
        assert status is not None
        services = status["services"]
        assert isinstance(services, list)
        assert {s["service"] for s in services} == set(SERVICES)
        children = psutil.Process(mesh.pid).children(recursive=True)
        redis_procs = [p for p in children if "redis-server" in p.name()]
        assert len(redis_procs) == 1
        assert redis_procs[0].cmdline()[2] != "6379"
        worker_pids = {s["pid"] for s in services}
        assert worker_pids <= {p.pid for p in children}
    finally:
        os.killpg(mesh.pid, signal.SIGINT)
        asked = time.monotonic()
        out, _ = mesh.communicate(timeout=60)
    took = time.monotonic() - asked
    assert mesh.returncode == 0, out
    assert took < 10, f"Ctrl-C took {took:.1f} s"
    assert "Traceback" not in out and " ERROR " not in out, out
    assert out.rstrip().endswith("stopped"), out
    logs = (tmp_path / "data" / "logs" / "clip-live.log").read_text()
    assert "Traceback" not in logs and " ERROR " not in logs, logs[-3000:]
    for proc in children:
        assert not psutil.pid_exists(proc.pid) or proc.status() == psutil.STATUS_ZOMBIE, proc
    assert not (tmp_path / "data" / "mesh.json").exists()
    code, _ = _status(env, tmp_path)
    assert code == 1  # nothing to find any more


def test_status_with_no_mesh_says_so(tmp_path: Path) -> None:
    env = child_env(CLIP_LIVE_DATA_DIR=str(tmp_path))
    done = subprocess.run([*CLI, "status"], env=env, cwd=tmp_path, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 1
    assert "no running mesh found" in done.stderr and "Traceback" not in done.stderr


def test_an_unreachable_redis_is_retried_then_a_clear_error(tmp_path: Path) -> None:
    url = f"redis://user:pa55word@127.0.0.1:{free_port()}/0"
    env = child_env(CLIP_LIVE_REDIS_URL=url, CLIP_LIVE_REDIS_CONNECT_TIMEOUT_S="2.5")
    done = subprocess.run([*CLI, "status"], env=env, cwd=tmp_path, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 1
    assert done.stderr.count("trying again in") >= 2  # it backed off: 0.5 s, 1 s, ...
    assert "cannot reach Redis at redis://user:***@127.0.0.1" in done.stderr
    assert "pa55word" not in done.stderr and "Traceback" not in done.stderr


def test_a_service_keeps_retrying_an_unreachable_redis_without_tracebacks(tmp_path: Path) -> None:
    env = child_env(CLIP_LIVE_REDIS_URL=f"redis://127.0.0.1:{free_port()}/0",
                    CLIP_LIVE_REDIS_RETRY_MAX_S="0.5")
    code = "from shared.runtime import main_entry\nasync def work(ctx): pass\nmain_entry('x', work)"
    proc = subprocess.Popen([PYTHON, "-c", code], env=env, cwd=tmp_path, stderr=subprocess.PIPE,
                            text=True)
    time.sleep(3)
    assert proc.poll() is None, "a service gives up on Redis only when told to"
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 130
    assert err.count("cannot reach Redis") >= 3
    assert "Traceback" not in err


def test_help_explains_each_command() -> None:
    done = subprocess.run([*CLI, "--help"], env=child_env(), capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0
    for command in ("run", "status", "clip"):
        assert command in done.stdout
        sub = subprocess.run([*CLI, command, "--help"], env=child_env(), capture_output=True,
                             text=True, timeout=60)
        assert sub.returncode == 0 and "usage: clip-live" in sub.stdout


def test_clip_live_py_passes_commands_through(tmp_path: Path) -> None:
    done = subprocess.run([*CLI, "status"], env=child_env(CLIP_LIVE_DATA_DIR=str(tmp_path)),
                          cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert done.returncode == 1 and "no running mesh found" in done.stderr
