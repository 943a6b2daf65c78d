"""Chat spikes: per-second buckets, the channel's own normal rate, and the spike rule.

Pure code, driven only by message times (Twitch's `tmi-sent-ts` live, the log's times offline),
never by when a line arrived. So a log replayed fast gives the same answer as one read live.

- Each second gets a bucket: messages, unique chatters, hype messages.
- The rate is the mean messages per second over the last `rate_window_s` seconds.
- The baseline is the median of that rate over the last `baseline_s` seconds; its spread is the
  MAD (median absolute deviation), with a floor from Poisson noise, so that a channel with one
  message now and then does not get a spread of zero.
- A second is a spike when the rate is both far above normal (robust z >= `spike_z`) and at
  least `min_lift` messages per second above it: a quiet channel's three messages are not a
  spike, and neither is a busy channel's normal wobble.
- A raid or a burst of gift subs floods chat for reasons that are not the stream: seconds within
  `suppress_s` after one are marked suppressed, are never spikes, and stay out of the baseline.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from shared.settings import Settings

HYPE_WORDS = frozenset({
    "pog", "pogchamp", "pogu", "poggers", "pogslide", "kekw", "lul", "lulw", "omegalul",
    "kreygasm", "letsgo", "ww", "www",
})
"""Words that mean "that was great" (compared in lower case)."""

EXACT_HYPE_WORDS = frozenset({"W"})
"""Hype words that count only in this exact case ("w" alone is often a typo)."""

EPISODE_GAP_S = 5
"""Spike seconds closer than this belong to one spike."""

MAD_TO_SIGMA = 1.4826
"""Turns a MAD into a standard deviation for normal data."""


def is_hype(text: str, emotes: int = 0) -> bool:
    """True for a hyped message: a hype word or emote, "!!!", shouting, or emote spam."""
    if "!!!" in text or emotes >= 3:
        return True
    for word in text.split():
        core = word.strip(".,!?:;\"'()[]")
        if core in EXACT_HYPE_WORDS or core.lower() in HYPE_WORDS:
            return True
    letters = [c for c in text if c.isalpha()]
    return len(letters) >= 4 and sum(c.isupper() for c in letters) >= 0.8 * len(letters)


@dataclass(frozen=True)
class DetectorConfig:
    """The knobs of the spike rule (see the `chat_*` settings)."""

    rate_window_s: int = 3
    baseline_s: float = 300.0
    warmup_s: float = 30.0
    spike_z: float = 5.0
    min_lift: float = 2.0
    suppress_s: float = 30.0

    @classmethod
    def from_settings(cls, settings: Settings) -> DetectorConfig:
        return cls(rate_window_s=settings.chat_rate_window_s, baseline_s=settings.chat_baseline_s,
                   warmup_s=settings.chat_warmup_s, spike_z=settings.chat_spike_z,
                   min_lift=settings.chat_spike_min_lift, suppress_s=settings.chat_suppress_s)


@dataclass(frozen=True)
class SecondStats:
    """What one second of chat was like. `second` is its start, in the messages' clock."""

    second: int
    messages: int
    chatters: int
    rate: float
    baseline: float
    rate_z: float
    hype_density: float
    spike: bool
    strength: float
    suppressed: bool


@dataclass
class _Bucket:
    messages: int = 0
    hype: int = 0
    users: set[str] = field(default_factory=set)


class ChatDetector:
    """Feed it messages and notices; `close_until` hands back finished seconds, in order."""

    def __init__(self, config: DetectorConfig) -> None:
        self.config = config
        self.late = 0
        """Messages that came after their second was closed (counted in the oldest open one)."""
        self._open: dict[int, _Bucket] = {}
        self._next: int | None = None  # the oldest second not closed yet
        self._last_heard: float | None = None
        self._recent: deque[tuple[int, int]] = deque()  # (second, messages) in the rate window
        self._history: deque[tuple[int, float]] = deque()  # (second, rate) for the baseline
        self._quiet_from = -math.inf  # the current suppression window
        self._quiet_until = -math.inf

    @property
    def started(self) -> bool:
        return self._next is not None

    def add_message(self, ts: float, user: str, text: str, emotes: int = 0) -> None:
        """Count one message sent at `ts` (seconds)."""
        second = math.floor(ts)
        if self._next is None:
            self._next = second
        if second < self._next:
            self.late += 1
            second = self._next
        bucket = self._open.setdefault(second, _Bucket())
        bucket.messages += 1
        bucket.users.add(user)
        bucket.hype += is_hype(text, emotes)
        self._last_heard = ts if self._last_heard is None else max(self._last_heard, ts)

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
            closed.append(self._close(self._next, self._open.pop(self._next, None)))
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

    def _close(self, second: int, bucket: _Bucket | None) -> SecondStats:
        cfg = self.config
        messages = bucket.messages if bucket else 0
        self._recent.append((second, messages))
        while self._recent[0][0] <= second - cfg.rate_window_s:
            self._recent.popleft()
        rate = sum(m for _, m in self._recent) / cfg.rate_window_s
        baseline, spread, seen = self._baseline()
        rate_z = (rate - baseline) / spread if seen else 0.0
        suppressed = self._quiet_from < second + 1 and second < self._quiet_until
        spike = (seen >= cfg.warmup_s and not suppressed and rate_z >= cfg.spike_z
                 and rate - baseline >= cfg.min_lift)
        hype = bucket.hype / messages if bucket and messages else 0.0
        if not suppressed:
            self._history.append((second, rate))
        while self._history and self._history[0][0] <= second - cfg.baseline_s:
            self._history.popleft()
        return SecondStats(
            second=second, messages=messages, chatters=len(bucket.users) if bucket else 0,
            rate=rate, baseline=baseline, rate_z=rate_z, hype_density=hype, spike=spike,
            strength=max(0.0, rate_z) * (1.0 + hype), suppressed=suppressed,
        )

    def _baseline(self) -> tuple[float, float, int]:
        """The normal rate, its spread, and how many seconds it is made of."""
        rates = sorted(r for _, r in self._history)
        if not rates:
            return 0.0, 1.0, 0
        median = _median(rates)
        mad = _median(sorted(abs(r - median) for r in rates))
        window = self.config.rate_window_s
        poisson = math.sqrt(max(median, 1.0 / window) / window)
        return median, max(MAD_TO_SIGMA * mad, poisson), len(rates)


def _median(ordered: Sequence[float]) -> float:
    n = len(ordered)
    mid = n // 2
    return ordered[mid] if n % 2 else (ordered[mid - 1] + ordered[mid]) / 2


@dataclass(frozen=True)
class Episode:
    """One spike: its first and last spike second, peak strength, and messages in it."""

    start: int
    end: int
    peak: float
    messages: int


def spike_episodes(seconds: Iterable[SecondStats], gap_s: int = EPISODE_GAP_S) -> list[Episode]:
    """Join spike seconds less than `gap_s` apart into one spike each."""
    found: list[Episode] = []
    for s in seconds:
        if not s.spike:
            continue
        last = found[-1] if found else None
        if last and s.second - last.end < gap_s:
            found[-1] = Episode(last.start, s.second, max(last.peak, s.strength),
                                last.messages + s.messages)
        else:
            found.append(Episode(s.second, s.second, s.strength, s.messages))
    return found


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
