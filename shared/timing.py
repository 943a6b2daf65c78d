"""Waiting that a stop flag can cut short."""

from __future__ import annotations

import asyncio
import contextlib


async def sleep_unless(stop: asyncio.Event, seconds: float) -> None:
    """Wait `seconds`, or less if `stop` is set meanwhile. A cancel always gets through."""
    # asyncio.timeout, not wait_for: on Python 3.11 wait_for can swallow a cancel that comes
    # just as the wait ends, and then a task refuses to stop.
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(seconds):
            await stop.wait()
