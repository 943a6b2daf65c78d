"""The spike rule: from scored seconds of chat to spikes with a start, a peak, an end and one
strength.

Pure code over plain numbers; `detector` feeds it one closed second at a time.

- Each second has a score: its messages, each worth 1, and more when it is a reaction (a
  repeat of what others just wrote, a short message, an emote, laughter or hype, and most when
  it asks for a clip: see `detector`). So a wall of "7777" weighs more than the same number of
  varied messages.
- The channel's normal: the score of each `window_s` seconds, kept for `baseline_s`. Its level
  is their mean without the busiest tenth; its spread is their MAD, never below Poisson noise.
  Both follow the channel, so the same rule fits 2 messages a minute and 50 a second.
- A second is hot when the last `window_s` seconds scored `HOT_Z` spreads above the level. A
  burst opens at the run of busy seconds (well above the normal per second) that made it hot,
  and ends once it has not been hot for `GAP_S` seconds.
- A burst becomes a spike once it is sustained and broad: at least `min_active_s` busy
  seconds, `min_messages` messages from `min_chatters` people, and its extra score over the
  normal at least `spike_z` spreads (scaled to its length). Short blips of a few messages never
  get there. The strength of a spike is the highest that score reached: a big reaction that
  lasts ranks above a sharp one that stops.
- What a spike reports is the burst's core (see `_Burst.core`): where its chat stands at least
  half its height above normal, so a slow build-up or a stray message after it does not move
  its start or end. Its estimated moment is its start minus `reaction_lag_s`.
- Seconds after a raid or a gift burst are marked suppressed: no burst starts or goes on
  there, and they stay out of the normal.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

HOT_Z = 3.0
"""A second is hot when its window of chat is this many spreads above the normal."""
GAP_S = 8
"""Hot seconds closer than this (after the window drains) belong to one burst."""
TRIM = 0.1
"""The busiest share of the normal's windows left out of its level."""
POISSON = 1.5
"""Variance of a window's score over its mean, when chat is steady (a message weighs 1-2)."""
LEVEL_FLOOR = 0.5
"""The least score per window the spread is made from: a silent channel still has noise."""
RUN_GAP_S = 2
"""Walking back from where a burst got hot, this many quiet seconds in a row end its run."""
CORE_SHARE = 0.5
"""A spike's core: where its chat stands at least this share of its height above normal."""
CORE_S = 5
"""The core is found with a window this long, centred on each second (sharper than the
rule's window, which trails)."""
MAD_TO_SIGMA = 1.4826


@dataclass(frozen=True)
class SpikeConfig:
    """The spike rule's settings (see the `chat_*` settings)."""

    window_s: int = 10
    baseline_s: float = 600.0
    warmup_s: float = 30.0
    spike_z: float = 10.0
    min_active_s: int = 4
    min_messages: int = 8
    min_chatters: int = 5
    reaction_lag_s: float = 20.0


@dataclass(slots=True)
class Counts:
    """One second of chat, counted."""

    second: int
    messages: int = 0
    score: float = 0.0
    users: set[str] = field(default_factory=set)
    repeats: int = 0
    emotes: int = 0
    cheers: int = 0
    clips: int = 0
    reactions: int = 0
    size: int = 0  # the folded length of its messages, summed


@dataclass(frozen=True)
class Spike:
    """A sustained burst of chat. Times are whole seconds in the messages' clock."""

    start: int
    peak: int
    end: int
    moment: float  # the estimated moment chat reacted to: start minus the reaction lag
    strength: float
    messages: int
    chatters: int
    features: dict[str, float]


class Judged(NamedTuple):
    """What the rule says of one second."""

    rate: float  # messages per second over the window
    baseline: float  # the normal messages per second
    rate_z: float  # how far the window's score is above normal, in spreads
    spike_start: int | None  # the start of the spike this second is in, once it is sure
    strength: float  # that spike's strength so far; 0 outside spikes


class Normal:
    """The channel's normal score per window, from the last `baseline_s` seconds."""

    def __init__(self, window_s: int, baseline_s: float) -> None:
        self.window_s = window_s
        self.blocks: deque[tuple[float, int, int]] = deque(
            maxlen=max(3, round(baseline_s / window_s)))  # (score, messages, size)
        self.level = 0.0  # score per window
        self.spread = math.sqrt(POISSON * LEVEL_FLOOR)
        self.rate = 0.0  # messages per second
        self.size = 0.0  # folded length of a normal message
        self.seen = 0  # seconds in it
        self._open = [0.0, 0, 0, 0]  # the block being filled: score, messages, size, seconds

    def add(self, counts: Counts) -> None:
        """Count one second that was not suppressed."""
        block = self._open
        block[0] += counts.score
        block[1] += counts.messages
        block[2] += counts.size
        block[3] += 1
        self.seen += 1
        if block[3] >= self.window_s:
            self.blocks.append((float(block[0]), int(block[1]), int(block[2])))
            self._open = [0.0, 0, 0, 0]
            self._update()

    def _update(self) -> None:
        scores = sorted(b[0] for b in self.blocks)
        kept = scores[:max(1, len(scores) - int(len(scores) * TRIM))]
        self.level = sum(kept) / len(kept)
        median = scores[len(scores) // 2]
        mad = sorted(abs(s - median) for s in scores)[len(scores) // 2]
        self.spread = max(MAD_TO_SIGMA * mad, math.sqrt(POISSON * max(self.level, LEVEL_FLOOR)))
        counted = sorted(b[1] for b in self.blocks)
        kept_counts = counted[:max(1, len(counted) - int(len(counted) * TRIM))]
        self.rate = sum(kept_counts) / len(kept_counts) / self.window_s
        messages = sum(b[1] for b in self.blocks)
        self.size = sum(b[2] for b in self.blocks) / messages if messages else 0.0


@dataclass
class _Burst:
    """A burst being watched: is it a spike yet, and what is in it."""

    onset: int  # its first busy second
    level: float  # the normal score per window when it began
    mu: float  # ...and per second
    spread: float  # the normal's spread per window when it began
    normal_rate: float
    normal_size: float
    seconds: list[Counts] = field(default_factory=list)
    busy: list[bool] = field(default_factory=list)
    pending: list[Counts] = field(default_factory=list)  # quiet seconds at the end
    users: set[str] = field(default_factory=set)
    excess: float = 0.0
    messages: int = 0
    busy_s: int = 0
    peak_window: float = -1.0  # the highest the rule's window got
    cold: int = 0
    strength: float = 0.0
    sure: bool = False

    def take(self, counts: Counts, busy: bool) -> None:
        """Add a second. A quiet one waits: it counts only if a busy one comes after it."""
        if not busy:
            self.pending.append(counts)
            return
        for quiet in self.pending:
            self._add(quiet, False)
        self.pending.clear()
        self._add(counts, True)

    def _add(self, counts: Counts, busy: bool) -> None:
        self.seconds.append(counts)
        self.busy.append(busy)
        self.users |= counts.users
        self.excess += counts.score - self.mu
        self.messages += counts.messages
        self.busy_s += busy

    @property
    def last_busy(self) -> int:
        return self.seconds[-1].second if self.seconds else self.onset

    def z(self, window_s: int) -> float:
        """The burst's extra score, in spreads of a window of its own length."""
        length = len(self.seconds)
        return self.excess / (self.spread * math.sqrt(max(length, window_s) / window_s))

    def core(self) -> tuple[int, int, int]:
        """Where the burst stands tall: the seconds whose chat over `CORE_S` seconds centred on
        them reaches `CORE_SHARE` of the burst's height above normal. It starts at the run of
        busy seconds that leads into them and ends at their last busy second. A slow build-up
        before the big reaction, and a stray message after it, are left out. The peak is the
        core's busiest second (by that centred chat). Returns (start, peak, end)."""
        scores = [c.score for c in self.seconds] + [c.score for c in self.pending]
        half = CORE_S // 2
        sums = [sum(scores[max(0, i - half):i + half + 1]) for i in range(len(self.seconds))]
        level = self.mu * CORE_S
        line = level + CORE_SHARE * (max(sums, default=level) - level)
        tall = [i for i, v in enumerate(sums) if v >= line and self.busy[i]]
        if not tall:
            return self.onset, self.onset, self.last_busy
        first = run_start(self.busy, tall[0])
        peak = max(range(tall[0], tall[-1] + 1), key=lambda i: sums[i])
        start = self.seconds[tall[0] if first is None else first].second
        return start, self.seconds[peak].second, self.seconds[tall[-1]].second


def run_start(busy: Sequence[bool], last: int) -> int | None:
    """The index of the first busy second in the run that leads up to index `last`: walking
    back, `RUN_GAP_S` quiet seconds in a row end it. None: no busy second there."""
    first = None
    quiet = 0
    for i in range(last, -1, -1):
        if busy[i]:
            first, quiet = i, 0
        else:
            quiet += 1
            if quiet >= RUN_GAP_S:
                break
    return first


class SpikeRule:
    """Feed it closed seconds in order; it says what each one is, and hands out spikes."""

    def __init__(self, config: SpikeConfig) -> None:
        self.config = config
        self.normal = Normal(config.window_s, config.baseline_s)
        self.finished: list[Spike] = []
        self._window: deque[Counts] = deque()
        self._score = 0.0
        self._messages = 0
        self._burst: _Burst | None = None
        self._last_end: int | None = None  # the last second of the last burst
        self._last_second = 0  # the second judged last
        self._core: tuple[float, int] = (-1.0, 0)  # (peak window, core start) of the burst

    def step(self, counts: Counts, suppressed: bool) -> Judged:
        """Judge one second (they come in order, one each, gaps allowed)."""
        cfg = self.config
        if self._burst is not None and counts.second - self._last_second > 1:
            self._end()  # A gap in the chat (a lost connection, a break in a log).
        self._last_second = counts.second
        window = self._window
        window.append(counts)
        self._score += counts.score
        self._messages += counts.messages
        while window[0].second <= counts.second - cfg.window_s:
            old = window.popleft()
            self._score -= old.score
            self._messages -= old.messages
        normal = self.normal
        rate_z = (self._score - normal.level) / normal.spread if normal.seen else 0.0
        hot = normal.seen >= cfg.warmup_s and not suppressed and rate_z >= HOT_Z
        busy_line = self._busy_line()
        if suppressed:
            self._end()
        elif self._burst is None:
            if hot:
                self._begin(busy_line)
        else:
            self._go_on(counts, counts.score >= busy_line, hot)
        if not suppressed:
            normal.add(counts)
        burst = self._burst
        if burst is None or not burst.sure:
            return Judged(self._messages / cfg.window_s, normal.rate, rate_z, None, 0.0)
        return Judged(self._messages / cfg.window_s, normal.rate, rate_z,
                      self._core_start(burst), burst.strength)

    def finish(self) -> None:
        """The chat is over: a burst still open ends here."""
        self._end()

    def _busy_line(self) -> float:
        """A busy second scores at least this: well above the normal score per second."""
        mu = self.normal.level / self.config.window_s
        return mu + max(0.5, 2.0 * math.sqrt(mu))

    def _begin(self, busy_line: float) -> None:
        """Open a burst at the start of the run of busy seconds that made the window hot (never
        inside the last burst)."""
        normal = self.normal
        recent = [c for c in self._window
                  if self._last_end is None or c.second > self._last_end]
        first = run_start([c.score >= busy_line for c in recent], len(recent) - 1)
        if first is None:
            return  # Hot from older seconds (or the last burst's): no run of its own yet.
        burst = _Burst(onset=recent[first].second, level=normal.level,
                       mu=normal.level / self.config.window_s, spread=normal.spread,
                       normal_rate=normal.rate, normal_size=normal.size)
        for counts in recent[first:]:
            burst.take(counts, counts.score >= busy_line)
        self._burst = burst
        self._note_peak(burst)
        self._check(burst)

    def _go_on(self, counts: Counts, busy: bool, hot: bool) -> None:
        burst = self._burst
        assert burst is not None
        burst.take(counts, busy)
        burst.cold = 0 if hot else burst.cold + 1
        if hot:
            self._note_peak(burst)
        self._check(burst)
        if burst.cold > GAP_S:
            self._end()

    def _note_peak(self, burst: _Burst) -> None:
        """Keep the highest the window got: the core is worked out again when it grows."""
        burst.peak_window = max(burst.peak_window, self._score)

    def _check(self, burst: _Burst) -> None:
        """Is the burst a spike yet? It stays one once it is."""
        cfg = self.config
        z = burst.z(cfg.window_s)
        if (not burst.sure and burst.busy_s >= cfg.min_active_s
                and burst.messages >= cfg.min_messages
                and len(burst.users) >= cfg.min_chatters and z >= cfg.spike_z):
            burst.sure = True
        if burst.sure:
            burst.strength = max(burst.strength, z)

    def _core_start(self, burst: _Burst) -> int:
        """The burst's core start so far (worked out again only when its peak grew)."""
        if self._core[0] != burst.peak_window:
            self._core = (burst.peak_window, burst.core()[0])
        return self._core[1]

    def _end(self) -> None:
        burst, self._burst = self._burst, None
        if burst is None:
            return
        self._last_end = burst.last_busy
        self._core = (-1.0, 0)
        if burst.sure:
            self.finished.append(self._spike_of(burst))

    def _spike_of(self, burst: _Burst) -> Spike:
        """The finished spike: its core, and the features behind it."""
        start, peak, end = burst.core()
        inside = [c for c in burst.seconds if start <= c.second <= end]
        messages = sum(c.messages for c in inside)
        users: set[str] = set()
        for c in inside:
            users |= c.users
        shown = max(messages, 1)
        rate = messages / (end - start + 1)
        size = sum(c.size for c in inside) / shown
        features = {
            "z": round(burst.strength, 2),
            "excess": round(burst.excess, 1),
            "busy_s": float(sum(1 for c, b in zip(burst.seconds, burst.busy, strict=True)
                                if b and start <= c.second <= end)),
            "rate": round(rate, 2),
            "normal_rate": round(burst.normal_rate, 3),
            "lift": round(rate / max(burst.normal_rate, 1.0 / 60), 2),
            "repeats": round(sum(c.repeats for c in inside) / shown, 3),
            "emotes": round(sum(c.emotes for c in inside) / shown, 3),
            "laugh_hype": round(sum(c.cheers for c in inside) / shown, 3),
            "clip_asks": float(sum(c.clips for c in inside)),
            "length_vs_normal": round(size / burst.normal_size, 2) if burst.normal_size else 1.0,
            "onset": float(burst.onset),
            "burst_end": float(burst.last_busy),
        }
        return Spike(start=start, peak=peak, end=end,
                     moment=start - self.config.reaction_lag_s,
                     strength=round(burst.strength, 2), messages=messages,
                     chatters=len(users), features=features)
