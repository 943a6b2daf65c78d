"""The dashboard's "Recorded streams" panel in a real headless Chromium: starting a VOD job
sends it on the bus, its progress shows as it comes (`vodProgress`), and when it is done its
clips play and its report opens."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from playwright.async_api import Browser

from shared.bus import Bus
from shared.contracts import VodProgress
from shared.streams import VOD_PROGRESS, VOD_REQUESTS
from tests.services.api.support import TOKEN, RunningApi, open_page, store_clip, wait_until

pytestmark = pytest.mark.timeout(120)


async def test_a_vod_job_starts_shows_its_progress_and_plays_its_clips(
        api: RunningApi, bus: Bus, browser: Browser) -> None:
    errors: list[str] = []
    page = await open_page(browser, api, errors)

    video = api.settings.data_dir / "vods-in" / "stream.mp4"
    video.parent.mkdir(parents=True)
    video.write_bytes(b"\0" * 1000)
    await page.fill("#vod-source", str(video))
    await page.fill("#vod-top", "2")
    await page.click("#vod-button")

    async def asked() -> bool:
        return bool(await bus.read(VOD_REQUESTS))

    await wait_until(asked)
    (request,) = await bus.read(VOD_REQUESTS)
    job_id = request.message.job_id
    assert request.message.top == 2
    item = page.locator(f"#vods li[data-job='{job_id}']")
    await item.wait_for()
    assert "queued" in str(await item.locator(".state").text_content())

    out = api.settings.data_dir.resolve() / "vods" / job_id
    running = VodProgress(job_id=job_id, source=str(video), length_s=600.0, parts=1,
                          out=str(out), stage="analysing", done_s=300, speed=12.5,
                          wall=time.time())
    await bus.publish(VOD_PROGRESS, running)
    await page.wait_for_function(
        f"document.querySelector(\"#vods li[data-job='{job_id}'] progress\").value === 300")
    assert "analysing, 12.5× real time" in str(await item.locator(".state").text_content())

    clip = await store_clip(bus, api.settings, f"vod-{job_id}", "clip_20261206T080000Z")
    out.mkdir(parents=True)
    (out / "report.html").write_text("<h1>Highlights of stream.mp4</h1>")
    await bus.publish(VOD_PROGRESS, running.model_copy(update={
        "stage": "done", "done_s": 600, "speed": 13.0, "clips": [clip.clip_id],
        "wall": time.time()}))
    await item.locator("button.play").click()
    await page.wait_for_function(
        "(() => { const v = document.getElementById('player');"
        " return v.readyState >= 1 && v.duration > 0.5; })()")
    async with page.context.expect_page() as opened:
        await item.locator("a:has-text('report')").click()
    report = await opened.value
    await report.wait_for_load_state()
    assert await report.text_content("h1") == "Highlights of stream.mp4"
    assert errors == []


async def test_the_panel_lists_the_jobs_there_were_before_the_page_opened(
        api: RunningApi, bus: Bus, browser: Browser, tmp_path: Path) -> None:
    await bus.publish(VOD_PROGRESS, VodProgress(
        job_id="earlier", source="/data/old.mp4", stage="failed", done_s=0, length_s=0,
        speed=0, parts=0, out=str(tmp_path), detail="no such file", wall=time.time()))
    page = await browser.new_page()
    await page.goto(f"{api.url}/?token={TOKEN}")
    state = page.locator("#vods li[data-job='earlier'] .state")
    await state.wait_for()
    assert await state.text_content() == "failed no such file"
