"""One part of a VOD as it runs through the mesh: a channel of its own, its chat handed out in
step with its sound and picture, and the fuser's seconds read back onto the VOD's clock."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from services.vod.chat import on_part
from services.vod.media import cut_part
from services.vod.parts import Part
from shared.bus import Bus
from shared.channels import current_state
from shared.contracts import ChatSecond, Clip, EventRow, MonitorCommand, Spike
from shared.recording import pin
from shared.settings import Settings
from shared.streams import AUDIO_FEATURES, CHAT, CONTROL, EVENTS, MOTION, SPIKES

if TYPE_CHECKING:
    from services.vod.job import VodPlan

END_IDLE_S = 20.0
"""After ingest ended a part, no new second from the fuser for this long: it has closed its
last."""


@dataclass
class PartRun:
    """A part, the file it was copied to, and how far the mesh has got with it."""

    part: Part
    channel: str
    source: Path
    chat: list[ChatSecond] = field(default_factory=list)
    """Its chat seconds on its own clock (session filled in once it starts)."""
    session: str = ""
    rows: list[EventRow] = field(default_factory=list)
    spikes: list[Spike] = field(default_factory=list)
    after: str = "0"
    spikes_after: str = "0"
    chat_sent: int = 0
    reached: float = 0.0
    """Seconds of its own clock the fuser has closed."""
    ended: bool = False
    failed: str = ""
    told_failed: bool = False
    last_new: float = field(default_factory=time.monotonic)

    @property
    def over(self) -> bool:
        return self.ended or bool(self.failed)

    @property
    def done_s(self) -> float:
        """Seconds of its kept stretch judged so far."""
        if self.over:
            return self.part.kept_s
        reached = self.part.start + self.reached
        return min(self.part.kept_s, max(0.0, reached - self.part.keep_from))

    def keeps(self, t: float) -> bool:
        """True when the second `t` of the VOD is judged by this part."""
        return self.part.keep_from <= t < self.part.keep_to

    def kept_rows(self) -> list[EventRow]:
        """Its seconds in its kept stretch, on the VOD's clock."""
        shifted = (r.model_copy(update={"t": r.t + self.part.start}) for r in self.rows)
        return [r for r in shifted if self.keeps(r.t)]

    def kept_spikes(self) -> list[Spike]:
        """The fuser's spikes in its kept stretch, on the VOD's clock."""
        shifted = (s.model_copy(update={"t": s.t + self.part.start}) for s in self.spikes)
        return [s for s in shifted if self.keeps(s.t)]

    def on_vod_clock(self, clip: Clip) -> Clip:
        return clip.model_copy(update={"t": clip.t + self.part.start,
                                       "start": clip.start + self.part.start})

    async def start_channel(self, bus: Bus, job_id: str) -> None:
        """Keep its recording until the clips are cut (`keep_recording`), then have ingest
        read it as a recording (see `shared.channels.vod_settings`)."""
        await self.keep_recording(bus, job_id)
        await bus.publish(CONTROL, MonitorCommand(channel=self.channel, action="start",
                                                  url=str(self.source), quality="best",
                                                  vod=True, wall=time.time()))

    async def keep_recording(self, bus: Bus, job_id: str) -> None:
        """Pin all of its recording for the job (again: a pin runs out after a while)."""
        await pin(bus.redis, self.channel, job_id, 0.0)

    async def follow(self, bus: Bus, settings: Settings) -> None:
        """One look: the channel's state, the fuser's new seconds, the chat now due."""
        state = await current_state(bus.redis, self.channel)
        if state is None or state.state in ("starting", "stopped"):
            return
        if state.state == "failed":
            self.failed = state.detail or "ingest gave up on it"
            return
        if not self.session:
            self.session = state.session
            self.chat = [c.model_copy(update={"session": self.session}) for c in self.chat]
        for item in await bus.read(EVENTS, channel=self.channel, after=self.after, count=1000):
            self.after = item.id
            if item.message.session == self.session:
                self.rows.append(item.message)
                self.reached = max(self.reached, item.message.t + 1)
                self.last_new = time.monotonic()
        for spike in await bus.read(SPIKES, channel=self.channel, after=self.spikes_after,
                                    count=1000):
            self.spikes_after = spike.id
            if spike.message.session == self.session:
                self.spikes.append(spike.message)
        length = self.part.end - self.part.start
        ended = state.state == "ended"
        await self._send_chat(bus, settings, everything=ended)
        if ended and (self.reached >= length - 1
                      or time.monotonic() - self.last_new > END_IDLE_S):
            self.ended = True

    async def _send_chat(self, bus: Bus, settings: Settings, everything: bool) -> None:
        """Publish the chat seconds up to the chat delay past where the slower steady signals
        (sound and picture) have got. The fuser judges a second with the chat of the delay
        after it, so that chat must be there when the second closes; chat far further ahead
        would make it close seconds before their sound and picture."""
        if self.chat_sent >= len(self.chat):
            return
        sound = await bus.latest(AUDIO_FEATURES, channel=self.channel)
        picture = await bus.latest(MOTION, channel=self.channel)
        reached = min(sound.message.t if sound else 0.0, picture.message.t if picture else 0.0)
        reached += settings.fuser_chat_delay_s
        upto = self.chat_sent
        while upto < len(self.chat) and (everything or self.chat[upto].t < reached):
            upto += 1
        if upto > self.chat_sent:
            await bus.publish_many(CHAT, [(c, None) for c in self.chat[self.chat_sent:upto]],
                                   channel=self.channel)
        self.chat_sent = upto


def cut_parts(plan: VodPlan, parts: list[Part], chat: list[ChatSecond], folder: Path,
              stopped: Callable[[], bool]) -> list[PartRun]:
    """A `PartRun` for each part, its media copied into `folder` (the VOD itself when one
    part covers all of it), its chat on its own clock."""
    runs = []
    for part in parts:
        if stopped():
            break
        whole = len(parts) == 1 and part.start == 0 and part.end >= plan.length_s
        channel = plan.channel if len(parts) == 1 else f"{plan.channel}-{part.index + 1}"
        source = plan.video if whole else cut_part(plan.video, part,
                                                   folder / f"part{part.index + 1}.mkv")
        runs.append(PartRun(part, channel, source,
                            on_part(chat, channel, "", part.start, part.end)))
    return runs
