"""The dashboard's Short button in a real headless Chromium: it starts the export, the job shows
its progress, and the player loads the finished short."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.async_api import Browser

from shared.bus import Bus
from tests.services.api.support import TOKEN, RunningApi, set_state
from tests.services.export.media import store_clip, write_still_face_clip

pytestmark = pytest.mark.timeout(150)


async def test_the_short_button_makes_and_shows_a_short(
        api: RunningApi, bus: Bus, browser: Browser, tmp_path: Path) -> None:
    video = tmp_path / "c.mp4"
    write_still_face_clip(video, 500, 250)
    clip_id = await store_clip(bus, api.settings, video, 2.0, words=[("hey", 0.3, 0.8)])
    await set_state(bus, "demo")
    page = await browser.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    await page.goto(f"{api.url}/?token={TOKEN}")
    await page.wait_for_function("document.getElementById('ws-status').textContent === 'live'")
    item = page.locator(f"#clips li[data-clip-id='{clip_id}']")
    await item.wait_for()
    await item.locator("button.short").click()
    await page.wait_for_function(
        "(() => { const v = document.getElementById('player');"
        " return v.src.includes('/short') && v.readyState >= 1 && v.duration > 1.5"
        " && v.videoHeight > v.videoWidth; })()", timeout=90_000)
    assert "short of" in (await page.text_content("#player-title") or "")
    assert errors == []
