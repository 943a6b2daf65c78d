"""`clip-live vod`'s side of a VOD job: hand the job to the mesh's vod worker, and follow its
progress on the bus until it is done.

A thread of its own (like `launcher/follow.py`) runs on asyncio. The supervisor's loop reads
`outcome` to learn that the job is over.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import Callable

from launcher.run_report import Outcome
from shared.bus import REDIS_DOWN, Bus
from shared.contracts import VodProgress, VodRequest
from shared.settings import Settings
from shared.streams import VOD_PROGRESS, VOD_REQUESTS

POLL_MS = 250


class VodFollow:
    """Start with `start()`; stop with `stop()`. Each progress message goes to `show`."""

    def __init__(self, settings: Settings, redis_url: str, request: VodRequest,
                 show: Callable[[VodProgress], None]) -> None:
        self.settings = settings.model_copy(update={"redis_url": redis_url})
        self.request = request
        self.show = show
        self.last: VodProgress | None = None
        self.outcome: Outcome | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="vod-follow", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(5)

    def _run(self) -> None:
        try:
            asyncio.run(self._follow())
        except Exception as err:  # the run must end, with the reason shown
            self.outcome = Outcome(1, f"clip-live vod: {type(err).__name__}: {err}")

    async def _follow(self) -> None:
        assert self.settings.redis_url
        bus = await Bus.connect(self.settings.redis_url, self.settings)
        try:
            newest = await bus.latest(VOD_PROGRESS)
            after = newest.id if newest else "0"
            await bus.publish(VOD_REQUESTS, self.request.model_copy(update={"wall": time.time()}))
            while not self._stop.is_set() and self.outcome is None:
                with contextlib.suppress(*REDIS_DOWN):  # paused or restarting: poll again
                    for item in await bus.read(VOD_PROGRESS, after=after, block_ms=POLL_MS):
                        after = item.id
                        if item.message.job_id == self.request.job_id:
                            self._seen(item.message)
        finally:
            await bus.close()

    def _seen(self, progress: VodProgress) -> None:
        self.last = progress
        self.show(progress)
        if progress.stage == "done":
            skipped = (f"; {len(progress.skipped)} stretch(es) skipped, see report.html"
                       if progress.skipped else "")
            self.outcome = Outcome(0, f"{len(progress.clips)} clip(s) of the best moments in "
                                      f"{progress.out}{skipped}")
        elif progress.stage == "failed":
            self.outcome = Outcome(1, f"clip-live vod: {progress.detail}")
