"""Helpers for the API tests: run the api service in this process, make small real clips."""

from __future__ import annotations

import asyncio
import contextlib
import json
import subprocess
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from playwright.async_api import Browser, Page
from pydantic import SecretStr

from services.api.worker import WORKER
from services.clipper.store import save_record
from services.clipper.thumb import make_thumbnail
from shared.bus import DATA_FIELD, Bus
from shared.channels import save_state
from shared.contracts import ChannelState, Clip, ClipWhy, Contract
from shared.embedded_redis import free_port
from shared.runtime import ServiceContext, run_service
from shared.settings import Settings
from shared.streams import Topic
from tests.support import wait_until

TOKEN = "test-token-0123456789"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@dataclass
class RunningApi:
    """An api service running in this process."""

    url: str
    settings: Settings
    task: asyncio.Task[int]

    @property
    def ws_url(self) -> str:
        return self.url.replace("http://", "ws://") + "/ws"


def api_settings(settings: Settings, **changes: Any) -> Settings:
    """The test settings plus a free port and a known token."""
    update: dict[str, Any] = {"api_port": free_port(), "api_token": SecretStr(TOKEN)}
    update.update(changes)
    return settings.model_copy(update=update)


@contextlib.asynccontextmanager
async def running_api(settings: Settings) -> AsyncIterator[RunningApi]:
    """Run `python -m services.api`'s main in this process until the block ends."""
    from services.api import service

    stops: list[asyncio.Event] = []

    async def main(ctx: ServiceContext) -> None:
        stops.append(ctx.stop)
        await service.main(ctx)

    task = asyncio.create_task(run_service(WORKER, main, settings))
    url = f"http://{settings.api_host}:{settings.api_port}"
    try:
        await wait_until(lambda: _answers(url, task), timeout=30.0)
        yield RunningApi(url=url, settings=settings, task=task)
    finally:
        for stop in stops:
            stop.set()
        await asyncio.wait_for(task, 20.0)


async def _answers(url: str, task: asyncio.Task[int]) -> bool:
    if task.done():
        raise RuntimeError(f"the api service stopped with code {task.result()}")
    try:
        async with httpx.AsyncClient() as client:
            return (await client.get(url + "/openapi.json", timeout=2.0)).status_code == 200
    except httpx.HTTPError:
        return False


async def set_state(bus: Bus, channel: str, state: str = "live", session: str = "s1") -> None:
    """Put a channel in the registry, as ingest does."""
    await save_state(bus.redis, ChannelState(
        channel=channel, session=session, state=state,  # type: ignore[arg-type]
        url=f"https://example.com/{channel}.m3u8", wall=time.time()))


def make_mp4(path: Path, seconds: float = 1.0) -> None:
    """A small real mp4 (test picture and a tone), made with FFmpeg."""
    path.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        ["ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "error", "-y",
         "-f", "lavfi", "-i", f"testsrc2=size=160x90:rate=15:duration={seconds}",
         "-f", "lavfi", "-i", f"sine=frequency=440:sample_rate=16000:duration={seconds}",
         "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac",
         "-movflags", "+faststart", "-shortest", str(path)],
        check=True, timeout=60)


async def store_clip(bus: Bus, settings: Settings, channel: str, stem: str,
                     wall: float | None = None, reason: str = "model",
                     why: ClipWhy | None = None, thumbnail: bool = False,
                     t: float = 20.0) -> Clip:
    """Write a real clip the way the clipper does: mp4 + srt + json sidecar (+ a JPEG made by
    the clipper's own FFmpeg step, with `thumbnail`) in clips/<channel>/, the Redis hash and the
    index entry. Returns its Clip message."""
    folder = settings.data_dir / "clips" / channel
    video, captions, sidecar = (folder / f"{stem}{ext}" for ext in (".mp4", ".srt", ".json"))
    make_mp4(video)
    picture = folder / f"{stem}.jpg"
    if thumbnail:
        await make_thumbnail(video, picture, 0.5, 30.0)
    captions.write_text("1\n00:00:00,000 --> 00:00:01,000\nwhat a shot\n\n", encoding="utf-8")
    wall = time.time() if wall is None else wall
    clip = Clip(channel=channel, clip_id=f"{channel}-{stem}", job_id=f"job-{stem}",
                session="s1", t=t, start=t - 10.0, duration=1.0, video=str(video.resolve()),
                captions=str(captions.resolve()), metadata=str(sidecar.resolve()),
                reason=reason, wall=wall, why=why,
                thumbnail=str(picture.resolve()) if thumbnail else "")
    meta: dict[str, Any] = clip.model_dump(mode="json")
    meta.update({"source_url": "https://example.com/x.m3u8", "video_bytes": video.stat().st_size,
                 "timings": {"cut_s": 0.1}})
    sidecar.write_text(json.dumps(meta, indent=2), encoding="utf-8")
    await save_record(bus.redis, clip, meta)  # the clipper's own way of recording a clip
    return clip


async def server_ms(bus: Bus) -> int:
    """Redis's clock in ms: stream ids are made from it."""
    seconds, micros = await bus.redis.time()
    return int(seconds) * 1000 + int(micros) // 1000


async def publish_at(bus: Bus, topic: Topic[Any], message: Contract, ms: int,
                     channel: str | None = None) -> str:
    """Add a message with the stream id `<ms>-0`, as if it had been published at that time
    (`ms` from `server_ms`; ids must grow within a stream)."""
    added = await bus.redis.xadd(topic.stream(channel), {DATA_FIELD: message.model_dump_json()},
                                 id=f"{ms}-0")
    return added.decode() if isinstance(added, bytes) else str(added)


async def open_page(browser: Browser, api: RunningApi, errors: list[str]) -> Page:
    """The dashboard in a new page, with the token, once its websocket is live. Console and
    page errors go to `errors`."""
    page = await browser.new_page()
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    await page.goto(f"{api.url}/?token={TOKEN}")
    await page.wait_for_function("document.getElementById('ws-status').textContent === 'live'")
    return page
