"""The dashboard in a real headless Chromium (Debian's, driven by Playwright): it loads with no
console errors, its charts get live points, spikes and captions show, a new clip appears and
plays, keep works, and start/stop send commands."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, Page, async_playwright

from shared.bus import Bus
from shared.contracts import Caption, EventRow, MonitorCommand, Spike
from shared.streams import CAPTIONS, CLIPS, CONTROL, EVENTS, SPIKES
from tests.services.api.support import TOKEN, RunningApi, set_state, store_clip, wait_until

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]

pytestmark = pytest.mark.timeout(120)


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    assert Path(CHROMIUM).exists(), "install Debian's chromium: apt-get install -y chromium"
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS,
                                                   headless=True)
        yield browser
        await browser.close()


async def points(page: Page, chart: str) -> int:
    return int(await page.evaluate(
        f"(() => {{ const d = document.getElementById('{chart}').data;"
        f" return d && d.length ? d[0].x.length : 0; }})()"))


async def test_the_dashboard_shows_live_data_and_clips(
    api: RunningApi, bus: Bus, browser: Browser, tmp_path: Path
) -> None:
    await set_state(bus, "alpha")
    page = await browser.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))

    await page.goto(f"{api.url}/?token={TOKEN}")
    await page.wait_for_function("document.getElementById('ws-status').textContent === 'live'")
    assert "token" not in page.url  # taken out of the address bar, kept in localStorage
    assert await page.evaluate("localStorage.getItem('clipLiveToken')") == TOKEN
    assert not await page.is_visible("#token-form")
    await page.wait_for_selector("#channels li[data-channel='alpha'] button.stop")

    # Live points on all three charts, and the 0.80 line on the excited one.
    for t in range(6):
        await bus.publish(EVENTS, EventRow(
            channel="alpha", session="s1", t=float(t), dur=1.0, wall=time.time(),
            loud_db=-30.0 + t, motion_avg=float(t), excited_prob=0.15 * t), channel="alpha")
    await page.wait_for_function(
        "(() => { const d = document.getElementById('chart-excited').data;"
        " return d && d.length && d[0].x.length >= 6; })()")
    assert await points(page, "chart-loud") == 6 and await points(page, "chart-motion") == 6
    assert await page.evaluate("document.getElementById('chart-excited').data[0].y[5]") == 0.75
    shapes = await page.evaluate("document.getElementById('chart-excited').layout.shapes")
    assert [s["y0"] for s in shapes] == [0.8]

    # A spike is marked on the charts; captions run in the ticker.
    await bus.publish(SPIKES, Spike(channel="alpha", session="s1", t=5.0, dur=0.0,
                                    wall=time.time(), probability=0.9, trigger="model"),
                      channel="alpha")
    await bus.publish(CAPTIONS, Caption(channel="alpha", session="s1", t=4.0, dur=1.0,
                                        wall=time.time(), text="what a shot", final=True),
                      channel="alpha")
    await page.wait_for_function(
        "document.getElementById('chart-loud').layout.shapes.some(s => s.x0 === 5)")
    await page.wait_for_selector("#captions li:has-text('what a shot')")

    # A new clip appears, plays, and Keep moves its files.
    clip = await store_clip(bus, api.settings, "alpha", "clip_20261121T050000Z")
    await bus.publish(CLIPS, clip)
    item = page.locator(f"#clips li[data-clip-id='{clip.clip_id}']")
    await item.wait_for()
    await item.locator("button.play").click()
    await page.wait_for_function(
        "(() => { const v = document.getElementById('player');"
        " return v.readyState >= 1 && v.duration > 0.5; })()")
    await item.locator("button.keep").click()
    await page.wait_for_function(
        f"document.querySelector(\"#clips li[data-clip-id='{clip.clip_id}'] .verdict\")"
        ".textContent === 'kept'")
    kept = api.settings.data_dir.resolve() / "keep" / "alpha" / "clip_20261121T050000Z.mp4"
    assert kept.is_file() and not Path(clip.video).exists()

    # Start and stop monitoring from the page.
    await page.fill("#start-url", "https://93.184.215.14/live/show.m3u8")
    await page.fill("#start-channel", "show")
    await page.click("#start-button")
    await page.wait_for_function(
        "document.getElementById('monitor-note').textContent === 'starting show'")
    await page.click("#channels li[data-channel='alpha'] button.stop")

    async def both() -> list[MonitorCommand] | None:
        sent = [d.message for d in await bus.read(CONTROL)]
        return sent if len(sent) == 2 else None

    sent = await wait_until(both)
    assert [(c.action, c.channel) for c in sent] == [("start", "show"), ("stop", "alpha")]
    await page.screenshot(path=str(tmp_path / "dashboard.png"), full_page=True)
    assert errors == []


async def test_a_wrong_token_asks_for_a_new_one(api: RunningApi, browser: Browser) -> None:
    page = await browser.new_page()
    await page.goto(f"{api.url}/?token=wrong")
    await page.wait_for_selector("#token-form:not([hidden])")
    assert await page.text_content("#token-note") == "the token was refused"
    await page.fill("#token-input", TOKEN)
    await page.click("#token-form button")
    await page.wait_for_function("document.getElementById('ws-status').textContent === 'live'")


async def test_the_api_docs_page_works_with_no_internet(api: RunningApi, browser: Browser) -> None:
    page = await browser.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    await page.goto(f"{api.url}/docs")
    await page.wait_for_selector(".opblock-summary-path")
    paths = await page.locator(".opblock-summary-path").all_text_contents()
    assert "/api/clip/{clip_id}/video" in {p.replace("\u200b", "") for p in paths}
    assert errors == []
