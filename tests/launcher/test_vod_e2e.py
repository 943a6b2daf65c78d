"""`clip-live vod` as a user runs it: the whole mesh (every service its own process, real
models, real FFmpeg, its own redis-server) over a generated 720p30 VOD with speech, three
planted moments and a chat file.

The VOD here is 5 minutes, not 10, to keep the test near two minutes on a 2-core machine;
`make bench` (bench/vod.py) runs the 10-minute one and reports its speed.
"""

from __future__ import annotations

import json
import random
import re
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from launcher.vod.sample import MOMENT_LEN_S, SampleVod, make_sample_vod
from shared.embedded_redis import free_port
from tests.support import PYTHON, REPO, child_env

CLI = [PYTHON, str(REPO / "clip_live.py")]
LENGTH_S = 300


@pytest.fixture(scope="module")
def vod(tmp_path_factory: pytest.TempPathFactory) -> SampleVod:
    return make_sample_vod(tmp_path_factory.mktemp("media"), LENGTH_S)


def _env(data: Path) -> dict[str, str]:
    return child_env(CLIP_LIVE_DATA_DIR=str(data), CLIP_LIVE_API_PORT=str(free_port()))


def _run_vod(vod: SampleVod, root: Path, *extra: str,
             video: Path | str | None = None) -> tuple[subprocess.CompletedProcess[str], Path]:
    """Run `clip-live vod` for the top 3; return the finished command and its out folder."""
    out = root / "out"
    done = subprocess.run([*CLI, "vod", str(video or vod.video), "--chat", str(vod.chat),
                           "--top", "3", "--out", str(out), *extra],
                          env=_env(root / "data"), cwd=root, capture_output=True, text=True,
                          timeout=400)
    log = (root / "data" / "logs" / "clip-live.log").read_text()
    assert done.returncode == 0, done.stderr[-2000:] + log[-3000:]
    assert "Traceback" not in log, log[-3000:]
    return done, out


def _ranked(out: Path) -> list[dict[str, Any]]:
    return [json.loads((out / f"{rank:02d}.json").read_text()) for rank in (1, 2, 3)]


def _assert_planted(vod: SampleVod, metas: list[dict[str, Any]]) -> None:
    """The three clips are the three planted moments, one each."""
    found = sorted(m["moment"]["peak"] for m in metas)
    for moment, peak in zip(vod.moments, found, strict=True):
        assert moment - 2 <= peak <= moment + MOMENT_LEN_S + 2, (vod.moments, found)


@pytest.fixture(scope="module")
def one_set(vod: SampleVod,
            tmp_path_factory: pytest.TempPathFactory) -> tuple[subprocess.CompletedProcess[str],
                                                               Path]:
    return _run_vod(vod, tmp_path_factory.mktemp("one-set"))


@pytest.mark.timeout(420)
def test_the_top_three_are_the_three_planted_moments(
        vod: SampleVod, one_set: tuple[subprocess.CompletedProcess[str], Path]) -> None:
    done, out = one_set
    assert "3 clip(s)" in done.stdout
    assert "× real time" in done.stderr  # the progress bar
    metas = _ranked(out)
    assert [m["rank"] for m in metas] == [1, 2, 3]
    scores = [m["score"] for m in metas]
    assert scores == sorted(scores, reverse=True) and scores[2] > 0
    _assert_planted(vod, metas)
    for rank, meta in enumerate(metas, 1):
        clip = meta["clip"]
        assert clip["start"] <= meta["moment"]["peak"] <= clip["start"] + clip["duration"]
        assert set(meta["why"]) == {"p", "votes", "chat", "length"}
        for suffix in (".mp4", ".srt", ".jpg"):
            assert (out / f"{rank:02d}{suffix}").stat().st_size > 0
    page = (out / "report.html").read_text()
    assert (out / "plotly.min.js").exists() and "https://" not in page
    assert '"loudness (dB)"' in page and 'src="01.mp4"' in page
    assert json.loads((out / "vod.json").read_text())["skipped"] == []


@pytest.mark.timeout(420)
def test_two_worker_sets_find_the_same_top_three(
        vod: SampleVod, one_set: tuple[subprocess.CompletedProcess[str], Path],
        tmp_path: Path) -> None:
    _, out = _run_vod(vod, tmp_path, "--workers", "2")
    log = (tmp_path / "data" / "logs" / "clip-live.log").read_text()
    assert "2 part(s)" in log
    for part in (1, 2):  # each part went through ingest as a channel of its own
        assert re.search(rf"ended \(the stream ended\) channel=vod-\w+-{part}\b", log), log
    two, one = _ranked(out), _ranked(one_set[1])
    _assert_planted(vod, two)
    for a, b in zip(sorted(m["moment"]["peak"] for m in one),
                    sorted(m["moment"]["peak"] for m in two), strict=True):
        assert abs(a - b) <= 1, (one, two)
    for meta in two:  # each clip, cut from its part's recording, holds its moment
        clip = meta["clip"]
        assert clip["start"] <= meta["moment"]["peak"] <= clip["start"] + clip["duration"]


@pytest.mark.timeout(420)
def test_a_damaged_stretch_is_logged_skipped_and_reported(vod: SampleVod,
                                                          tmp_path: Path) -> None:
    damaged = tmp_path / "damaged.mp4"
    data = bytearray(vod.video.read_bytes())
    at, size = int(len(data) * 0.35), len(data) // 25  # ~105 s in, ~12 s long; no moment there
    data[at: at + size] = random.Random(7).randbytes(size)
    damaged.write_bytes(bytes(data))
    done, out = _run_vod(vod, tmp_path, video=damaged)
    assert "skipped" in done.stdout
    log = (tmp_path / "data" / "logs" / "clip-live.log").read_text()
    assert "the file is damaged here" in log
    (skip,) = json.loads((out / "vod.json").read_text())["skipped"]
    assert 90 < skip["start"] < skip["end"] < 130, skip
    _assert_planted(vod, _ranked(out))
    page = (out / "report.html").read_text()
    assert "Skipped" in page and "the file is damaged here" in page


@pytest.mark.timeout(420)
def test_a_past_broadcast_at_a_url_is_fetched_then_analysed(vod: SampleVod,
                                                             tmp_path: Path) -> None:
    """An HLS VOD playlist served on loopback, as a past broadcast is: streamlink fetches it,
    and the same three moments come out."""
    site = tmp_path / "site"
    site.mkdir()
    subprocess.run(["ffmpeg", "-hide_banner", "-loglevel", "error", "-i", str(vod.video),
                    "-c", "copy", "-f", "hls", "-hls_time", "2", "-hls_playlist_type", "vod",
                    str(site / "vod.m3u8")], check=True, timeout=120)
    port = free_port()
    server = subprocess.Popen([PYTHON, "-m", "http.server", "--bind", "127.0.0.1", str(port),
                               "--directory", str(site)], stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    try:
        done, out = _run_vod(vod, tmp_path, video=f"http://127.0.0.1:{port}/vod.m3u8")
    finally:
        server.terminate()
        server.wait(10)
    assert "3 clip(s)" in done.stdout and "fetching" in done.stderr
    _assert_planted(vod, _ranked(out))
    assert not list((tmp_path / "data").glob("vod-parts/*/source.ts"))  # removed once done


@pytest.mark.parametrize("content", [None, b"this is not a video\n"])
def test_a_missing_or_non_media_file_fails_with_one_clear_line(tmp_path: Path,
                                                               content: bytes | None) -> None:
    source = tmp_path / "stream.mp4"
    if content is not None:
        source.write_bytes(content)
    done = subprocess.run([*CLI, "vod", str(source)], env=_env(tmp_path / "data"),
                          capture_output=True, text=True, timeout=60)
    assert done.returncode != 0
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and str(source) in lines[0], done.stderr
    assert ("no such file" if content is None else "not a media file") in lines[0]
    assert not (tmp_path / "data" / "mesh.json").exists()


@pytest.mark.timeout(300)
def test_ctrl_c_stops_a_vod_job_cleanly(vod: SampleVod, tmp_path: Path) -> None:
    data = tmp_path / "data"
    log = (tmp_path / "out.txt").open("w")
    job = subprocess.Popen([*CLI, "vod", str(vod.video), "--out", str(tmp_path / "out")],
                           env=_env(data), cwd=tmp_path, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 120
        while "analysing" not in (tmp_path / "out.txt").read_text():
            assert job.poll() is None, (tmp_path / "out.txt").read_text()[-2000:]
            assert time.monotonic() < deadline, "the job never got going"
            time.sleep(0.5)
        assert (data / "mesh.json").exists()
        stopped = time.monotonic()
        job.send_signal(signal.SIGINT)
        code = job.wait(30)
        assert time.monotonic() - stopped < 15
    finally:
        if job.poll() is None:
            job.kill()
        log.close()
    text = (tmp_path / "out.txt").read_text()
    assert code == 130, text[-2000:]
    assert "stopped before the end" in text and "Traceback" not in text
    assert not (data / "mesh.json").exists()  # the mesh and its Redis are gone
    assert not (tmp_path / "out" / "01.mp4").exists()
