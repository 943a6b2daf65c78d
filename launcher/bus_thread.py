"""A thread of its own that follows the running mesh's bus on asyncio until told to stop: the
base of what `clip-live run` and `clip-live vod` watch the mesh with (the supervisor's loop
stays plain and blocking)."""

from __future__ import annotations

import asyncio
import logging
import threading

from shared.bus import Bus
from shared.settings import Settings

log = logging.getLogger("clip_live.follow")


class BusThread:
    """Start with `start()`; stop with `stop()`. A subclass writes `follow(bus)`, which runs
    until `stopping` is set (or until it is done)."""

    name = "follow"

    def __init__(self, settings: Settings, redis_url: str) -> None:
        self.settings = settings.model_copy(update={"redis_url": redis_url})
        self.stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self.stopping.set()
        self._thread.join(5)

    def _run(self) -> None:
        try:
            asyncio.run(self._with_bus())
        except Exception as err:  # a thread's error would vanish: say it
            self.broke(err)

    def broke(self, err: Exception) -> None:
        """`follow` (or connecting) failed with `err`."""
        log.error("%s stopped: %s: %s", self.name, type(err).__name__, err)

    async def _with_bus(self) -> None:
        assert self.settings.redis_url
        bus = await Bus.connect(self.settings.redis_url, self.settings)
        try:
            await self.follow(bus)
        finally:
            await bus.close()

    async def follow(self, bus: Bus) -> None:
        raise NotImplementedError
