"""One channel's monitoring session: connect, publish, reconnect, until it ends.

The task runs on the one ingest replica that holds the channel's lease. It:
- picks up where the session got to (a take-over or restart goes on with the same clock);
- connects to the source again and again (with growing waits) when it drops;
- publishes audio chunks, segments, gaps and channel states on the bus;
- keeps the ring buffer on disk within `retention_s` (plus what clip jobs pinned).
"""

from __future__ import annotations

import asyncio
import logging
import math
import time

from services.ingest.backlog import channel_streams, stream_lag_s
from services.ingest.chunker import PcmChunk
from services.ingest.clock import RetryPolicy, StreamClock
from services.ingest.connection import Outcome, Plan, connect
from services.ingest.resume import read_disk, remove_lists
from services.ingest.ring_buffer import Stored, append_index, delete, to_delete
from services.ingest.sources import Source, SourceError, classify, public_source, unpaced
from services.ingest.streamlink_open import make_session
from shared.bus import REDIS_DOWN
from shared.channels import (
    ACTIVE_STATES,
    current_state,
    is_current,
    save_if_current,
    vod_settings,
)
from shared.contracts import AudioChunk, ChannelState, ChannelStateName, Gap, Segment
from shared.netcheck import private_reason
from shared.netguard import guard_session
from shared.recording import buffer_dir, earliest_pin
from shared.runtime import ServiceContext
from shared.streams import AUDIO, CHANNEL_STATES, GAPS, PCM, SEGMENTS
from shared.timing import sleep_unless

log = logging.getLogger("clip_live.ingest.channel")

STREAMS_REFRESH_S = 2.0
"""VOD mode: how often to look again for the channel's streams (a worker may add one)."""

RESTARTED = "ingest restarted (the worker changed: a restart or a take-over)"
"""The reason of the gap a worker leaves when it stops without ending the session."""


async def run_channel(ctx: ServiceContext, channel: str) -> None:
    """Run the channel's current session, if it is one to run."""
    state = await current_state(ctx.bus.redis, channel)
    if state is None or state.state not in ACTIVE_STATES:
        return
    await ChannelTask(ctx, state).run()


class ChannelTask:
    """The session of one channel, on this replica."""

    def __init__(self, ctx: ServiceContext, state: ChannelState) -> None:
        self.ctx = ctx
        self.settings = vod_settings(ctx.settings) if state.vod else ctx.settings
        self.vod = state.vod
        self.bus = ctx.bus
        self.redis = ctx.bus.redis
        self.channel = state.channel
        self.session = state.session
        self.url = state.url
        self.quality = state.quality or self.settings.ingest_quality
        self.public_only = state.public_only
        self.folder = buffer_dir(self.settings.data_dir, self.channel, self.session)
        self.clock = StreamClock()
        self.stored: list[Stored] = []
        self.next_seq = 0
        self.worked = False
        self.gap_reason = ""
        self.gap_cause = ""
        self.state_name: ChannelStateName = state.state
        self.detail = state.detail
        self.extra = {"channel": self.channel, "session": self.session}
        self.streams: list[str] = []  # VOD mode: the channel's streams, looked up now and then
        self.streams_seen_at = -math.inf

    async def run(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        await self._resume()
        try:
            hls_via = "streamlink" if self.public_only else self.settings.ingest_hls_via
            source = classify(self.url, hls_via=hls_via, segment_s=self.settings.segment_s)
            if self.public_only:
                source = public_source(source)
            if not self.settings.ingest_file_realtime:  # VOD mode: as fast as workers keep up
                source = unpaced(source)
        except SourceError as err:
            await self._give_up("failed", f"cannot use {self.url or '(no URL)'}: {err}")
            return
        log.info("watching %s (%s)", self.url, source.kind, extra=self.extra)
        await self._loop(source)

    async def _loop(self, source: Source) -> None:
        s = self.settings
        policy = RetryPolicy(s.reconnect_min_s, s.reconnect_max_s, s.ingest_max_failures,
                             s.ingest_give_up_s)
        streamlink = make_session(s.stall_timeout_s, s.ingest_open_timeout_s,
                                  s.ingest_low_latency)
        if self.public_only:  # every request streamlink makes (redirects too) is checked
            guard_session(streamlink.http)
        failures = 0
        while not self.ctx.stop.is_set() and await self._still_current():
            if self.public_only:
                reason = await asyncio.to_thread(private_reason, self.url)
                if reason:
                    await self._give_up("failed", f"cannot use {self.url}: {reason} (checked "
                                                  "again before connecting)")
                    return
            outcome = await connect(Plan(source, self.folder, self.next_seq, self.quality, s,
                                         streamlink), self)
            self.next_seq = max(self.next_seq, outcome.next_seq)
            if outcome.unwanted:
                return
            if outcome.got_media:
                self.worked, failures = True, 0
            else:
                failures += 1
            since = time.time() - self.clock.last_media_wall if self.clock.last_media_wall else 0.0
            decision = policy.decide(worked=self.worked, failures_in_a_row=failures,
                                     since_media_s=since, live_source=source.is_live,
                                     permanent=source.kind == "file")
            if decision.action != "retry":
                await self._give_up(*self._final_words(decision.action, outcome, since))
                return
            await self._wait_to_retry(outcome, failures, decision.wait_s)

    def _final_words(
        self, action: str, outcome: Outcome, since: float
    ) -> tuple[ChannelStateName, str]:
        if action == "fail":
            return "failed", f"cannot open {self.url}: {outcome.reason}"
        if not self.worked or since < self.settings.ingest_give_up_s:
            return "ended", f"{self.url} ended ({outcome.reason})"
        return "ended", (f"no media from {self.url} for {since:.0f} s, gave up "
                         f"(last error: {outcome.reason})")

    async def _wait_to_retry(self, outcome: Outcome, failures: int, wait_s: float) -> None:
        if self.worked:
            # The gap is named after what first broke the media, not the later failed tries.
            if not self.gap_reason:
                self.gap_reason = f"reconnected after: {outcome.reason}"
                self.gap_cause = "source"
            detail = f"lost {self.url} ({outcome.reason}); connecting again in {wait_s:g} s"
            await self._set_state("reconnecting", detail)
        else:
            detail = (f"try {failures} of {self.settings.ingest_max_failures} to open {self.url} "
                      f"failed ({outcome.reason}); next try in {wait_s:g} s")
            await self._set_state("starting", detail)
        log.warning("%s", detail, extra=self.extra)
        await sleep_unless(self.ctx.stop, wait_s)

    async def _give_up(self, state: ChannelStateName, detail: str) -> None:
        if state == "failed":
            log.error("%s", detail, extra=self.extra)
        else:
            log.info("%s", detail, extra=self.extra)
        await self._set_state(state, detail)

    # ---- Picking up a session that already ran ----------------------------------------------

    async def _resume(self) -> None:
        """Go on from where this session got to, if it ran before (on this or another replica):
        the same clock and segment numbers, the segments the last worker left unpublished
        published now, and the time until media comes again published as a gap."""
        disk = await asyncio.to_thread(read_disk, self.folder)
        self.stored, self.next_seq = disk.stored, disk.next_seq
        for item, wall in disk.recovered:
            await self.segment(item.seq, item.t, item.dur, item.name, wall)
            log.info("published segment %d, which the last worker left unpublished", item.seq,
                     extra=self.extra)
        await asyncio.to_thread(remove_lists, self.folder)
        ends = [disk.end] if disk.end else []
        latest = await self.bus.latest(AUDIO, channel=self.channel)
        if latest and latest.message.session == self.session:
            ends.append((latest.message.t + latest.message.dur, latest.message.wall))
        if not ends:
            return
        self.clock = StreamClock(max(e for e, _ in ends), max(w for _, w in ends))
        self.worked = True
        self.gap_reason, self.gap_cause = RESTARTED, "restart"
        log.info("going on with the session from t=%.1f", self.clock.media_end,
                 extra=self.extra)
        await self._set_state("reconnecting", f"ingest restarted; going on with the session "
                                              f"from t={self.clock.media_end:.1f} s")

    # ---- The sink: what a connection hands us -------------------------------------------------

    async def begin(self) -> float:
        now = time.time()
        start, gap = self.clock.start_connection(now)
        if gap is not None and gap.dur > 0:
            await self.bus.publish(GAPS, Gap(
                channel=self.channel, session=self.session, t=gap.t, dur=gap.dur, wall=now,
                reason=self.gap_reason or "no media", by="ingest", cause=self.gap_cause),
                channel=self.channel)
            log.info("gap of %.1f s at t=%.1f: %s", gap.dur, gap.t, self.gap_reason,
                     extra=self.extra)
        self.gap_reason, self.gap_cause = "", ""
        await self._set_state("live", f"watching {self.url}")
        return start

    async def audio(self, chunks: list[PcmChunk], wall: float) -> None:
        items = [(AudioChunk(channel=self.channel, session=self.session, t=c.t, dur=c.dur,
                             wall=wall, samples=c.samples), {PCM: c.pcm}) for c in chunks]
        await self.bus.publish_many(AUDIO, items, channel=self.channel)
        self.clock.saw_media(chunks[-1].t + chunks[-1].dur, wall)
        if self.settings.ingest_backlog_max_s > 0:
            await self._hold_back()

    async def _hold_back(self) -> None:
        """VOD mode: wait while the slowest reader of the channel's streams is too far
        behind (FFmpeg then waits on its full pipe), so no worker falls behind for long."""
        while not self.ctx.stop.is_set():
            try:
                if time.monotonic() >= self.streams_seen_at + STREAMS_REFRESH_S:
                    self.streams = await channel_streams(self.redis, self.channel)
                    self.streams_seen_at = time.monotonic()
                lag = max([0.0] + [await stream_lag_s(self.redis, s) for s in self.streams])
            except REDIS_DOWN:
                return
            if lag <= self.settings.ingest_backlog_max_s:
                return
            await asyncio.sleep(0.05)

    async def segment(self, seq: int, t: float, dur: float, name: str, wall: float) -> None:
        path = self.folder / name
        size = path.stat().st_size if path.exists() else 0
        item = Stored(seq, t, dur, name)
        append_index(self.folder, item)
        self.stored.append(item)
        await self.bus.publish(SEGMENTS, Segment(
            channel=self.channel, session=self.session, t=t, dur=dur, wall=wall, seq=seq,
            path=str(path.resolve()), size=size), channel=self.channel)
        self.clock.saw_media(item.end, wall)
        await self._trim()
        await self._set_state(self.state_name, self.detail, publish=False)

    async def still_wanted(self) -> bool:
        # The stop flag is checked too, so the channel ends even if its cancel got lost.
        return not self.ctx.stop.is_set() and await self._still_current()

    # ---- Helpers ------------------------------------------------------------------------------

    async def _trim(self) -> None:
        """Delete segments that are older than the retention and not pinned by a clip job."""
        pin = await earliest_pin(self.redis, self.channel)
        victims = to_delete(self.stored, self.settings.retention_s, pin)
        if victims:
            delete(self.folder, victims)
            gone = {v.seq for v in victims}
            self.stored = [s for s in self.stored if s.seq not in gone]

    async def _still_current(self) -> bool:
        try:
            return await is_current(self.redis, self.channel, self.session)
        except REDIS_DOWN:
            return True  # We cannot tell; keep going. Publishing will fail if Redis is gone.

    async def _set_state(self, name: ChannelStateName, detail: str, publish: bool = True) -> None:
        """Record the channel's state, unless a newer command replaced this session."""
        changed = (name, detail) != (self.state_name, self.detail)
        state = ChannelState(channel=self.channel, session=self.session, state=name, url=self.url,
                             quality=self.quality, public_only=self.public_only, vod=self.vod,
                             detail=detail,
                             t=round(self.clock.media_end, 3), wall=time.time())
        self.state_name, self.detail = name, detail
        if await save_if_current(self.redis, state) and (publish or changed):
            await self.bus.publish(CHANNEL_STATES, state)
