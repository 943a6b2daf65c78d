"""The decision rules, as plain functions and small state machines.

- The 2-of-3 rule: hype chat, voice emotion, face emotion. Two votes make a clip; all three
  make an instant clip, even during the cooldown. A missing signal never votes. Each signal
  casts its part of a vote (see `signals/`); the lines they use are here, in `VoteRules`.
- The model rule: P >= threshold two seconds in a row.
- Clip planning: triggers close together merge into one clip, and a cooldown keeps clips apart.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Trigger = Literal["model", "two_votes", "three_votes"]


@dataclass(frozen=True)
class VoteRules:
    """Where each vote's line is, each on the scale of the number it is compared with (the
    settings `vote_*` set them; see shared/settings/voting.py)."""

    voice_arousal: float = 1.5
    """The voice's arousal: a mean of z-scores against the channel's own speech."""
    voice_hype_words: float = 2.0
    """Hype words heard in the second: this many vote on their own."""
    voice_sentiment: float = 0.4
    """VADER's compound mood of the words (-1..1), for one hype word in a glad sentence."""
    voice_sentiment_words: int = 4
    """...and that sentence must be at least this many words, so one hype word alone (which
    VADER scores 0.4-0.6 by itself) never carries the vote."""
    face_excitement: float = 0.4


def two_of_three(votes: dict[str, bool]) -> Trigger | None:
    """Two votes: a clip. Three: an instant clip. Fewer: nothing."""
    count = sum(bool(vote) for vote in votes.values())
    if count == 3:
        return "three_votes"
    if count == 2:
        return "two_votes"
    return None


class InARow:
    """True once a condition has held `needed` seconds in a row (then it starts over)."""

    def __init__(self, needed: int = 2) -> None:
        self.needed = needed
        self.run: list[int] = []

    def update(self, t: int, holds: bool) -> int | None:
        """Feed one second. Returns the first second of the run when the run is complete."""
        if not holds or (self.run and t != self.run[-1] + 1):
            self.run = []
        if holds:
            self.run.append(t)
            if len(self.run) >= self.needed:
                first = self.run[0]
                self.run = []
                return first
        return None


@dataclass
class ClipPlanner:
    """Decides whether a trigger becomes a new clip or merges into the last one."""

    pre: float
    post: float
    cooldown: float
    last_t: float | None = None

    def accept(self, t: float, trigger: Trigger) -> bool:
        """True: ask for a new clip at `t`. False: it merges into the clip already asked for.

        A moment that the last clip already covers always merges. Otherwise the cooldown keeps
        clips apart, except for an instant (three-vote) clip.
        """
        if self.last_t is not None:
            gap = abs(t - self.last_t)
            covered = gap < self.post
            cooling = gap < self.cooldown and trigger != "three_votes"
            if covered or cooling:
                return False
        self.last_t = t
        return True
