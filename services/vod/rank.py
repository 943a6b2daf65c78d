"""Rank a VOD's moments: find the candidates in the fuser's seconds, score each one, and pick
the best that do not overlap. Pure: plain values in, plain values out.

A candidate is a run of "hot" seconds: the model's P is at least `HOT_P`, or at least
`RELATIVE_P` times the VOD's own median P (and `MIN_P`: a calm VOD's normal P may be tiny, so a
moment that stands out from it counts), two or more of the 2-of-3 votes are on, or the fuser
flagged it for a clip. Short cool spells (`JOIN_S`) inside a run do not split it.

A second's votes are those of its row and of any spike the fuser found there: chat votes
late (it reacts after the moment), after the row was written, and only the spike shows that.

Its score, from 0 to 1, weighs what it holds:

- the model's highest P in it (the most weight: it already hears every signal);
- the most votes that were on in one of its seconds;
- chat's strongest spike that speaks for it (chat reacts a little later);
- how long it lasted (a long moment beats a blip).
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field

from shared.contracts import ChatSecond, EventRow, Spike

HOT_P = 0.5
RELATIVE_P = 4.0
MIN_P = 0.1
JOIN_S = 2.0
CHAT_LOOK_AHEAD_S = 15.0
"""Chat that starts this long after a moment may still be about it."""
CHAT_FULL_STRENGTH = 20.0
"""A chat spike this strong (or stronger) gives the whole chat part of the score. On the two
real Twitch VOD chat logs of the development data (13 h, 43 spikes) the spikes' peak strengths
run from 10 (the 10th percentile) to 22 (the 90th): at 20, chat still tells a big spike from a
small one."""
FULL_LENGTH_S = 10.0
WEIGHTS = {"p": 0.55, "votes": 0.2, "chat": 0.15, "length": 0.1}


@dataclass(frozen=True)
class Moment:
    """One candidate moment and why it scored what it did."""

    start: float
    end: float
    peak: float
    score: float
    p: float
    votes: int
    chat: float
    why: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


def _votes(row: EventRow) -> int:
    return sum(1 for on in row.votes.values() if on)


def is_hot(row: EventRow, normal_p: float = 1.0) -> bool:
    """True when the second may be part of a moment; `normal_p` is the VOD's median P."""
    p = row.excited_prob
    stands_out = p >= MIN_P and p >= RELATIVE_P * normal_p
    return p >= HOT_P or stands_out or _votes(row) >= 2 or row.clip_flag


def with_spikes(rows: Sequence[EventRow], spikes: Sequence[Spike]) -> list[EventRow]:
    """`rows` in time order, each with the votes of the spikes found at its second too."""
    late: dict[float, dict[str, bool]] = {}
    for spike in spikes:
        votes = late.setdefault(spike.t, {})
        for name, on in spike.votes.items():
            votes[name] = votes.get(name, False) or on
    out = []
    for row in sorted(rows, key=lambda r: r.t):
        if row.t in late:
            merged = {n: row.votes.get(n, False) or late[row.t].get(n, False)
                      for n in {*row.votes, *late[row.t]}}
            row = row.model_copy(update={"votes": merged})
        out.append(row)
    return out


def candidates(rows: Sequence[EventRow], chat: Sequence[ChatSecond] = ()) -> list[Moment]:
    """Every candidate moment in `rows` (the fuser's seconds, see `with_spikes`), with its
    score, in time order."""
    runs: list[list[EventRow]] = []
    normal_p = statistics.median(r.excited_prob for r in rows) if rows else 1.0
    for row in sorted(rows, key=lambda r: r.t):
        if not is_hot(row, normal_p):
            continue
        if runs and row.t - runs[-1][-1].t <= JOIN_S + 1:
            runs[-1].append(row)
        else:
            runs.append([row])
    return [_score(run, chat) for run in runs]


def _score(run: list[EventRow], chat: Sequence[ChatSecond]) -> Moment:
    start, end = run[0].t, run[-1].t + 1
    best = max(run, key=lambda r: (r.excited_prob, _votes(r)))
    votes = max(_votes(r) for r in run)
    strength = max((c.strength for c in chat if _speaks_for(c, start, end)), default=0.0)
    parts = {
        "p": best.excited_prob,
        "votes": votes / 3,
        "chat": min(1.0, strength / CHAT_FULL_STRENGTH),
        "length": min(1.0, (end - start) / FULL_LENGTH_S),
    }
    why = {name: round(WEIGHTS[name] * value, 4) for name, value in parts.items()}
    return Moment(start=start, end=end, peak=best.t, score=round(sum(why.values()), 4),
                  p=best.excited_prob, votes=votes, chat=strength, why=why)


def _speaks_for(c: ChatSecond, start: float, end: float) -> bool:
    """True when this chat second is part of a spike that reacts to `start .. end`."""
    if not c.spike:
        return False
    if c.moment_from is not None and c.moment_to is not None:
        return c.moment_from <= end and start <= c.moment_to
    return start <= c.t <= end + CHAT_LOOK_AHEAD_S


def pick(moments: Sequence[Moment], top: int, pre: float, post: float) -> list[Moment]:
    """The `top` best moments whose clips (`pre` before the peak to `post` after it) do not
    overlap, best first. Ties go to the earlier moment."""
    chosen: list[Moment] = []
    for m in sorted(moments, key=lambda m: (-m.score, m.start)):
        if len(chosen) >= top:
            break
        lo, hi = m.peak - pre, m.peak + post
        if all(hi <= c.peak - pre or lo >= c.peak + post for c in chosen):
            chosen.append(m)
    return chosen
