"""Cancelling a task that loses its cancel (as one can on Python 3.11, inside redis-py)."""

from __future__ import annotations

import asyncio
import logging

import pytest

from shared.cancelling import cancel_and_wait


async def _deaf(cancels: list[float], deaf_for: int) -> None:
    """Works until cancelled, but acts as if its first `deaf_for` cancels got lost."""
    while True:
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            cancels.append(asyncio.get_running_loop().time())
            if len(cancels) > deaf_for:
                raise


async def test_a_task_that_lost_its_cancel_is_cancelled_again_and_ends(
    caplog: pytest.LogCaptureFixture,
) -> None:
    cancels: list[float] = []
    deaf = asyncio.create_task(_deaf(cancels, deaf_for=2), name="deaf-reader")
    plain = asyncio.create_task(asyncio.sleep(3600))
    await asyncio.sleep(0)
    caplog.set_level(logging.WARNING, logger="clip_live.tasks")
    await asyncio.wait_for(cancel_and_wait(deaf, plain, grace_s=0.1), 5)
    assert deaf.cancelled() and plain.cancelled()
    assert len(cancels) == 3
    assert cancels[2] - cancels[0] >= 0.2  # one grace between each try, not all at once
    warned = [r.getMessage() for r in caplog.records if "cancelling again" in r.getMessage()]
    assert len(warned) == 2 and all("deaf-reader" in m for m in warned)


async def test_a_failed_task_is_waited_for_and_a_cancel_of_ours_reaches_the_tasks() -> None:
    async def fails() -> None:
        raise ValueError("broken")

    failed = asyncio.create_task(fails())
    await asyncio.sleep(0)
    await cancel_and_wait(failed)  # Already over: nothing to cancel, nothing raised.
    assert isinstance(failed.exception(), ValueError)

    cancels: list[float] = []
    deaf = asyncio.create_task(_deaf(cancels, deaf_for=1))
    await asyncio.sleep(0)
    waiting = asyncio.create_task(cancel_and_wait(deaf, grace_s=60))
    await asyncio.sleep(0.05)
    assert len(cancels) == 1 and not deaf.done()
    waiting.cancel()  # We are stopped ourselves: the task gets its cancel once more.
    with pytest.raises(asyncio.CancelledError):
        await waiting
    await asyncio.wait_for(asyncio.gather(deaf, return_exceptions=True), 1)
    assert len(cancels) == 2 and deaf.cancelled()
