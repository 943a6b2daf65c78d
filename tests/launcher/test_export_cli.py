"""`clip-live export` as a user runs it: a real process, a real Redis, real FFmpeg."""

from __future__ import annotations

import asyncio
import json
import subprocess
from pathlib import Path

import pytest

from shared.bus import Bus
from shared.settings import Settings
from tests.services.export.media import store_clip, write_still_face_clip
from tests.support import PYTHON, REPO, child_env

CLI = [PYTHON, str(REPO / "clip_live.py")]


def _run(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    env = child_env(CLIP_LIVE_REDIS_URL=str(settings.redis_url),
                    CLIP_LIVE_DATA_DIR=str(settings.data_dir))
    return subprocess.run([*CLI, "export", *args], env=env, capture_output=True, text=True,
                          timeout=120)


async def _store(settings: Settings, video: Path) -> str:
    assert settings.redis_url
    bus = await Bus.connect(settings.redis_url, settings)
    try:
        return await store_clip(bus, settings, video, 2.0, words=[("hello", 0.5, 1.0)])
    finally:
        await bus.close()


@pytest.mark.timeout(180)
def test_export_makes_a_short_and_says_where(settings: Settings, tmp_path: Path) -> None:
    video = tmp_path / "c.mp4"
    write_still_face_clip(video, 700, 200)
    clip_id = asyncio.run(_store(settings, video))
    done = _run(settings, clip_id, "--layout", "crop", "--size", "540x960", "--json")
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert (result["layout"], result["size"], result["words"]) == ("crop", "540x960", 1)
    assert Path(result["video"]).stat().st_size > 10_000
    assert Path(result["thumbnail"]).is_file()


@pytest.mark.timeout(120)
def test_export_of_an_unknown_clip_says_so(settings: Settings) -> None:
    done = _run(settings, "demo-clip_nope")
    assert done.returncode == 1
    assert "no clip 'demo-clip_nope'" in done.stderr and "Traceback" not in done.stderr
    bad = _run(settings, "demo-clip_nope", "--layout", "wide")
    assert bad.returncode == 2 and "invalid choice" in bad.stderr
