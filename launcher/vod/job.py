"""Follow one VOD through the running mesh, from the first second to the ranked clips.

A thread of its own (like `launcher/follow.py`) runs `VodJob.follow` on asyncio:

1. wait for ingest to start the VOD's session, then hand the chat file's seconds to the bus
   as ingest's audio gets to them (the fuser must not see chat far ahead of the rest);
2. read the fuser's seconds (the `events` topic) as they come: they show how far it is;
3. when ingest has ended and the fuser has closed the last second, rank the moments, ask the
   clipper for the best `top` (the mesh's own clipper cuts them, with .srt and thumbnail),
   and write them, their .json and report.html to the out folder.

The supervisor's loop reads `outcome` to learn that the job is over.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from launcher.run_report import Outcome
from launcher.vod.chat import chat_seconds
from launcher.vod.outputs import write_outputs
from launcher.vod.rank import Moment, candidates, pick
from shared.bus import REDIS_DOWN, Bus
from shared.channels import current_state
from shared.contracts import ChatSecond, Clip, ClipRequest, EventRow
from shared.settings import Settings
from shared.streams import AUDIO_FEATURES, CHAT, CLIP_REQUESTS, CLIPS, EVENTS, MOTION

POLL_S = 0.25
END_IDLE_S = 20.0
"""After ingest ended, no new second from the fuser for this long: it has closed its last."""
CLIP_WAIT_S = 180.0


@dataclass
class VodPlan:
    """What to analyse and where the results go."""

    video: Path
    channel: str
    length_s: float
    top: int
    out: Path
    chat: Path | None = None


@dataclass
class Progress:
    """How far the job is, for the progress bar."""

    done_s: float = 0.0
    started: float = field(default_factory=time.monotonic)
    stage: str = "starting the workers"


class VodJob:
    """Start with `start()`; stop with `stop()`. `outcome` is set when the job is over."""

    def __init__(self, settings: Settings, redis_url: str, plan: VodPlan,
                 show: Callable[[Progress], None]) -> None:
        self.settings = settings.model_copy(update={"redis_url": redis_url})
        self.plan = plan
        self.show = show
        self.progress = Progress()
        self.outcome: Outcome | None = None
        self.rows: list[EventRow] = []
        self.chat: list[ChatSecond] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="vod", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(10)

    def _run(self) -> None:
        try:
            self.outcome = asyncio.run(self.follow())
        except Exception as err:  # the run must end, with the reason shown
            self.outcome = Outcome(1, f"clip-live vod: {type(err).__name__}: {err}")

    async def follow(self) -> Outcome | None:
        assert self.settings.redis_url
        bus = await Bus.connect(self.settings.redis_url, self.settings)
        try:
            session = await self._wait_session(bus)
            if session is None:
                return None
            if self.plan.chat:
                self.chat = chat_seconds(self.plan.chat, self.settings, self.plan.channel,
                                         session, self.plan.length_s)
            self.progress.stage = "analysing"
            if not await self._analyse(bus, session):
                return None
            self.progress.stage = "cutting clips"
            self.show(self.progress)
            picked = pick(candidates(self.rows, self.chat), self.plan.top,
                          self.settings.clip_pre, self.settings.clip_post)
            clips = await self._cut(bus, session, picked)
            if clips is None:
                return None
            write_outputs(self.plan, picked, clips, self.rows, self.chat)
            self.progress.stage = "done"
            self.show(self.progress)
            return Outcome(0, f"{len(clips)} clip(s) of the best moments in {self.plan.out}")
        finally:
            await bus.close()

    async def _wait_session(self, bus: Bus) -> str | None:
        while not self._stop.is_set():
            with _redis_may_blink():
                state = await current_state(bus.redis, self.plan.channel)
                if state is not None and state.state == "failed":
                    raise RuntimeError(state.detail)
                if state is not None and state.state in ("live", "ended"):
                    return state.session
            self.show(self.progress)
            await asyncio.sleep(POLL_S)
        return None

    async def _analyse(self, bus: Bus, session: str) -> bool:
        """Pass on chat in step with the audio and gather the fuser's seconds, until the end.
        False when told to stop first."""
        after, sent, last_new = "0", 0, time.monotonic()
        while not self._stop.is_set():
            with _redis_may_blink():
                for item in await bus.read(EVENTS, channel=self.plan.channel, after=after,
                                           count=1000):
                    after = item.id
                    if item.message.session == session:
                        self.rows.append(item.message)
                        self.progress.done_s = max(self.progress.done_s, item.message.t + 1)
                        last_new = time.monotonic()
                sent = await self._send_chat(bus, sent)
                state = await current_state(bus.redis, self.plan.channel)
                ended = state is not None and state.state in ("ended", "failed")
                if ended and sent < len(self.chat):
                    sent = await self._send_chat(bus, sent, everything=True)
                if ended and (self.progress.done_s >= self.plan.length_s - 1
                              or time.monotonic() - last_new > END_IDLE_S):
                    return True
            self.show(self.progress)
            await asyncio.sleep(POLL_S)
        return False

    async def _send_chat(self, bus: Bus, sent: int, everything: bool = False) -> int:
        """Publish the chat seconds up to the chat delay past where the slower steady signals
        (sound and picture) have got; return how many are out. The fuser judges a second with
        the chat of the delay after it, so that chat must be there when the second closes;
        chat far further ahead would make it close seconds before their sound and picture."""
        if sent >= len(self.chat):
            return sent
        sound = await bus.latest(AUDIO_FEATURES, channel=self.plan.channel)
        picture = await bus.latest(MOTION, channel=self.plan.channel)
        reached = min(sound.message.t if sound else 0.0, picture.message.t if picture else 0.0)
        reached += self.settings.fuser_chat_delay_s
        upto = sent
        while upto < len(self.chat) and (everything or self.chat[upto].t < reached):
            upto += 1
        if upto > sent:
            await bus.publish_many(CHAT, [(c, None) for c in self.chat[sent:upto]],
                                   channel=self.plan.channel)
        return upto

    async def _cut(self, bus: Bus, session: str, picked: list[Moment]) -> list[Clip] | None:
        """Ask the mesh's clipper for each picked moment; wait for the clips (in rank order)."""
        after = (await bus.latest(CLIPS))
        last = after.id if after else "0"
        jobs: dict[str, int] = {}
        for rank, moment in enumerate(picked):
            job_id = f"vod-{uuid.uuid4().hex[:10]}"
            jobs[job_id] = rank
            await bus.publish(CLIP_REQUESTS, ClipRequest(
                channel=self.plan.channel, job_id=job_id, session=session, t=moment.peak,
                pre=self.settings.clip_pre, post=self.settings.clip_post, reason="vod",
                wall=time.time()))
        got: dict[int, Clip] = {}
        deadline = time.monotonic() + CLIP_WAIT_S
        while len(got) < len(jobs) and time.monotonic() < deadline:
            if self._stop.is_set():
                return None
            with _redis_may_blink():
                for item in await bus.read(CLIPS, after=last, block_ms=500):
                    last = item.id
                    if item.message.job_id in jobs:
                        got[jobs[item.message.job_id]] = item.message
        if len(got) < len(jobs):
            raise RuntimeError(f"the clipper made {len(got)} of {len(jobs)} clips in "
                               f"{CLIP_WAIT_S:.0f} s")
        return [got[i] for i in range(len(jobs))]


def _redis_may_blink() -> contextlib.suppress:
    """Redis away for a moment (paused, restarting): just poll again."""
    return contextlib.suppress(*REDIS_DOWN)
