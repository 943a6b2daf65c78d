"""An ended VOD job's last word on disk: written whole, read back, and a stray file skipped."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from services.vod.ended import PROGRESS_FILE, ended_jobs, save_ended
from shared.contracts import VodProgress


def _progress(job_id: str, out: Path, stage: str) -> VodProgress:
    return VodProgress(job_id=job_id, source="/videos/a.mp4", stage=stage,  # type: ignore[arg-type]
                       done_s=60, length_s=60, speed=12.5, parts=2, clips=["vod-a-clip_1"],
                       out=str(out), wall=1000.0)


def test_ended_jobs_are_read_back_by_id_and_a_stray_file_is_skipped(
    tmp_path: Path, caplog: pytest.LogCaptureFixture,
) -> None:
    done = _progress("job-a", tmp_path / "a", "done")
    failed = _progress("job-b", tmp_path / "b", "failed")
    save_ended(done)
    save_ended(failed)
    (tmp_path / "c").mkdir()
    (tmp_path / "c" / PROGRESS_FILE).write_text('{"job_id": "half a file')
    caplog.set_level(logging.WARNING, logger="clip_live.vod.ended")
    assert ended_jobs(tmp_path) == {"job-a": done, "job-b": failed}
    assert any("not a VOD job's progress" in r.getMessage() for r in caplog.records)
    assert not list(tmp_path.glob("*/.*.part"))  # no part file left behind
    assert ended_jobs(tmp_path / "none yet") == {}
