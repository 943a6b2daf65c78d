"""Stream time for chat: which second of the stream a chat second belongs to.

Chat is stamped by wall time (when Twitch says a message was sent). Ingest's `ChannelState`
says where the stream clock stood at some wall time, so t = state.t + (wall - state.wall).
Ingest refreshes that state after every segment, and each refresh is a little off from the
last (a segment is listed a bit sooner or later). Following every refresh made chat seconds
step back now and then (101.3 after 101.4), and two of them then fell in one stream second.
So the mapping is kept until it is off by `resync_s` or more: a real jump, like a reconnect
gap ingest measured differently, or a new session.
"""

from __future__ import annotations

from shared.contracts import ChannelState

RESYNC_S = 1.0


class ChatTimeline:
    """Turns wall times into stream times for one channel, steadily."""

    def __init__(self, resync_s: float = RESYNC_S) -> None:
        self.resync_s = resync_s
        self.session = ""
        self.offset: float | None = None  # wall - t

    def follow(self, state: ChannelState) -> bool:
        """Take in ingest's latest state. True when the mapping changed."""
        offset = state.wall - state.t
        if (state.session == self.session and self.offset is not None
                and abs(offset - self.offset) < self.resync_s):
            return False
        self.session, self.offset = state.session, offset
        return True

    def t_of(self, wall: float) -> float:
        """Stream time at Unix time `wall` (call `follow` first)."""
        assert self.offset is not None, "no channel state yet"
        return wall - self.offset
