"""One channel in the fuser: read its signal streams by position, decide, and publish each
output together with the checkpoint that says how far we got (see `checkpoint`)."""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from collections.abc import Callable
from typing import Any

from services.fuser import signals
from services.fuser.checkpoint import Checkpoint, ReplayPoints
from services.fuser.decider import Decider, FuserConfig, Outputs, job_id_for
from services.fuser.events_log import append_rows
from services.fuser.merge import Entry, TimeMerge
from services.fuser.model import LoadedModel
from shared.bus import REDIS_DOWN, Bus
from shared.channels import ACTIVE_STATES, current_state
from shared.contracts import Contract
from shared.settings import Settings
from shared.streams import CLIP_REQUESTS, EVENTS, SPIKES, Topic, fuser_checkpoint_key
from shared.timing import sleep_unless

LATE_REPORT_S = 10.0
"""Messages that came after their second closed are logged at most this often, per channel."""
log = logging.getLogger("clip_live.fuser")


class ChannelRun:
    """Runs the decider of one owned channel until the channel is given up."""

    def __init__(self, bus: Bus, settings: Settings, config: FuserConfig, channel: str,
                 model: Callable[[], LoadedModel], stop: asyncio.Event) -> None:
        self.bus = bus
        self.settings = settings
        self.channel = channel
        self.model = model
        self.stop = stop
        self.decider = Decider(channel, config, model(), functools.partial(job_id_for, channel),
                               time.time)
        self.topics: dict[str, Topic[Any]] = {t.stream(channel): t for t in signals.topics()}
        self.places = dict.fromkeys(self.topics, "0")
        self.points = ReplayPoints()
        self.merge = TimeMerge()
        self.session = ""
        self.noted: tuple[int, int] = (-1, -1)
        self.last_late_report = 0.0
        self.extra = {"channel": channel}

    async def run(self) -> None:
        """Go on from the last checkpoint of the channel's session, then follow the streams."""
        state = await current_state(self.bus.redis, self.channel)
        self.session = state.session if state else ""
        await self._resume()
        try:
            while not self.stop.is_set() and await self._step():
                pass
        finally:
            await self._leave()

    async def _resume(self) -> None:
        raw = await self.bus.redis.get(fuser_checkpoint_key(self.channel))
        found = Checkpoint.loads(raw.decode() if isinstance(raw, bytes) else raw)
        if found is None or found.session != self.session:
            return
        self.decider.replay(found.closed_until, found.rows_from)
        self.places.update({s: i for s, i in found.replay_from.items() if s in self.places})
        self.points = ReplayPoints(start=found.replay_from)
        self.noted = (found.closed_until, found.rows_from)
        log.info("going on from t=%d, where the last fuser got to (reading again from %d s "
                 "before it)", found.closed_until, self.points.warm_s, extra=self.extra)

    async def _step(self) -> bool:
        """Read what is new, decide, publish. False when the channel's session changed."""
        self.decider.model = self.model()
        try:
            batches = await self.bus.read_batches(
                {s: (self.topics[s], self.places[s]) for s in self.topics}, reader="fuser",
                count=self.settings.read_batch, block_ms=self.settings.read_block_ms)
        except REDIS_DOWN as err:
            log.warning("cannot read the signals: %s", err, extra=self.extra)
            await sleep_unless(self.stop, 1.0)
            return True
        for batch in batches:
            self.places[batch.stream] = batch.last
        self.merge.add({b.stream: [Entry(b.stream, d.id, d.message.t, d.message)
                                   for d in b.deliveries] for b in batches},
                       {b.stream for b in batches if b.full})
        out = Outputs()
        for entry in self.merge.ready():
            if entry.message.session != self.session:
                if await self._new_session(entry.message.session):
                    return False
                continue  # A message of an earlier session, still in the stream.
            self.decider.add(entry.message)
            self.points.saw(entry.stream, entry.id, entry.t)
            out.extend(self.decider.step())
        self._report_late()
        await self._publish(out)
        return True

    async def _new_session(self, session: str) -> bool:
        """A message of another session: True when the channel really moved on to it."""
        state = await current_state(self.bus.redis, self.channel)
        return state is not None and state.session == session != self.session

    async def _publish(self, out: Outputs) -> None:
        """Write the outputs and the checkpoint at once; events.csv first (it skips rows it
        holds already, so writing it again after a crash is harmless)."""
        decider = self.decider
        place = (decider.closed_until, decider.written_until)
        if not (out.rows or out.spikes or out.jobs) and place == self.noted:
            return
        if out.rows:
            await asyncio.to_thread(append_rows, self.settings.data_dir, out.rows)
        note = Checkpoint(self.session, decider.closed_until, decider.written_until,
                          self.points.points(decider.closed_until))
        items: list[tuple[Topic[Any], Contract, str | None]] = [
            *((EVENTS, r, self.channel) for r in out.rows),
            *((SPIKES, s, self.channel) for s in out.spikes),
            *((CLIP_REQUESTS, j, None) for j in out.jobs if self.settings.fuser_clip_jobs)]
        while True:
            try:
                await self.bus.publish_together(
                    items, {fuser_checkpoint_key(self.channel): note.dumps()})
                break
            except REDIS_DOWN as err:  # Keep them: nothing is lost while Redis is away.
                log.warning("cannot publish; trying again: %s", err, extra=self.extra)
                await asyncio.sleep(1.0)
        self.noted = place
        for spike in out.spikes:
            log.log(logging.INFO if spike.job_id else logging.DEBUG,
                    "spike at t=%.0f s: %s, P=%.2f, votes=%s, %s", spike.t, spike.trigger,
                    spike.probability, spike.votes,
                    f"clip job {spike.job_id}" if spike.job_id else "merged into last clip",
                    extra=self.extra)

    def _report_late(self) -> None:
        late = self.decider.buckets.late
        if not late or time.monotonic() - self.last_late_report < LATE_REPORT_S:
            return
        self.last_late_report = time.monotonic()
        by_signal: dict[str, list[float]] = {}
        for name, behind in late:
            by_signal.setdefault(name, []).append(behind)
        late.clear()
        for name, behinds in sorted(by_signal.items()):
            log.warning("%d %s message(s) came after their second closed (up to %.1f s "
                        "behind the newest signal); not counted", len(behinds), name,
                        max(behinds), extra=self.extra)

    async def _leave(self) -> None:
        """We stop owning the channel. When another fuser took it over, it goes on from the
        checkpoint. When we stop, or the channel is no longer watched, close the open seconds
        with what came, so they are written even if nobody goes on."""
        try:
            state = await current_state(self.bus.redis, self.channel)
            taken_over = (not self.stop.is_set() and state is not None
                          and state.state in ACTIVE_STATES and state.session == self.session)
            if taken_over:
                return
            out = self.decider.finish()
            await self._publish(out)
        except REDIS_DOWN as err:
            log.warning("could not close the open seconds: %s", err, extra=self.extra)
            return
        if out.rows:
            log.info("wrote the %d second(s) still open before stopping", len(out.rows),
                     extra=self.extra)
