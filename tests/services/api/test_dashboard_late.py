"""The dashboard opened late, in a real headless Chromium: a page opened after the moment still
shows the last minutes of every chart, one mark for the spike, the captions, and the clip with
why it was made and its picture. A page opened before any clip says so, with no empty player."""

from __future__ import annotations

import time
from typing import Any

import pytest
from playwright.async_api import Browser

from shared.bus import Bus
from shared.contracts import Caption, ChatSecond, ClipWhy, EventRow, FaceSecond, Spike
from shared.streams import CAPTIONS, CHAT, CLIPS, EVENTS, FACE, SPIKES
from tests.services.api.support import (
    TOKEN,
    RunningApi,
    open_page,
    publish_at,
    server_ms,
    set_state,
    store_clip,
)

pytestmark = pytest.mark.timeout(120)

CHARTS = ("chart-loud", "chart-motion", "chart-excited", "chart-chat", "chart-face")
SPIKE_T = 22


async def publish_a_past_minute(bus: Bus, channel: str) -> float:
    """A minute of stream (t = 1..60) published as it happened, ending a second ago, with a
    spike at t=22 (the fuser's way: one spike asks for the clip, the next seconds merge into
    it). Also one row from six minutes ago, too old to show. Returns the wall time of t=0."""
    now = await server_ms(bus)
    t0 = now - 61_000
    wall0 = t0 / 1000
    stamp: dict[str, Any] = {"channel": channel, "session": "s1", "dur": 1.0}
    await publish_at(bus, EVENTS, EventRow(**stamp, t=0.0, wall=wall0 - 360, loud_db=-99.0,
                                           excited_prob=0.0), now - 360_000, channel)
    for t in range(1, 61):
        ms, hot = t0 + t * 1000, SPIKE_T <= t < SPIKE_T + 4
        at = {**stamp, "t": float(t), "wall": ms / 1000}
        await publish_at(bus, EVENTS, EventRow(
            **at, loud_db=-12.0 if hot else -40.0, motion_avg=9.0 if hot else 1.0,
            excited_prob=0.95 if hot else 0.1), ms, channel)
        await publish_at(bus, CHAT, ChatSecond(
            **at, messages=15 if hot else 1, chatters=3, rate_z=4.0 if hot else 0.0,
            baseline=1.0, hype_density=0.2, spike=hot, strength=1.0 if hot else 0.0), ms, channel)
        await publish_at(bus, FACE, FaceSecond(**at, present=True,
                                               excitement=0.8 if hot else 0.1), ms, channel)
        if hot:
            job = f"job-{t}" if t == SPIKE_T else ""
            await publish_at(bus, SPIKES, Spike(
                **at, probability=0.91, trigger="two_votes", job_id=job,
                votes={"chat": True, "voice": True, "face": False}), ms, channel)
        if t == SPIKE_T - 1:
            await publish_at(bus, CAPTIONS, Caption(**at, text="what a play", final=True),
                             ms, channel)
            await publish_at(bus, CAPTIONS, Caption(**at, text="what a pl", final=False),
                             ms + 1, channel)
    return wall0


async def test_a_page_opened_after_the_moment_shows_its_charts_spike_and_clip(
    api: RunningApi, bus: Bus, browser: Browser
) -> None:
    await set_state(bus, "alpha")
    wall0 = await publish_a_past_minute(bus, "alpha")
    why = ClipWhy(trigger="two_votes", t=float(SPIKE_T), probability=0.91,
                  votes={"chat": True, "voice": True, "face": False},
                  contributions={"pitch_var_z": -0.3, "loud_z": 1.2, "chat_rate_z": 0.5,
                                 "motion_z": 0.8})
    clip = await store_clip(bus, api.settings, "alpha", "clip_20261121T050000Z",
                            wall=wall0 + SPIKE_T + 20, reason="two_votes", why=why,
                            thumbnail=True, t=float(SPIKE_T))
    await bus.publish(CLIPS, clip)
    assert time.time() - (wall0 + SPIKE_T) > 30  # the moment is well in the past

    errors: list[str] = []
    page = await open_page(browser, api, errors)

    # Every chart has the last minute (the six-minute-old row is left out)...
    await page.wait_for_function(
        f"{list(CHARTS)}.every(id => {{ const d = document.getElementById(id).data;"
        " return d && d.length === 1 && d[0].x.length === 60; })")
    xs = await page.evaluate("document.getElementById('chart-loud').data[0].x")
    assert xs == list(range(1, 61))
    chat = await page.evaluate("document.getElementById('chart-chat').data[0].y")
    assert chat[SPIKE_T - 1] == 15 and chat[0] == 1
    # ... and one mark for the spike, on every chart.
    for chart in CHARTS:
        marks = await page.evaluate(f"document.getElementById('{chart}').layout.shapes"
                                    ".filter(s => (s.name || '').startsWith('spike'))")
        assert [(m["x0"], m["name"]) for m in marks] == [(SPIKE_T, f"spike job-{SPIKE_T}")]
    # The final caption is there; the interim one after it was not sent.
    await page.wait_for_selector("#captions li:has-text('what a play')")
    assert await page.text_content("#caption-interim") == ""

    # The clip says why, and shows its picture.
    item = page.locator(f"#clips li[data-clip-id='{clip.clip_id}']")
    await item.wait_for()
    assert await item.locator(".why").text_content() == (
        "two_votes · P 0.91 · votes: chat, voice · top: loud_z +1.20, motion_z +0.80, "
        "chat_rate_z +0.50 · at 0:22 stream time")
    assert await item.locator("img.thumb").get_attribute("src") == (  # the token: reads may
        f"/api/clip/{clip.clip_id}/thumbnail?token={TOKEN}")           # need it (api_host)
    await page.wait_for_function(
        f"(() => {{ const i = document.querySelector(\"#clips li[data-clip-id='{clip.clip_id}']"
        " img.thumb\"); return i && i.complete && i.naturalWidth === 320"
        " && i.naturalHeight === 180; })()")
    assert not await page.is_visible("#no-clips")
    assert not await page.is_visible("#player")  # no empty player until a clip is played
    assert errors == []


async def test_a_page_opened_before_any_clip_says_no_clips_yet(
    api: RunningApi, bus: Bus, browser: Browser
) -> None:
    await set_state(bus, "alpha")
    errors: list[str] = []
    page = await open_page(browser, api, errors)
    await page.wait_for_selector("#no-clips", state="visible")
    assert "No clips yet" in (await page.text_content("#no-clips") or "")
    assert await page.locator("#clips li").count() == 0
    assert not await page.is_visible("#player")

    # A manual clip arrives: the list has it, says why, and the empty note goes.
    clip = await store_clip(bus, api.settings, "alpha", "clip_20261121T060000Z",
                            reason="manual", why=ClipWhy(trigger="manual", t=83.0), t=83.0)
    await bus.publish(CLIPS, clip)
    item = page.locator(f"#clips li[data-clip-id='{clip.clip_id}']")
    await item.wait_for()
    assert await item.locator(".why").text_content() == "manual · at 1:23 stream time"
    assert await item.locator("img.thumb").count() == 0  # no picture: none is shown
    await page.wait_for_selector("#no-clips", state="hidden")
    assert errors == []
