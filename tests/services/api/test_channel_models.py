"""Each channel's model on the API and the dashboard: the channel's own (learned from its chat)
or the global one, with its held-out AUC and how many seconds it learned from."""

from __future__ import annotations

import httpx
from playwright.async_api import Browser

from services.fuser.model import ModelStore, logistic
from services.fuser.signals import feature_names
from shared.bus import Bus
from tests.services.api.support import TOKEN, RunningApi, set_state


def install_channel_model(api: RunningApi, channel: str) -> None:
    names = list(feature_names())
    ModelStore.for_channel(api.settings.data_dir, channel).install(
        logistic([0.5] * len(names), -3.0),
        {"kind": "logistic regression learned from chat", "rows": 1234,
         "trained_on": f"chat of channel {channel}", "metrics": {"auc_heldout_new": 0.8765}},
        names)


async def test_channels_list_the_model_that_judges_each(
    api: RunningApi, client: httpx.AsyncClient, bus: Bus
) -> None:
    await set_state(bus, "alpha")
    await set_state(bus, "beta")
    assert all(c["model"] is None for c in (await client.get("/api/channels")).json())
    ModelStore(api.settings.data_dir / "models").load_current()  # the fuser does this at start
    install_channel_model(api, "alpha")
    listed = {c["channel"]: c["model"] for c in (await client.get("/api/channels")).json()}
    assert listed["alpha"] == {
        "scope": "channel", "version": "v0001", "kind": "logistic regression learned from chat",
        "trained_on": "chat of channel alpha", "auc_heldout": 0.8765, "labelled_seconds": 1234}
    assert listed["beta"]["scope"] == "global" and listed["beta"]["version"] == "v0001"
    assert listed["beta"]["trained_on"] == "generated training streams, not real ones"


async def test_the_dashboard_shows_each_channels_model(
    api: RunningApi, bus: Bus, browser: Browser
) -> None:
    await set_state(bus, "alpha")
    install_channel_model(api, "alpha")
    page = await browser.new_page()
    await page.goto(f"{api.url}/?token={TOKEN}")
    shown = await page.wait_for_selector("#channels li[data-channel='alpha'] .model")
    assert shown is not None
    assert await shown.text_content() == \
        "model: channel v0001 · held-out AUC 0.88 · 1234 labelled s"
