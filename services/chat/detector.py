"""The chat detector: messages in, one judged second at a time out, and the spikes it found.

Pure code, driven only by message times (Twitch's `tmi-sent-ts` live, the log's times offline),
never by when a line arrived. So a log replayed fast gives the same answer as one read live,
and the live chat service and `clip-live chat-spikes` share this one detector.

Each message is read for its cues (`reactions`) and counted in its second:
- a message is worth 1. A reaction is worth more: 1.5 for a repeat (its folded text was
  written by someone else in the last `REPEAT_S` seconds: "7777", a copy-paste) or a short
  message ("?", "W"), 2 for an emote, laughter or hype. Asking for a clip adds `CLIP_WEIGHT`;
- one person counts at most once every `USER_GAP_S` seconds, so one spammer is not a crowd.
The closed seconds go to the spike rule (`spikes`), which knows the channel's normal.

A raid or a burst of gift subs floods chat for reasons that are not the stream: seconds within
`suppress_s` after one are marked suppressed, are never part of a spike, and stay out of the
normal.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field
from typing import NamedTuple

from shared.settings import Settings

from .reactions import READINGS, is_hype, read
from .spikes import Counts, Spike, SpikeConfig, SpikeRule

REPEAT_S = 20
"""A message repeats another when the same folded text came this recently from someone else."""
USER_GAP_S = 2
"""One person's messages count at most once per this many seconds."""
REPEAT_WEIGHT = 0.5
"""Extra weight of a message that repeats what others just wrote, or is short."""
SHORT_CHARS = 3
"""A message this short once folded ("?", "87", "W", "7777") is short: reactions are."""
CHEER_WEIGHT = 1.0
"""Extra weight of a message with an emote, laughter or hype (instead of the repeat weight)."""
CLIP_WEIGHT = 2.0
"""Extra weight of a message that asks for a clip."""
FORGET_EVERY_S = 600
"""How often the memory of people and messages is trimmed."""

__all__ = ["ChatDetector", "DetectorConfig", "SecondStats", "ServerClock", "Spike", "is_hype"]


@dataclass(frozen=True)
class DetectorConfig:
    """The detector's settings (see the `chat_*` settings)."""

    spikes: SpikeConfig = field(default_factory=SpikeConfig)
    suppress_s: float = 30.0

    @classmethod
    def from_settings(cls, settings: Settings) -> DetectorConfig:
        return cls(SpikeConfig(
            window_s=settings.chat_window_s, baseline_s=settings.chat_baseline_s,
            warmup_s=settings.chat_warmup_s, spike_z=settings.chat_spike_z,
            min_active_s=settings.chat_spike_min_s, min_messages=settings.chat_spike_messages,
            min_chatters=settings.chat_spike_chatters,
            reaction_lag_s=settings.chat_reaction_lag_s,
        ), suppress_s=settings.chat_suppress_s)


class SecondStats(NamedTuple):
    """What one second of chat was like. `second` is its start, in the messages' clock."""

    second: int
    messages: int
    chatters: int
    rate: float  # messages per second over the rule's window
    baseline: float  # the channel's normal messages per second
    rate_z: float  # how far above normal the window's chat is, in spreads
    hype_density: float  # share of this second's messages that are reactions
    spike: bool  # part of a spike that is sure (from the second it became sure)
    strength: float  # that spike's strength so far; 0 outside spikes
    suppressed: bool
    spike_start: int | None = None  # the spike's first second
    moment: float | None = None  # the estimated moment it reacts to (start minus the lag)


class ChatDetector:
    """Feed it messages and notices; `close_until` hands back finished seconds, in order, and
    `spikes` the spikes that have ended."""

    def __init__(self, config: DetectorConfig) -> None:
        self.config = config
        self.rule = SpikeRule(config.spikes)
        self.late = 0
        """Messages that came after their second was closed (counted in the oldest open one)."""
        self._open: dict[int, Counts] = {}
        self._next: int | None = None  # the oldest second not closed yet
        self._last_heard: float | None = None
        self._quiet_from = -math.inf  # the current suppression window
        self._quiet_until = -math.inf
        self._said: dict[str, tuple[int, str]] = {}  # folded text -> (second, who) last said
        self._counted: dict[str, int] = {}  # person -> the second they last counted in
        self._forgot = 0

    @property
    def started(self) -> bool:
        return self._next is not None

    @property
    def spikes(self) -> list[Spike]:
        """The spikes that have ended, oldest first."""
        return self.rule.finished

    def add_message(self, ts: float, user: str, text: str, emotes: int = 0) -> None:
        """Count one message sent at `ts` (seconds). `emotes`: how many emotes Twitch marked
        in it (0 when unknown; the text is read for emote names anyway)."""
        second = math.floor(ts)
        if self._next is None:
            self._next = second
        if second < self._next:
            self.late += 1
            second = self._next
        counts = self._open.get(second)
        if counts is None:
            counts = self._open[second] = Counts(second)
        counts.messages += 1
        counts.users.add(user)
        key, size, emote, cheer, clip = READINGS.get(text) or read(text)
        said = self._said.get(key)
        repeat = said is not None and said[1] != user and second - said[0] <= REPEAT_S
        self._said[key] = (second, user)
        if emotes:
            emote = True
        short = size <= SHORT_CHARS
        reaction = repeat or emote or cheer or clip or short
        if reaction:
            counts.reactions += 1
            counts.repeats += repeat
            counts.emotes += emote
            counts.cheers += cheer
            counts.clips += clip
        counts.size += size
        last = self._counted.get(user)
        if last is None or second - last >= USER_GAP_S:
            self._counted[user] = second
            counts.score += (1.0 + (CHEER_WEIGHT if emote or cheer else REPEAT_WEIGHT)
                             + CLIP_WEIGHT * clip) if reaction else 1.0
        if self._last_heard is None or ts > self._last_heard:
            self._last_heard = ts

    def add_notice(self, ts: float, suppresses: bool) -> None:
        """A USERNOTICE at `ts`. Raids and gift bursts start (or stretch) a quiet window."""
        if not suppresses:
            return
        if ts > self._quiet_until:
            self._quiet_from = ts
        self._quiet_until = max(self._quiet_until, ts + self.config.suppress_s)

    def start(self, ts: float) -> None:
        """Begin counting at `ts` if no message has started the count yet."""
        if self._next is None:
            self._next = math.floor(ts)

    def close_until(self, ts: float) -> list[SecondStats]:
        """Close every second that ends at or before `ts`, quiet ones included."""
        if self._next is None:
            return []
        end = math.floor(ts)
        closed: list[SecondStats] = []
        while self._next < end:
            second = self._next
            counts = self._open.pop(second) if second in self._open else Counts(second)
            closed.append(self._close(counts))
            self._next += 1
        return closed

    def skip_to(self, ts: float) -> list[SecondStats]:
        """Chat was not being read until `ts` (a lost connection): close the seconds that were
        heard, then jump over the gap, so that it is missing rather than counted as silence."""
        if self._next is None:
            self.start(ts)
            return []
        heard_until = math.floor(self._last_heard) + 1 if self._last_heard is not None else 0
        closed = self.close_until(min(ts, heard_until))
        target = math.floor(ts)
        if target > self._next:
            for second in [s for s in self._open if s < target]:
                self._open.pop(second)
            self._next = target
        return closed

    def finish(self) -> None:
        """No more chat: a spike still going on ends (and joins `spikes`)."""
        self.rule.finish()

    def _close(self, counts: Counts) -> SecondStats:
        second = counts.second
        suppressed = self._quiet_from < second + 1 and second < self._quiet_until
        judged = self.rule.step(counts, suppressed)
        if second - self._forgot >= FORGET_EVERY_S:
            self._forget(second)
        start = judged.spike_start
        return SecondStats(
            second=second, messages=counts.messages, chatters=len(counts.users),
            rate=judged.rate, baseline=judged.baseline, rate_z=judged.rate_z,
            hype_density=counts.reactions / counts.messages if counts.messages else 0.0,
            spike=start is not None, strength=judged.strength, suppressed=suppressed,
            spike_start=start,
            moment=None if start is None else start - self.config.spikes.reaction_lag_s,
        )

    def _forget(self, second: int) -> None:
        """Drop people and messages not seen for a while, so memory stays small."""
        self._forgot = second
        keep = second - max(REPEAT_S, USER_GAP_S)
        self._said = {k: v for k, v in self._said.items() if v[0] >= keep}
        self._counted = {k: v for k, v in self._counted.items() if v >= keep}


class ServerClock:
    """Twitch's clock as seen from here: local time minus the smallest recent delay between a
    line's `tmi-sent-ts` and its arrival. It keeps seconds from closing too early when the
    local clock runs ahead of Twitch's."""

    def __init__(self, keep_s: float = 60.0) -> None:
        self.keep_s = keep_s
        self._offsets: deque[tuple[float, float]] = deque()  # (arrival, smallest delay so far)
        self._offset = 0.0

    def saw(self, sent: float, arrived: float) -> None:
        """A line sent at `sent` (Twitch's clock) arrived at `arrived` (ours)."""
        delay = arrived - sent
        while self._offsets and self._offsets[-1][1] >= delay:
            self._offsets.pop()  # A smaller, newer delay makes older, larger ones useless.
        self._offsets.append((arrived, delay))

    def now(self, local: float) -> float:
        """Twitch's time now, given our time `local`."""
        while len(self._offsets) > 1 and self._offsets[0][0] < local - self.keep_s:
            self._offsets.popleft()
        if self._offsets:
            self._offset = self._offsets[0][1]
        return local - self._offset
