"""The chat service: read each watched channel's Twitch chat, publish one `ChatSecond` a second.

Chat is stateful per channel (a connection and a baseline), so channels are owned through
leases: each replica reads the chat of the channels it owns. For each channel:

- the chat reader stays connected and hands over every message: the IRC client
  (`client.py`), or the EventSub client (`eventsub.py`) when `chat_source` says so;
- each message goes to the detector (`detector.py`, by Twitch's `tmi-sent-ts`) and to the
  session's chat log (`chatlog.py`);
- four times a second, the seconds that are over (plus `chat_lateness_s` for late lines) are
  stamped with stream time and published on the `CHAT` topic.

Stream time: t = state.t + (wall - state.wall), through ingest's `ChannelState`, held
steady by `timeline.py`. Each second is stamped when its messages were sent. A second that is
part of a spike also carries the spike's start, its estimated moment (the start minus
`chat_reaction_lag_s`) and the window of stream seconds it speaks for (the moment less
`chat_moment_slack_s`, to the start), so the fuser credits chat where the moment was.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time

from pydantic import SecretStr

from shared.bus import REDIS_DOWN
from shared.cancelling import cancel_and_wait
from shared.channels import all_states
from shared.contracts import ChannelState, ChatSecond
from shared.runtime import ServiceContext
from shared.settings import Settings
from shared.streams import CHAT

from .chatlog import ChatRecorder, log_path
from .client import IrcEndpoint, TwitchIrcClient, cancel_pending
from .detector import ChatDetector, DetectorConfig, SecondStats, ServerClock
from .eventsub import EventSubChatClient, EventSubLogin
from .irc import ChatMessage, ChatNotice, IrcMessage, to_event, twitch_login
from .timeline import ChatTimeline

TICK_S = 0.25
STATE_EVERY_S = 1.0
MAX_SKEW_S = 10.0
"""A chat line's sent time is never more than this ahead of its arrival."""


async def main(ctx: ServiceContext) -> None:
    """Own as many watched channels as we can and read their chat."""
    settings = ctx.settings
    if settings.chat_source == "irc" and settings.twitch_token and not settings.chat_nick:
        ctx.log.warning("twitch_token is set but chat_nick is empty: reading chat anonymously")

    def has_chat(state: ChannelState) -> bool:
        return not settings.chat_twitch_only or "twitch.tv/" in state.url.lower()

    async def run_channel(channel: str) -> None:
        await ChannelChat(ctx, channel).run()

    await ctx.own_channels(run_channel, keep=has_chat)


def eventsub_login(settings: Settings) -> EventSubLogin:
    """The Twitch app and user the EventSub reader logs in with (settings checked they are set)."""
    def secret(value: SecretStr | None) -> str:
        return value.get_secret_value() if value else ""

    return EventSubLogin(settings.twitch_client_id, secret(settings.twitch_client_secret),
                         secret(settings.twitch_token), secret(settings.twitch_refresh_token))


class ChannelChat:
    """One channel's chat: the client, the detector, the log file and the publishing."""

    def __init__(self, ctx: ServiceContext, channel: str) -> None:
        self.ctx = ctx
        self.channel = channel
        self.extra = {"channel": channel}
        self.detector = ChatDetector(DetectorConfig.from_settings(ctx.settings))
        self.clock = ServerClock()
        self.state: ChannelState | None = None
        self.timeline = ChatTimeline()
        self.recorder: ChatRecorder | None = None
        self.linked_at: float | None = None  # our time when the channel was joined
        self.done: list[SecondStats] = []  # closed seconds not published yet
        self.last_spike: int | None = None  # the start of the last spike, so each logs once
        self.clamped = 0  # lines whose sent time was too far from their arrival

    async def run(self) -> None:
        await self._wait_state()
        reading = asyncio.create_task(self._reader().run(), name=f"chat:{self.channel}")
        last_state = time.monotonic()
        try:
            while not cancel_pending():
                await asyncio.sleep(TICK_S)
                if reading.done():
                    reading.result()  # The client only ends by failing: let that show.
                if time.monotonic() - last_state >= STATE_EVERY_S:
                    last_state = time.monotonic()
                    await self._refresh_state()
                self._close_due()
                await self._publish()
        finally:
            await cancel_and_wait(reading)
            if self.recorder:
                self.recorder.close()

    def _reader(self) -> TwitchIrcClient | EventSubChatClient:
        """The chat reader the settings ask for, for the Twitch login in the channel's URL."""
        settings = self.ctx.settings
        assert self.state is not None
        login = twitch_login(self.state.url) or self.channel
        retry_min_s, retry_max_s = settings.reconnect_min_s, settings.reconnect_max_s
        if settings.chat_source == "eventsub":
            return EventSubChatClient(
                eventsub_login(settings), login, self.on_event, self.on_link,
                retry_min_s=retry_min_s, retry_max_s=retry_max_s,
                clock=lambda: self.clock.now(time.time()))
        token = settings.twitch_token.get_secret_value() if settings.twitch_token else None
        return TwitchIrcClient(
            IrcEndpoint(settings.chat_irc_host, settings.chat_irc_port, settings.chat_irc_tls),
            login, self.on_line, self.on_link,
            nick=settings.chat_nick, token=token if settings.chat_nick else None,
            retry_min_s=retry_min_s, retry_max_s=retry_max_s, ping_s=settings.chat_ping_s,
        )

    # ---- Called by the reader, for each line and each change of connection --------------------

    def on_line(self, msg: IrcMessage) -> None:
        """An IRC line: a message or notice goes on to `on_event`. A sent time in the future
        (a wrong clock, or a forged tag) is pulled back to within `MAX_SKEW_S` of the arrival
        and not learnt from, so it can never move the stream's clock ahead. (A sent time in
        the past is harmless: its second is closed already, or it fills in history.)"""
        arrived = time.time()
        event = to_event(msg, fallback_ts=self.clock.now(arrived))
        if event is None:
            return
        if "tmi-sent-ts" in msg.tags:
            held = min(event.ts, arrived + MAX_SKEW_S)
            if held != event.ts:
                self.clamped += 1
                if self.clamped in (1, 10, 100) or self.clamped % 1000 == 0:
                    self.ctx.log.warning("%d chat line(s) had a sent time more than %.0f s "
                                         "ahead of their arrival; pulled back", self.clamped,
                                         MAX_SKEW_S, extra=self.extra)
                event = dataclasses.replace(event, ts=held)
            else:
                self.clock.saw(event.ts, arrived)
        self.on_event(event)

    def on_event(self, event: ChatMessage | ChatNotice) -> None:
        """A chat message or notice, from either reader: count it and record it."""
        if isinstance(event, ChatMessage):
            self.detector.add_message(event.ts, event.user, event.text, len(event.emotes))
            if self.recorder:
                self.recorder.message(event)
            return
        self.detector.add_notice(event.ts, event.suppresses)
        if self.recorder:
            self.recorder.notice(event)
        if event.suppresses:
            self.ctx.log.info("%s: no chat spikes for %.0f s", event.kind,
                              self.ctx.settings.chat_suppress_s, extra=self.extra)

    def on_link(self, up: bool) -> None:
        now = self.clock.now(time.time())
        if up:
            # Back after a drop: what was missed is a gap, not silence.
            self.done.extend(self.detector.skip_to(now) if self.detector.started else [])
            self.linked_at = time.time()
        else:
            self.done.extend(self.detector.close_until(now - self.ctx.settings.chat_lateness_s))
            self.linked_at = None

    # ---- Closing and publishing seconds -------------------------------------------------------

    def _close_due(self) -> None:
        """Close the seconds that are over, while connected (no news is not silence when
        the connection is down)."""
        if self.linked_at is None:
            return
        lateness = self.ctx.settings.chat_lateness_s
        now = self.clock.now(time.time())
        if not self.detector.started and time.time() - self.linked_at >= lateness:
            self.detector.start(now - lateness)  # A quiet channel: start counting anyway.
        self.done.extend(self.detector.close_until(now - lateness))

    async def _publish(self) -> None:
        if not self.done or self.state is None:
            return
        state, batch, self.done = self.state, self.done, []
        self.timeline.follow(state)
        items: list[tuple[ChatSecond, None]] = []
        for s in batch:
            t = self.timeline.t_of(s.second)
            if t < 0:
                continue  # Before the session began.
            items.append((self._chat_second(state, s, t), None))
            if s.spike_start is not None and s.spike_start != self.last_spike:
                self.last_spike = s.spike_start
                self.ctx.log.info(
                    "chat spike from t=%.0f (%.1f msgs/s, normal %.1f, strength %.1f); "
                    "moment about t=%.0f", self.timeline.t_of(s.spike_start), s.rate,
                    s.baseline, s.strength, self.timeline.t_of(s.moment or s.spike_start),
                    extra=self.extra)
        if not items:
            return
        try:
            await self.ctx.bus.publish_many(CHAT, items, channel=self.channel)
        except REDIS_DOWN as err:  # Keep them, and try again on the next tick.
            self.ctx.log.warning("cannot publish chat seconds: %s", err, extra=self.extra)
            self.done = batch + self.done

    def _chat_second(self, state: ChannelState, s: SecondStats, t: float) -> ChatSecond:
        """One closed second as the message the fuser reads, in stream time."""
        start = moment = earliest = None
        if s.spike_start is not None and s.moment is not None:
            start = self.timeline.t_of(s.spike_start)
            moment = self.timeline.t_of(s.moment)
            earliest = max(0.0, moment - self.ctx.settings.chat_moment_slack_s)
        return ChatSecond(
            channel=self.channel, session=state.session, t=t, dur=1.0, wall=s.second,
            messages=s.messages, chatters=s.chatters, rate_z=s.rate_z, baseline=s.baseline,
            hype_density=min(1.0, s.hype_density), spike=s.spike, strength=s.strength,
            suppressed=s.suppressed, spike_start=start, moment=moment, moment_from=earliest,
            moment_to=start)

    # ---- The channel's session ----------------------------------------------------------------

    async def _wait_state(self) -> None:
        """Wait until ingest has recorded the channel's session (we need its time mapping)."""
        while self.state is None:
            await self._refresh_state()
            if self.state is None:
                await asyncio.sleep(STATE_EVERY_S)

    async def _refresh_state(self) -> None:
        try:
            state = (await all_states(self.ctx.bus.redis)).get(self.channel)
        except REDIS_DOWN as err:
            self.ctx.log.warning("cannot read the channel's state: %s", err, extra=self.extra)
            return
        if state is None:
            return
        if self.state is None or state.session != self.state.session:
            if self.recorder:
                self.recorder.close()
            path = log_path(self.ctx.settings.data_dir, self.channel, state.session)
            self.recorder = ChatRecorder(path)
            self.ctx.log.info("recording chat to %s", path,
                              extra={**self.extra, "session": state.session})
        self.state = state
