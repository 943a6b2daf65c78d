"""Fixtures for the API tests: the api service running in this process on a free port, and a
real headless Chromium (Debian's, driven by Playwright) for the dashboard."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from playwright.async_api import Browser, async_playwright

from shared.settings import Settings
from tests.services.api.support import RunningApi, api_settings, running_api

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "e2e: end-to-end through real services (ingest, clipper, api) and a live "
                   "HLS stream")


@pytest.fixture
async def api(settings: Settings) -> AsyncIterator[RunningApi]:
    async with running_api(api_settings(settings)) as running:
        yield running


@pytest.fixture
async def client(api: RunningApi) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=api.url, timeout=10.0) as http:
        yield http


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    assert Path(CHROMIUM).exists(), "install Debian's chromium: apt-get install -y chromium"
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS,
                                                   headless=True)
        yield browser
        await browser.close()
