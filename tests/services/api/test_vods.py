"""VOD jobs through the API and the vod worker, against real Redis: the API checks where a
file lies and queues the job; the vod worker takes it, and its progress (here: a clear
failure for a file that is not a video) comes back through `GET /api/vods/{id}`, the list,
and the websocket. The whole analysis runs in tests/launcher/test_vod_e2e.py."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import httpx
import websockets

from services.vod import service
from services.vod.ended import PROGRESS_FILE
from services.vod.worker import WORKER
from shared.bus import Bus
from shared.streams import VOD_REQUESTS
from tests.services.api.support import AUTH, TOKEN, RunningApi, wait_until
from tests.support import running_service


async def test_a_vod_outside_the_data_folder_or_missing_is_refused(
        api: RunningApi, client: httpx.AsyncClient, bus: Bus, tmp_path: Any) -> None:
    outside = tmp_path / "elsewhere.mp4"
    outside.write_bytes(b"x")
    assert (await client.post("/api/vods", json={"source": str(outside)})).status_code == 401
    refused = await client.post("/api/vods", headers=AUTH, json={"source": str(outside)})
    assert refused.status_code == 400 and "inside the data folder" in refused.json()["detail"]
    missing = api.settings.data_dir / "nothing.mp4"
    refused = await client.post("/api/vods", headers=AUTH, json={"source": str(missing)})
    assert refused.status_code == 400 and "no such video" in refused.json()["detail"]
    # Names no file can have: a NUL byte (a path the API refuses), a lone surrogate (not text).
    for unnamable, status in ((f"{api.settings.data_dir}/a\x00b.mp4", 400), ("\ud8db.mp4", 422)):
        refused = await client.post(  # the JSON as text, with \u escapes
            "/api/vods", headers=AUTH | {"content-type": "application/json"},
            content=json.dumps({"source": unnamable}))
        assert refused.status_code == status, refused.text
    assert await bus.read(VOD_REQUESTS) == []  # nothing was queued
    assert (await client.get("/api/vods/nope")).status_code == 404


async def test_a_vod_job_goes_to_the_vod_worker_and_its_progress_comes_back(
        api: RunningApi, client: httpx.AsyncClient, bus: Bus) -> None:
    source = api.settings.data_dir / "vods-in" / "notes.mp4"
    source.parent.mkdir(parents=True)
    source.write_text("this is not a video\n")
    async with websockets.connect(api.ws_url) as ws:
        await ws.send(json.dumps({"token": TOKEN, "channels": ["somechannel"]}))
        asked = await client.post("/api/vods", headers=AUTH, json={"source": str(source),
                                                                    "top": 3})
        assert asked.status_code == 202, asked.text
        job = asked.json()
        assert job["stage"] == "queued" and job["source"] == str(source.resolve())
        assert (await client.get(f"/api/vods/{job['job_id']}")).json()["stage"] == "queued"
        (request,) = await bus.read(VOD_REQUESTS)
        assert request.message.job_id == job["job_id"] and request.message.top == 3

        async with running_service(WORKER, service.main, api.settings):
            async def ended() -> bool:
                got = (await client.get(f"/api/vods/{job['job_id']}")).json()
                return got["stage"] not in ("queued", "checking")

            await wait_until(ended, timeout=30.0)
        got = (await client.get(f"/api/vods/{job['job_id']}")).json()
        assert got["stage"] == "failed" and "cannot tell how long it is" in got["detail"]
        listed = (await client.get("/api/vods")).json()
        assert [j["job_id"] for j in listed] == [job["job_id"]]
        stages = []
        while "failed" not in stages:  # every client gets a VOD job's progress
            event = json.loads(await asyncio.wait_for(ws.recv(), 10))
            if event["type"] == "vodProgress":
                assert event["data"]["job_id"] == job["job_id"]
                stages.append(event["data"]["stage"])
        assert stages[0] == "queued"

    # Redis loses its data (a new `clip-live run`, say): the ended job is still there, from
    # the last word the worker kept in the job's folder.
    assert (Path(got["out"]) / PROGRESS_FILE).is_file()
    await bus.redis.flushdb()
    again = (await client.get(f"/api/vods/{job['job_id']}")).json()
    assert again == got
    assert [j["job_id"] for j in (await client.get("/api/vods")).json()] == [job["job_id"]]
