"""Chat: how far above its normal rate chat runs, and its spikes. Viewers see the stream
late and then type, so chat speaks for the seconds before it.

A chat spike names the stream seconds it reacts to: from its estimated moment (its start minus
the reaction lag) less a slack, to its start (`moment_from`..`moment_to`). It votes there, as a
late vote, and a clip it leads starts early enough to hold them. A spike second that names no
window (from an older chat service) votes for the `chat_delay` seconds before it, as it did.
"""

from __future__ import annotations

from collections.abc import Sequence

from services.fuser.rules import VoteRules
from shared.contracts import ChatSecond
from shared.streams import CHAT

from .base import Feature, FuserSignal, Values


def is_spike(second: ChatSecond) -> bool:
    """A real spike: not a raid or a gift burst."""
    return second.spike and not second.suppressed


def moment_window(second: ChatSecond) -> tuple[float, float] | None:
    """The stream seconds a spike reacts to, when it names them."""
    if second.moment_from is None or second.moment_to is None:
        return None
    return second.moment_from, max(second.moment_from, second.moment_to)


def summarize(seconds: Sequence[ChatSecond]) -> Values:
    if not seconds:
        return {"chat_rate_z": None, "chat_spike": None}
    # A spike that names its window votes only there (see `moment_window`), never here.
    return {"chat_rate_z": max(c.rate_z for c in seconds),
            "chat_spike": 1.0 if any(is_spike(c) and moment_window(c) is None
                                     for c in seconds) else 0.0}


def votes(raw: Values, features: Values, rules: VoteRules) -> bool:
    return bool(raw.get("chat_spike"))


SIGNAL = FuserSignal(
    name="chat", topic=CHAT, summarize=summarize, order=40, reacts_later=True,
    features=(Feature("chat_rate_z", "chat_rate_z", 0.3),),
    vote="chat", votes=votes, late_vote=is_spike, late_window=moment_window,
)
