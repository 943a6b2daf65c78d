"""Chat: how far above its normal rate chat runs, and its spikes. Viewers see the stream
late and then type, so chat speaks for the seconds before it."""

from __future__ import annotations

from collections.abc import Sequence

from services.fuser.rules import VoteRules
from shared.contracts import ChatSecond
from shared.streams import CHAT

from .base import Feature, FuserSignal, Values


def is_spike(second: ChatSecond) -> bool:
    """A real spike: not a raid or a gift burst."""
    return second.spike and not second.suppressed


def summarize(seconds: Sequence[ChatSecond]) -> Values:
    if not seconds:
        return {"chat_rate_z": None, "chat_spike": None}
    return {"chat_rate_z": max(c.rate_z for c in seconds),
            "chat_spike": 1.0 if any(is_spike(c) for c in seconds) else 0.0}


def votes(raw: Values, features: Values, rules: VoteRules) -> bool:
    return bool(raw.get("chat_spike"))


SIGNAL = FuserSignal(
    name="chat", topic=CHAT, summarize=summarize, order=40, reacts_later=True,
    features=(Feature("chat_rate_z", "chat_rate_z", 0.3),),
    vote="chat", votes=votes, late_vote=is_spike,
)
