"""What a new user meets first: bad input fails fast and plainly, a failed stream ends the run,
a typo in a setting's name is pointed out, and `--help` answers without loading any model."""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

import pytest

from shared.embedded_redis import free_port
from shared.settings import unknown_variables
from shared.status import status_code
from tests.support import PYTHON, REPO, child_env

CLI = [PYTHON, str(REPO / "clip_live.py")]
MODEL_LIBRARIES = ("torch", "sklearn", "numpy", "scipy", "faster_whisper", "ctranslate2",
                   "sentence_transformers", "librosa", "cv2", "av", "ai_edge_litert", "pyworld",
                   "vosk", "streamlink", "redis", "pydantic")


def _run(args: list[str], tmp_path: Path, timeout: float = 60, **env: str
         ) -> tuple[subprocess.CompletedProcess[str], float]:
    started = time.monotonic()
    done = subprocess.run([*CLI, *args], env=child_env(CLIP_LIVE_DATA_DIR=str(tmp_path / "data"),
                                                       **env),
                          cwd=tmp_path, capture_output=True, text=True, timeout=timeout)
    return done, time.monotonic() - started


@pytest.mark.parametrize("make", ["missing", "garbage", "silent"])
def test_a_bad_local_file_is_refused_in_one_line_before_anything_starts(
    tmp_path: Path, make: str
) -> None:
    name = tmp_path / "video.mp4"
    if make == "garbage":
        name.write_bytes(bytes(range(256)) * 40)
    elif make == "silent":
        name.write_text("")
    done, took = _run(["run", "video.mp4"], tmp_path)
    assert done.returncode == 2
    assert took < 5
    lines = (done.stdout + done.stderr).strip().splitlines()
    assert len(lines) == 1, lines
    assert "video.mp4" in lines[0] and lines[0].startswith("clip-live: ")
    assert ("no such file" in lines[0]) == (make == "missing")
    assert not (tmp_path / "data" / "logs").exists()  # no log file: nothing was started


@pytest.mark.timeout(180)
def test_one_failed_stream_ends_the_run_with_a_clear_line(tmp_path: Path) -> None:
    nothing_there = f"http://127.0.0.1:{free_port()}/live.m3u8"
    done, _ = _run(["run", nothing_there, "--channel", "gone"], tmp_path, timeout=170,
                   CLIP_LIVE_API_PORT=str(free_port()), CLIP_LIVE_INGEST_MAX_FAILURES="2",
                   CLIP_LIVE_RECONNECT_MIN_S="0.5", CLIP_LIVE_RECONNECT_MAX_S="1")
    assert done.returncode == 1, done.stdout + done.stderr
    last = done.stdout.strip().splitlines()[-1]
    assert last.startswith("stopping: gone failed: cannot open"), done.stdout
    assert "Traceback" not in done.stdout + done.stderr
    assert not (tmp_path / "data" / "mesh.json").exists()


def test_status_is_not_ok_when_a_channel_failed() -> None:
    status = {"missing": [], "channels": {"a": {"state": "live"}}}
    assert status_code(status) == 0
    assert status_code({**status, "channels": {"a": {"state": "failed"}}}) == 3
    assert status_code({**status, "missing": ["asr"]}) == 3


def test_a_misspelled_variable_is_pointed_out(tmp_path: Path) -> None:
    warnings = unknown_variables({"CLIP_LIVE_FUSER_THRESHHOLD": "0.5", "CLIP_LIVE_CLIP_PRE": "8",
                                  "HOME": "/root", "CLIP_LIVE_SETTINGS_FILE": "x.json"})
    assert warnings == ["CLIP_LIVE_FUSER_THRESHHOLD is not a setting and is ignored; "
                        "did you mean CLIP_LIVE_FUSER_THRESHOLD?"]
    done, _ = _run(["status"], tmp_path, CLIP_LIVE_FUSER_THRESHHOLD="0.5")
    assert done.stderr.count("CLIP_LIVE_FUSER_THRESHHOLD") == 1
    assert "did you mean CLIP_LIVE_FUSER_THRESHOLD?" in done.stderr


@pytest.mark.parametrize("args", [["--help"], ["run", "--help"], ["status", "--help"]])
def test_help_imports_no_model_library(args: list[str]) -> None:
    code = ("import sys, json\nfrom launcher.cli import main\nsys.argv = ['clip-live', *"
            f"{args!r}]\ntry:\n    main()\nexcept SystemExit:\n    pass\n"
            "print(json.dumps(sorted(sys.modules)), file=sys.stderr)")
    done = subprocess.run([PYTHON, "-c", code], env=child_env(), capture_output=True,
                          text=True, timeout=60)
    assert "usage: clip-live" in done.stdout
    loaded = {name.split(".")[0] for name in json.loads(done.stderr.strip().splitlines()[-1])}
    assert not loaded & set(MODEL_LIBRARIES), sorted(loaded & set(MODEL_LIBRARIES))
