"""END-TO-END (marked `e2e`): the api in this process, the real ingest and clipper services as
their own processes, a live HLS stream on loopback, real Redis and FFmpeg.

Start monitoring through the API -> ask for a clip through the API -> `clipProgress` then
`new_clip` on the websocket -> the clip downloads with Range requests -> keep and drop move
its files.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import connect

from launcher.live_hls import LiveHls
from shared.bus import Bus
from shared.settings import Settings
from shared.streams import SEGMENTS
from tests.services.api.support import AUTH, TOKEN, api_settings, running_api, wait_until
from tests.support import PYTHON, REPO, child_env

CHANNEL = "e2e"

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(180)]


@contextlib.contextmanager
def services(settings: Settings, *names: str) -> Iterator[None]:
    """Run `python -m services.<name>` for each name, as the launcher would; stop them after."""
    env = child_env(
        CLIP_LIVE_REDIS_URL=str(settings.redis_url), CLIP_LIVE_DATA_DIR=str(settings.data_dir),
        CLIP_LIVE_READ_BLOCK_MS="100", CLIP_LIVE_CLAIM_IDLE_MS="2000",
        CLIP_LIVE_INGEST_HLS_VIA="ffmpeg", CLIP_LIVE_CLIP_WAIT_EXTRA_S="20",
        OPENBLAS_NUM_THREADS="1")
    procs: list[subprocess.Popen[bytes]] = []
    try:
        for name in names:
            log = (settings.data_dir.parent / f"{name}.log").open("wb")
            procs.append(subprocess.Popen([PYTHON, "-m", f"services.{name}"], cwd=REPO, env=env,
                                          stdin=subprocess.DEVNULL, stdout=log,
                                          stderr=subprocess.STDOUT))
        yield
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


async def test_monitor_clip_download_keep_and_drop_through_the_api(
    live_hls: LiveHls, settings: Settings, bus: Bus
) -> None:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    with services(settings, "ingest", "clipper"):
        async with running_api(api_settings(settings, api_allow_private_sources=True)) as api, \
                httpx.AsyncClient(base_url=api.url, timeout=30) as http, \
                connect(api.ws_url) as ws:
            await ws.send(json.dumps({"token": TOKEN, "channels": [CHANNEL]}))
            assert json.loads(await ws.recv())["type"] == "hello"

            started = await http.post("/api/channels", headers=AUTH,
                                      json={"url": live_hls.url, "channel": CHANNEL})
            assert started.status_code == 202, started.text
            await _until_event(ws, lambda e: e["type"] == "channel_state"
                               and e["data"]["state"] == "live", "the channel to go live")

            async def two_segments() -> bool:
                return len(await bus.read(SEGMENTS, channel=CHANNEL)) >= 2

            await wait_until(two_segments, timeout=60)  # enough recording for the pre-roll

            asked = await http.post(f"/api/channels/{CHANNEL}/clip", headers=AUTH,
                                    json={"pre": 2, "post": 2})
            assert asked.status_code == 202, asked.text
            job = asked.json()["job_id"]
            progress: list[dict[str, Any]] = []
            seen: dict[str, dict[str, Any]] = {}

            def follow(event: dict[str, Any]) -> bool:
                """Collect this job's progress; done once both the clip and `done` came."""
                data = event["data"]
                if event["type"] == "clipProgress" and data["job_id"] == job:
                    progress.append(data)
                    if data["status"] in ("done", "failed"):
                        seen["end"] = data
                if event["type"] == "new_clip" and data["job_id"] == job:
                    seen["clip"] = data
                    seen["progress_before_clip"] = {"count": len(progress)}
                return "end" in seen and "clip" in seen

            await _until_event(ws, follow, "the new clip and the job's end")
            assert seen["end"]["status"] == "done", seen["end"]
            assert seen["progress_before_clip"]["count"] >= 2  # clipProgress came first
            statuses = [p["status"] for p in progress]
            assert statuses[0] == "queued" and "cutting" in statuses, statuses
            assert [p["percent"] for p in progress] == sorted(p["percent"] for p in progress)
            new_clip = seen["clip"]
            clip_id = new_clip["clip_id"]
            assert new_clip["channel"] == CHANNEL and new_clip["duration"] > 1.0

            health = (await http.get("/health", headers=AUTH)).json()
            assert {"api", "ingest", "clipper"} <= {s["service"] for s in health["services"]}

            meta = (await http.get(f"/api/clip/{clip_id}")).json()
            part = await http.get(meta["video_url"], headers={"Range": "bytes=0-99"})
            assert part.status_code == 206 and len(part.content) == 100
            assert part.content[4:8] == b"ftyp"  # an mp4 begins with its ftyp box
            whole = await http.get(meta["video_url"])
            assert whole.status_code == 200
            assert int(part.headers["content-range"].rsplit("/", 1)[1]) == len(whole.content)
            assert (await http.get(meta["captions_url"])).status_code == 200

            data = settings.data_dir.resolve()
            video_name = meta["file"]
            assert (data / "clips" / CHANNEL / video_name).is_file()
            kept = await http.post(f"/api/clip/{clip_id}/keep", headers=AUTH)
            assert kept.status_code == 200 and kept.json()["verdict"] == "keep"
            assert (data / "keep" / CHANNEL / video_name).is_file()
            assert not (data / "clips" / CHANNEL / video_name).exists()
            dropped = await http.post(f"/api/clip/{clip_id}/drop", headers=AUTH)
            assert dropped.status_code == 200
            drop_dir = data / "drop" / CHANNEL
            stem = Path(video_name).stem
            assert sorted(p.name for p in drop_dir.iterdir()) == [  # the picture moves too
                f"{stem}.jpg", f"{stem}.json", f"{stem}.mp4", f"{stem}.srt"]
            after = await http.get(meta["video_url"], headers={"Range": "bytes=0-99"})
            assert after.status_code == 206 and after.content == part.content

            stopped = await http.delete(f"/api/channels/{CHANNEL}", headers=AUTH)
            assert stopped.status_code == 202
            await _until_event(ws, lambda e: e["type"] == "channel_state"
                               and e["data"]["state"] == "stopped", "the channel to stop")


async def _until_event(ws: Any, wanted: Any, what: str, timeout: float = 90.0) -> dict[str, Any]:
    """Read websocket events until `wanted(event)` is true; return that event."""
    async def read() -> dict[str, Any]:
        while True:
            event = json.loads(await ws.recv())
            if wanted(event):
                return event  # type: ignore[no-any-return]

    try:
        return await asyncio.wait_for(read(), timeout)
    except TimeoutError:
        raise AssertionError(f"no websocket event for {what} in {timeout:.0f} s") from None
