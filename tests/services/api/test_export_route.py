"""Shorts through the API: `POST /api/clip/{id}/export` needs the token, answers at once,
tells its progress as clipProgress messages, and `GET /api/clip/{id}/short` serves the
result. Real FFmpeg, a real face photo, the real api service."""

from __future__ import annotations

from pathlib import Path

import httpx

from shared.bus import Bus
from shared.contracts import ClipProgress
from shared.streams import CLIP_PROGRESS
from tests.services.api.support import AUTH, RunningApi
from tests.services.export.media import store_clip, write_still_face_clip
from tests.support import wait_until


async def _progress(bus: Bus, job: str) -> list[ClipProgress]:
    return [d.message for d in await bus.read(CLIP_PROGRESS, count=1000)
            if d.message.job_id == job]


async def test_export_runs_in_the_background_and_tells_its_progress(
        api: RunningApi, client: httpx.AsyncClient, bus: Bus, tmp_path: Path) -> None:
    video = tmp_path / "c.mp4"
    write_still_face_clip(video, 500, 250)
    clip_id = await store_clip(bus, api.settings, video, 2.0, words=[("hey", 0.3, 0.8)])
    url = f"/api/clip/{clip_id}/export"
    assert (await client.post(url)).status_code == 401
    assert (await client.get(f"/api/clip/{clip_id}/short")).status_code == 404
    started = await client.post(url, params={"size": "540x960"}, headers=AUTH)
    assert started.status_code == 202, started.text
    job = started.json()["job_id"]
    assert job == f"export-{clip_id}"

    async def finished() -> ClipProgress | None:
        found = await _progress(bus, job)
        return found[-1] if found and found[-1].status in ("done", "failed") else None

    last: ClipProgress = await wait_until(finished, timeout=90, what="the export to finish")
    assert last.status == "done", last.detail
    steps = await _progress(bus, job)
    assert [s.percent for s in steps] == sorted(s.percent for s in steps)
    assert len(steps) >= 4 and steps[-1].percent == 100
    short = await client.get(f"/api/clip/{clip_id}/short")
    assert short.status_code == 200 and short.headers["content-type"] == "video/mp4"
    assert short.content[4:8] == b"ftyp" and len(short.content) > 10_000


async def test_export_of_an_unknown_clip_or_bad_size_is_refused(
        api: RunningApi, client: httpx.AsyncClient) -> None:
    assert (await client.post("/api/clip/demo-nope/export", headers=AUTH)).status_code == 404
    bad = await client.post("/api/clip/demo-nope/export", params={"size": "huge"},
                            headers=AUTH)
    assert bad.status_code == 422
