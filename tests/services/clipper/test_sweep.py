"""Start-up cleanup, on real files: what dead clip jobs left goes; finished clips and the
files of a job that runs now (in another clipper) stay."""

from __future__ import annotations

import json
import os
import signal
import subprocess
from pathlib import Path

import pytest

from services.clipper.store import ClipFiles, release_files, reserve_files, write_sidecar
from services.clipper.sweep import owner_stem, sweep_clips
from shared.bus import Bus
from shared.settings import Settings
from tests.services.clipper.media import running_clipper
from tests.support import PYTHON, child_env, wait_until

WALL = 1_780_000_000.0


def part(path: Path, size: int = 1000) -> Path:
    """The hidden file a job writes before renaming it to `path` (see `shared.files.write_text`)."""
    hidden = path.with_name(f".{path.name}.part")
    hidden.write_bytes(b"\x47" * size)
    return hidden


def finished_clip(data_dir: Path, channel: str) -> tuple[ClipFiles, dict[Path, bytes]]:
    """A clip written the way a job writes one, with no captions (an empty `.srt`)."""
    files = reserve_files(data_dir, channel, WALL)
    files.video.write_bytes(b"\x00" * 5000)
    files.thumbnail.write_bytes(b"\xff\xd8 a picture")
    files.captions.write_text("")
    write_sidecar(files, {"clip_id": files.stem})
    return files, {p: p.read_bytes() for p in (files.video, files.thumbnail, files.captions,
                                               files.metadata)}


def dead_job(data_dir: Path, channel: str, cut: bool) -> list[Path]:
    """What a job killed mid-way leaves: its empty claim, and a cut half written (`cut` False)
    or a cut done and captions half written (`cut` True). Closing the lock is what the
    system does when the process dies."""
    files = reserve_files(data_dir, channel, WALL)
    files.lock.close()
    if cut:
        files.video.write_bytes(b"\x00" * 4000)
        return [files.metadata, files.video, part(files.captions)]
    return [files.metadata, part(files.video, 3_000_000)]


def test_owner_stem() -> None:
    assert owner_stem(".clip_20260101T000000Z.mp4.part") == "clip_20260101T000000Z"
    assert owner_stem(".clip_20260101T000000Z_2.trial.mp4.part") == "clip_20260101T000000Z_2"
    assert owner_stem(".trial.mp4.part") is None
    assert owner_stem("clip_1.mp4") is None


def test_the_sweep_removes_what_dead_jobs_left_and_nothing_else(tmp_path: Path) -> None:
    data = tmp_path / "data"
    done, kept = finished_clip(data, "alpha")
    stale_beside_done = part(done.captions)  # a leftover part of a clip that did finish
    gone = dead_job(data, "alpha", cut=False) + dead_job(data, "beta", cut=True)
    folder = data / "clips" / "alpha"
    old_trial = folder / ".trial.mp4.part"  # an older clipper's trial join
    old_trial.write_bytes(b"x")
    orphan = folder / ".clip_20250101T000000Z.json.part"  # its claim is gone already
    orphan.write_bytes(b"{")
    live = reserve_files(data, "alpha", WALL)  # a job running now, in this process
    live_part = part(live.video)
    other = [folder / "notes.txt", folder / "other.json", folder / ".hidden"]
    for path in other:
        path.write_bytes(b"")

    swept = sweep_clips(data / "clips")

    assert sorted(swept.removed) == sorted([*gone, stale_beside_done, old_trial, orphan])
    assert swept.failed == []
    assert {p: p.read_bytes() for p in kept} == kept  # the finished clip, empty .srt too
    assert live.metadata.exists() and live_part.exists() and all(p.exists() for p in other)
    assert not any(p.exists() for p in swept.removed)
    assert sweep_clips(data / "clips").removed == []  # nothing more to do

    # Once the job is over (it failed here), its files are its own to remove, and the
    # next name it takes does not clash with the swept ones.
    release_files(live)
    assert sweep_clips(data / "clips").removed == [live_part]
    again = reserve_files(data, "alpha", WALL)
    assert again.stem not in {done.stem, live.stem} and again.lock.fd is not None
    release_files(again)


def test_a_job_of_another_live_clipper_is_left_alone_until_that_clipper_is_killed(
    tmp_path: Path,
) -> None:
    data = tmp_path / "data"
    script = ("import sys, time; from pathlib import Path; "
              "from services.clipper.store import reserve_files; "
              f"f = reserve_files(Path(sys.argv[1]), 'alpha', {WALL}); "
              "Path(f.video.parent, '.' + f.video.name + '.part').write_bytes(b'x' * 1000); "
              "print(f.stem, flush=True); time.sleep(60)")
    child = subprocess.Popen([PYTHON, "-c", script, str(data)], stdout=subprocess.PIPE,
                             env=child_env(), text=True)
    try:
        assert child.stdout is not None
        stem = child.stdout.readline().strip()
        claim = data / "clips" / "alpha" / f"{stem}.json"
        cut = claim.with_name(f".{stem}.mp4.part")
        assert claim.exists() and cut.exists()
        assert sweep_clips(data / "clips").removed == []  # a live job: untouched
        assert claim.exists() and cut.exists()
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(10)
    assert sorted(sweep_clips(data / "clips").removed) == sorted([claim, cut])


async def start_and_stop(settings: Settings, capsys: pytest.CaptureFixture[str]) -> list[str]:
    """Start the clipper, wait until its job readers run, stop it; return its log lines."""
    lines: list[str] = []

    def ready() -> bool:
        lines.extend(capsys.readouterr().err.splitlines())
        return any("waiting for clip jobs" in line for line in lines)

    async with running_clipper(settings):
        await wait_until(ready, 20, "the clipper to start")
    return lines + capsys.readouterr().err.splitlines()


async def test_the_clipper_cleans_at_start_and_says_how_much_once(
    bus: Bus, clip_settings: Settings, capsys: pytest.CaptureFixture[str],
) -> None:
    data = clip_settings.data_dir
    done, kept = finished_clip(data, "alpha")
    gone = dead_job(data, "alpha", cut=False) + dead_job(data, "alpha", cut=True)
    times = {p: p.stat().st_mtime_ns for p in kept}
    capsys.readouterr()
    said = [line for line in await start_and_stop(clip_settings, capsys)
            if "start-up cleanup" in line]
    assert len(said) == 1 and f"removed {len(gone)} file(s)" in said[0], said
    assert not any(p.exists() for p in gone)
    assert {p: p.read_bytes() for p in kept} == kept
    assert {p: p.stat().st_mtime_ns for p in kept} == times
    assert json.loads(done.metadata.read_text()) == {"clip_id": done.stem}
    assert sorted(os.listdir(done.video.parent)) == sorted(p.name for p in kept)
    # Started again with nothing left over: it says so, still once.
    said = [line for line in await start_and_stop(clip_settings, capsys)
            if "start-up cleanup" in line]
    assert len(said) == 1 and "removed 0 file(s)" in said[0], said
