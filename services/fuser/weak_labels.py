"""Labels without a person: chat says which seconds of a stream were exciting.

Viewers see the stream late and then type, so a strong chat spike points back at a moment
20-30 s before it (its estimated moment, see `services/chat/spikes.py`). From a channel's
seconds and its chat spikes, all on the stream clock:

- positive (1): the seconds from `before_s` before a spike's estimated moment to `after_s`
  after it, for every spike but the weakest `min_rank` share of the channel's spikes. Each
  weighs by how sure it is: its spike's strength rank (the strongest spike weighs 1).
- negative (0): seconds farther than `far_s` from every spike's seconds (weak spikes too),
  when the chat that would react to them (`react_from_s`..`react_to_s` later) stayed at or
  below `quiet_z` spreads over normal and was not a raid or gift burst.
- every other second is unsure and left out.

Kept and dropped clips outrank chat: their seconds take the clip's label. Pure code on plain
values; `chat_history` reads the files.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace

import numpy as np


@dataclass(frozen=True)
class ChatSpike:
    """A chat spike, with every time on the stream clock."""

    moment: float  # the estimated moment chat reacted to
    start: float  # when its chat began
    end: float
    strength: float
    rank: float = 1.0  # its strength's rank among the channel's spikes, in (0, 1]


@dataclass(frozen=True)
class ChatSecond:
    """One second of chat, on the stream clock: how far above normal it ran."""

    rate_z: float
    suppressed: bool = False


@dataclass(frozen=True)
class LabelRules:
    """Where labels go (see the `learn_*` settings)."""

    before_s: float = 10.0
    after_s: float = 5.0
    far_s: float = 20.0
    min_rank: float = 0.2
    quiet_z: float = 1.0
    react_from_s: float = 20.0
    react_to_s: float = 30.0


@dataclass(frozen=True)
class Label:
    """A second's label: 1 exciting, 0 not; how much it counts; where it came from."""

    y: int
    weight: float
    source: str  # "chat" or "clip"


CLIP_BEFORE_S = 2
CLIP_AFTER_S = 6
"""A kept or dropped clip labels the seconds from this long before its spike to this long
after (as the clip-only retrain does)."""


def ranked(spikes: Sequence[ChatSpike]) -> list[ChatSpike]:
    """The spikes with their strength's rank among them: the weakest near 0, the strongest 1.
    Equal strengths share a rank."""
    strengths = sorted(s.strength for s in spikes)
    count = len(strengths)
    out = []
    for spike in spikes:
        below = sum(1 for v in strengths if v < spike.strength)
        equal = sum(1 for v in strengths if v == spike.strength)
        out.append(replace(spike, rank=(below + equal) / count))
    return out


def positive_span(spike: ChatSpike, rules: LabelRules) -> tuple[float, float]:
    """The stream seconds a spike calls exciting."""
    return spike.moment - rules.before_s, spike.moment + rules.after_s


def chat_labels(seconds: Iterable[int], spikes: Sequence[ChatSpike], rules: LabelRules,
                chat: Mapping[int, ChatSecond] | None = None) -> dict[int, Label]:
    """Labels for the recorded `seconds` from ranked `spikes`. `chat`, when known, is the
    channel's chat per stream second; without it a far second is negative whatever chat did."""
    times = np.array(sorted(set(seconds)), dtype=float)
    weight = np.zeros(len(times))  # > 0: positive, with this weight
    near = np.zeros(len(times), dtype=bool)
    for spike in spikes:
        lo, hi = positive_span(spike, rules)
        if spike.rank > rules.min_rank:
            inside = (times >= lo) & (times <= hi)
            weight[inside] = np.maximum(weight[inside], spike.rank)
        near |= (times >= lo - rules.far_s) & (times <= hi + rules.far_s)
    quiet = np.ones(len(times), dtype=bool) if chat is None else _quiet(times, chat, rules)
    labels: dict[int, Label] = {}
    for t, w, close, calm in zip(times.astype(int).tolist(), weight.tolist(), near.tolist(),
                                 quiet.tolist(), strict=True):
        if w > 0:
            labels[t] = Label(1, w, "chat")
        elif not close and calm:
            labels[t] = Label(0, 1.0, "chat")
    return labels


def _quiet(times: np.ndarray, chat: Mapping[int, ChatSecond], rules: LabelRules) -> np.ndarray:
    """For each second: did the chat that would react to it stay at or below normal? Unknown
    (no chat second there at all) is not quiet."""
    if len(times) == 0:
        return np.zeros(0, dtype=bool)
    first = int(times.min() + rules.react_from_s)
    last = int(times.max() + rules.react_to_s)
    known = np.zeros(last - first + 1, dtype=bool)
    loud = np.zeros(last - first + 1, dtype=bool)
    for second, c in chat.items():
        if first <= second <= last:
            known[second - first] = True
            loud[second - first] = c.rate_z > rules.quiet_z or c.suppressed
    # Counts over each reaction window, from running sums.
    width = int(rules.react_to_s) - int(rules.react_from_s) + 1
    known_sum = np.concatenate(([0], np.cumsum(known)))
    loud_sum = np.concatenate(([0], np.cumsum(loud)))
    start = (times + rules.react_from_s).astype(int) - first
    n_known = known_sum[start + width] - known_sum[start]
    n_loud = loud_sum[start + width] - loud_sum[start]
    return np.asarray((n_known > 0) & (n_loud == 0))


def clip_marks(kept: Iterable[float], dropped: Iterable[float]) -> dict[int, int]:
    """The seconds around kept (1) and dropped (0) clips' spikes. A second near both counts
    as kept."""
    marks: dict[int, int] = {}
    for label, times in ((0, dropped), (1, kept)):
        for spike in times:
            for t in range(int(spike) - CLIP_BEFORE_S, int(spike) + CLIP_AFTER_S + 1):
                marks[t] = max(marks.get(t, 0), label)
    return marks


def merge(seconds: Iterable[int], chat: Mapping[int, Label] | None,
          marks: Mapping[int, int]) -> dict[int, Label]:
    """One session's labels: kept and dropped clips outrank chat. A session without chat
    labels but with judged clips labels its other seconds as not exciting, as the clip-only
    retrain does; one with neither has no labels."""
    labels: dict[int, Label] = {}
    for t in seconds:
        if t in marks:
            labels[t] = Label(marks[t], 1.0, "clip")
        elif chat is not None:
            if t in chat:
                labels[t] = chat[t]
        elif marks:
            labels[t] = Label(0, 1.0, "clip")
    return labels
