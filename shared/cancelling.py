"""Cancel tasks and wait until they have really ended.

On Python 3.11 a cancel can get lost: `asyncio.wait_for` drops it when it lands just as the
call it waits on ends (fixed in Python 3.12). redis-py wraps each write to its socket in
`wait_for` when a socket timeout is set, so a task cancelled in the middle of a Redis call can
go on running as if nothing had happened, and whoever waits for it waits for ever: a service
that never stops. So a task that still runs a while after its cancel is cancelled again. (For
the same reason our own code bounds a wait with `asyncio.timeout`, never `asyncio.wait_for`.)
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from typing import Any

_log = logging.getLogger("clip_live.tasks")

RECANCEL_S = 1.0
"""How long a cancelled task gets to end before it is cancelled again."""


async def cancel_and_wait(
    *tasks: asyncio.Task[Any], grace_s: float = RECANCEL_S, log: logging.Logger = _log,
    extra: Mapping[str, object] | None = None,
) -> None:
    """Cancel `tasks` and wait until each one has ended. A task still running `grace_s` after
    its cancel (the cancel was lost, or it is slow to clean up) is cancelled again, with a
    warning on `log` (`extra` goes with it). If we are cancelled ourselves meanwhile, the tasks
    still running are cancelled once more and our own cancel goes on.

    What a task raised is taken as seen (no "exception was never retrieved" later); a caller
    that cares looks at `task.exception()`."""
    pending = {task for task in tasks if not task.done()}
    for task in pending:
        task.cancel()
    try:
        while pending:
            _, pending = await asyncio.wait(pending, timeout=grace_s)
            for task in pending:
                log.warning("%s still runs %.1f s after its cancel; cancelling again",
                            task.get_name(), grace_s, extra=extra)
                task.cancel()
    except asyncio.CancelledError:
        for task in pending:
            task.cancel()
        raise
    for task in tasks:
        if not task.cancelled():
            task.exception()
