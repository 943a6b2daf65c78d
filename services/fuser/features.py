"""Turn one closed second into the numbers the model and the 2-of-3 rule look at.

Each signal sums up its messages of the second into raw numbers (see `signals/`). Features
are then those numbers, some scored against the channel's own normal (robust z-scores). A
signal that did not report gives None here, and it stays None: the model reads it as
"nothing unusual" (0), and the 2-of-3 rule never counts it as a vote.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from services.fuser import signals
from services.fuser.buckets import Second
from services.fuser.rules import VoteRules
from services.fuser.signals import Values
from services.fuser.zscore import RobustZ
from shared.contracts import Stamped


@dataclass(frozen=True)
class Summary:
    """The plain numbers of one second, per signal, and the signals that did not report."""

    by_signal: dict[str, Values]
    missing: tuple[str, ...]

    @property
    def raw(self) -> Values:
        """Every signal's numbers in one table."""
        return {k: v for values in self.by_signal.values() for k, v in values.items()}


def summarize(second: Second, windows: Mapping[str, Sequence[Stamped]],
              heard: set[str]) -> Summary:
    """Sum up each signal over the second. Signals that react later are summed over their
    window (`windows`); `heard` names the signals that have said anything yet."""
    by_signal: dict[str, Values] = {}
    missing: list[str] = []
    for signal in signals.signals():
        if signal.reacts_later:
            messages: Sequence[Stamped] = windows.get(signal.name, ())
            silent = signal.name not in heard
        else:
            messages = second.messages(signal.name)
            silent = signal.steady and not messages
        by_signal[signal.name] = signal.summarize(messages)
        if silent:
            missing.append(signal.name)
    return Summary(by_signal, tuple(missing))


def cast_votes(summary: Summary, features: Values, rules: VoteRules) -> dict[str, bool]:
    """The 2-of-3 rule's votes for one second. A vote that several signals share is cast
    when any of them casts it."""
    votes = dict.fromkeys(signals.vote_names(), False)
    for signal in signals.signals():
        if signal.vote and signal.votes and signal.name in summary.by_signal:
            votes[signal.vote] = votes[signal.vote] or signal.votes(
                summary.by_signal[signal.name], features, rules)
    return votes


class ChannelNormals:
    """The running z-scores of one channel, one per feature that asks for one."""

    def __init__(self, warmup: int = 20) -> None:
        self.warmup = warmup
        self.scorers: dict[str, RobustZ] = {}

    def features(self, raw: Values) -> Values:
        """The features of this second (the model's inputs, and the parts some of them are
        made from), with None where a signal is missing."""
        found: Values = {}
        for feature in signals.features():
            if feature.combine is not None:
                found[feature.name] = feature.combine(found)
                continue
            value = raw.get(feature.raw)
            if feature.normal is not None:
                scorer = self.scorers.get(feature.name)
                if scorer is None:
                    scorer = self.scorers[feature.name] = feature.normal(self.warmup)
                value = scorer.score(value)
            found[feature.name] = value
        return found
