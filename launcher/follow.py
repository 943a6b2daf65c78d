"""Follow a running mesh from `clip-live run` and tell the terminal what matters.

A thread of its own polls the bus twice a second (heartbeats, channel states, clip progress,
new clips) and feeds `RunReport`, which picks the lines a person should see. The supervisor's
loop reads `report.outcome` to learn that a one-stream run is over.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import Callable
from typing import Any

from launcher.run_report import Outcome, RunReport
from shared.bus import REDIS_DOWN, Bus
from shared.channels import all_states
from shared.runtime import heartbeats
from shared.settings import Settings
from shared.streams import CLIP_PROGRESS, CLIPS, Topic

POLL_S = 0.5


class Follower:
    """Start with `start()`; stop with `stop()`. Lines go to `say`."""

    def __init__(self, settings: Settings, redis_url: str, report: RunReport,
                 say: Callable[[str], None]) -> None:
        self.settings = settings.model_copy(update={"redis_url": redis_url})
        self.report = report
        self.say = say
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="follow", daemon=True)

    @property
    def outcome(self) -> Outcome | None:
        """Set when the run should end by itself."""
        return self.report.outcome

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(5)

    def _run(self) -> None:
        asyncio.run(self._follow())

    async def _follow(self) -> None:
        assert self.settings.redis_url
        bus = await Bus.connect(self.settings.redis_url, self.settings)
        try:
            after = {CLIP_PROGRESS.name: await _newest_id(bus, CLIP_PROGRESS),
                     CLIPS.name: await _newest_id(bus, CLIPS)}
            while not self._stop.is_set():
                # Redis going away (the run is stopping) or paused: just poll again.
                with contextlib.suppress(*REDIS_DOWN):
                    await self._poll(bus, after)
                await asyncio.sleep(POLL_S)
        finally:
            await bus.close()

    async def _poll(self, bus: Bus, after: dict[str, str]) -> None:
        report, now = self.report, time.time()
        lines = report.services_seen(b.service for b in await heartbeats(bus.redis))
        for state in (await all_states(bus.redis)).values():
            lines += report.channel_seen(state, now)
        for item in await bus.read(CLIP_PROGRESS, after=after[CLIP_PROGRESS.name]):
            after[CLIP_PROGRESS.name] = item.id
            lines += report.progress_seen(item.message, now)
        for clip in await bus.read(CLIPS, after=after[CLIPS.name]):
            after[CLIPS.name] = clip.id
            lines += report.clip_seen(clip.message, now)
        lines += report.tick(now)
        for line in lines:
            self.say(line)


async def _newest_id(bus: Bus, topic: Topic[Any]) -> str:
    """Start after what is already there: an outside Redis may hold an earlier run's clips."""
    newest = await bus.latest(topic)
    return newest.id if newest else "0"
