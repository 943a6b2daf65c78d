"""`clip-live vod`'s side of a VOD job: hand the job to the mesh's vod worker, and follow its
progress on the bus until it is done.

It runs on a thread of its own (`launcher/bus_thread.py`). The supervisor's loop reads
`outcome` to learn that the job is over.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable

from launcher.bus_thread import BusThread
from launcher.run_report import Outcome
from shared.bus import REDIS_DOWN, Bus
from shared.contracts import VodProgress, VodRequest
from shared.settings import Settings
from shared.streams import VOD_PROGRESS, VOD_REQUESTS

POLL_MS = 250


class VodFollow(BusThread):
    """Start with `start()`; stop with `stop()`. Each progress message goes to `show`."""

    name = "vod-follow"

    def __init__(self, settings: Settings, redis_url: str, request: VodRequest,
                 show: Callable[[VodProgress], None]) -> None:
        super().__init__(settings, redis_url)
        self.request = request
        self.show = show
        self.outcome: Outcome | None = None

    def broke(self, err: Exception) -> None:
        self.outcome = Outcome(1, f"clip-live vod: {type(err).__name__}: {err}")

    async def follow(self, bus: Bus) -> None:
        newest = await bus.latest(VOD_PROGRESS)
        after = newest.id if newest else "0"
        await bus.publish(VOD_REQUESTS, self.request.model_copy(update={"wall": time.time()}))
        while not self.stopping.is_set() and self.outcome is None:
            with contextlib.suppress(*REDIS_DOWN):  # paused or restarting: poll again
                for item in await bus.read(VOD_PROGRESS, after=after, block_ms=POLL_MS):
                    after = item.id
                    if item.message.job_id == self.request.job_id:
                        self._seen(item.message)

    def _seen(self, progress: VodProgress) -> None:
        self.show(progress)
        if progress.stage == "done":
            skipped = (f"; {len(progress.skipped)} stretch(es) skipped, see report.html"
                       if progress.skipped else "")
            self.outcome = Outcome(0, f"{len(progress.clips)} clip(s) of the best moments in "
                                      f"{progress.out}{skipped}")
        elif progress.stage == "failed":
            self.outcome = Outcome(1, f"clip-live vod: {progress.detail}")
