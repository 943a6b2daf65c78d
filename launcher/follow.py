"""Follow a running mesh from `clip-live run` and tell the terminal what matters.

A thread of its own polls the bus twice a second (heartbeats, channel states, clip progress,
new clips) and feeds `RunReport`, which picks the lines a person should see. The supervisor's
loop reads `report.outcome` to learn that a one-stream run is over.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from typing import Any

from launcher.bus_thread import BusThread
from launcher.run_report import Outcome, RunReport
from shared.bus import REDIS_DOWN, Bus
from shared.channels import all_states
from shared.runtime import heartbeats
from shared.settings import Settings
from shared.streams import CLIP_PROGRESS, CLIPS, Topic

POLL_S = 0.5


class Follower(BusThread):
    """Start with `start()`; stop with `stop()`. Lines go to `say`."""

    def __init__(self, settings: Settings, redis_url: str, report: RunReport,
                 say: Callable[[str], None]) -> None:
        super().__init__(settings, redis_url)
        self.report = report
        self.say = say

    @property
    def outcome(self) -> Outcome | None:
        """Set when the run should end by itself."""
        return self.report.outcome

    async def follow(self, bus: Bus) -> None:
        after = {CLIP_PROGRESS.name: await _newest_id(bus, CLIP_PROGRESS),
                 CLIPS.name: await _newest_id(bus, CLIPS)}
        while not self.stopping.is_set():
            # Redis going away (the run is stopping) or paused: just poll again.
            with contextlib.suppress(*REDIS_DOWN):
                await self._poll(bus, after)
            await asyncio.sleep(POLL_S)

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
