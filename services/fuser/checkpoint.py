"""How far the fuser got in a channel's session, so that a new owner can go on from there.

The fuser reads its signal streams by position, not through a consumer group. With each
output it notes, in the same Redis transaction, the first second it has not closed, the first
second whose row it has not written, and, per stream, the id to read again after. A new owner
(after a restart, a crash or a take-over) reads from those ids, replays what it reads through
a fresh decider to rebuild the channel's normals and open seconds, and gives out only what the
last owner had not: a killed fuser costs no second and no clip, and none comes twice.
"""

from __future__ import annotations

import json
from collections import deque
from dataclasses import dataclass, field

WARM_S = 300
"""Seconds read again at a take-over before the first open one: the channel's normals (its
z-scores) are made of about this much, and the cooldown and the chat window of less."""


@dataclass(frozen=True)
class Checkpoint:
    """The fuser's place in one channel's session."""

    session: str
    closed_until: int
    rows_from: int
    replay_from: dict[str, str] = field(default_factory=dict)

    def dumps(self) -> str:
        return json.dumps({"session": self.session, "closed_until": self.closed_until,
                           "rows_from": self.rows_from, "replay_from": self.replay_from})

    @classmethod
    def loads(cls, text: str | None) -> Checkpoint | None:
        """The checkpoint in `text`, or None when there is none or it cannot be read."""
        try:
            data = json.loads(text or "")
            return cls(str(data["session"]), int(data["closed_until"]), int(data["rows_from"]),
                       {str(k): str(v) for k, v in dict(data.get("replay_from", {})).items()})
        except (ValueError, TypeError, KeyError):
            return None


class ReplayPoints:
    """Per stream, the id to read again after: the last entry older than the seconds a new
    owner needs (the open ones and `warm_s` before them)."""

    def __init__(self, warm_s: float = WARM_S, start: dict[str, str] | None = None) -> None:
        self.warm_s = warm_s
        self.kept: dict[str, deque[tuple[str, float]]] = {}
        self.after: dict[str, str] = dict(start or {})

    def saw(self, stream: str, entry_id: str, t: float) -> None:
        """An entry was handed to the decider."""
        self.kept.setdefault(stream, deque()).append((entry_id, t))

    def points(self, open_from: int) -> dict[str, str]:
        """Where to read again, given the first second still open."""
        cut = open_from - self.warm_s
        for stream, kept in self.kept.items():
            while kept and kept[0][1] < cut:
                self.after[stream] = kept.popleft()[0]
        return dict(self.after)
