"""The dashboard in a real headless Chromium (Debian's, driven by Playwright): it loads with no
console errors, its charts get live points, a spike is one mark, captions show, a new clip
appears and plays, keep works, and start/stop send commands. (A page opened late:
test_dashboard_late.py.)"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from playwright.async_api import Browser, Page

from shared.bus import Bus
from shared.contracts import Caption, ChatSecond, EventRow, FaceSecond, MonitorCommand, Spike
from shared.streams import CAPTIONS, CHAT, CLIPS, CONTROL, EVENTS, FACE, SPIKES
from tests.services.api.support import TOKEN, RunningApi, set_state, store_clip, wait_until

pytestmark = pytest.mark.timeout(120)


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

    # Chat and face get their own charts.
    for t in range(3):
        await bus.publish(CHAT, ChatSecond(
            channel="alpha", session="s1", t=float(t), dur=1.0, wall=time.time(), messages=4 * t,
            chatters=t, rate_z=1.5 * t, baseline=1.0, hype_density=0.1, spike=False,
            strength=0.0), channel="alpha")
        await bus.publish(FACE, FaceSecond(
            channel="alpha", session="s1", t=float(t), dur=1.0, wall=time.time(), present=True,
            excitement=0.25 * t), channel="alpha")
    await page.wait_for_function(
        "['chart-chat', 'chart-face'].every(id => { const d = document.getElementById(id).data;"
        " return d && d.length && d[0].x.length >= 3; })")
    assert await page.evaluate("document.getElementById('chart-chat').data[0].y") == [0, 4, 8]
    assert await page.evaluate("document.getElementById('chart-face').data[0].y") == [
        0, 0.25, 0.5]

    # One moment is one mark: the fuser's spikes for the seconds after the one that asked for
    # the clip merge into it (no job id), and draw nothing more. Captions run in the ticker.
    for t, job in ((5.0, "j1"), (5.0, ""), (6.0, ""), (7.0, "")):
        await bus.publish(SPIKES, Spike(channel="alpha", session="s1", t=t, dur=1.0,
                                        wall=time.time(), probability=0.9, trigger="two_votes",
                                        job_id=job), channel="alpha")
    await bus.publish(CAPTIONS, Caption(channel="alpha", session="s1", t=4.0, dur=1.0,
                                        wall=time.time(), text="what a shot", final=True),
                      channel="alpha")
    await page.wait_for_function(
        "document.getElementById('chart-loud').layout.shapes.some(s => s.x0 === 5)")
    await page.wait_for_selector("#captions li:has-text('what a shot')")  # after the spikes
    for chart in ("chart-loud", "chart-excited", "chart-chat"):
        marks = await page.evaluate(f"document.getElementById('{chart}').layout.shapes"
                                    ".filter(s => s.name && s.name.startsWith('spike'))")
        assert [(m["x0"], m["name"]) for m in marks] == [(5, "spike j1")], chart

    # A new clip appears, plays, and Keep moves its files.
    clip = await store_clip(bus, api.settings, "alpha", "clip_20261121T050000Z")
    await bus.publish(CLIPS, clip)
    item = page.locator(f"#clips li[data-clip-id='{clip.clip_id}']")
    await item.wait_for()
    assert not await page.is_visible("#player") and not await page.is_visible("#no-clips")
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
