"""The session's stream clock, and what to do after a connection ends. Pure.

Stream time `t` counts seconds since the session started, taken from the media itself, so a
network drop becomes a gap and `t` keeps counting. Each connection to the source starts its own
media time at 0, so the clock keeps an offset per connection. When the source drops and we
connect again, the clock jumps forward by the wall-clock time we had no media: that jump is a
gap, and it is published as one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True)
class GapSpan:
    """Stream time with no media: from `t`, for `dur` seconds."""

    t: float
    dur: float


@dataclass
class StreamClock:
    """Where the media of a session got to, and when."""

    media_end: float = 0.0
    """Stream time right after the last media we have."""
    last_media_wall: float | None = None
    """Unix time when that last media arrived (None before any media)."""

    def start_connection(self, now_wall: float) -> tuple[float, GapSpan | None]:
        """A connection's first media just arrived. Returns the stream time where it starts,
        and the gap before it (None for the session's very first media)."""
        if self.last_media_wall is None:
            return round(self.media_end, 3), None
        wait = max(0.0, now_wall - self.last_media_wall)
        start = round(self.media_end + wait, 3)
        return start, GapSpan(t=self.media_end, dur=round(start - self.media_end, 6))

    def saw_media(self, end_t: float, wall: float) -> None:
        """Media up to stream time `end_t` arrived at Unix time `wall`."""
        self.media_end = max(self.media_end, end_t)
        self.last_media_wall = wall


def backoff_s(tries_in_a_row: int, min_s: float, max_s: float) -> float:
    """How long to wait before the next try: doubles each time, never more than `max_s`."""
    return min(max_s, min_s * 2 ** max(0, tries_in_a_row - 1))


Action = Literal["retry", "fail", "end"]


@dataclass(frozen=True)
class Decision:
    """What to do next: try again after `wait_s`, or stop with a final state."""

    action: Action
    wait_s: float = 0.0


@dataclass(frozen=True)
class RetryPolicy:
    """When to try again and when to give up (all from settings)."""

    min_s: float
    max_s: float
    max_failures: int
    give_up_s: float

    def decide(
        self,
        *,
        worked: bool,
        failures_in_a_row: int,
        since_media_s: float,
        live_source: bool = True,
        permanent: bool = False,
    ) -> Decision:
        """Decide after a connection ended.

        - `worked`: the session has had media at some point;
        - `failures_in_a_row`: connections since the last media that brought none;
        - `since_media_s`: seconds since the last media (0 if none ever);
        - `live_source`: False for a file, which is over once it has played;
        - `permanent`: the failure cannot go away by trying again (a bad file).
        """
        if not live_source and worked:
            return Decision("end")
        if permanent and not worked:
            return Decision("fail")
        if not worked and failures_in_a_row >= self.max_failures:
            return Decision("fail")
        if worked and since_media_s >= self.give_up_s:
            return Decision("end")
        return Decision("retry", backoff_s(max(1, failures_in_a_row), self.min_s, self.max_s))
