"""The decision rules on plain data: the 2-of-3 truth table, two seconds in a row, merging."""

from __future__ import annotations

import itertools

import pytest

from services.fuser.rules import ClipPlanner, InARow, VoteRules, two_of_three
from services.fuser.signals import audio, face, semantic


def voice_vote(features: dict[str, float | None], rules: VoteRules) -> bool:
    """The voice vote: prosody (audio) or excited words (semantic)."""
    return audio.votes({}, features, rules) or semantic.votes({}, features, rules)


def face_vote(features: dict[str, float | None], rules: VoteRules) -> bool:
    return face.votes({}, features, rules)

VOTERS = ("chat", "voice", "face")


@pytest.mark.parametrize("fired", [c for n in range(4) for c in itertools.combinations(VOTERS, n)])
def test_two_of_three_truth_table(fired: tuple[str, ...]) -> None:
    votes = {name: name in fired for name in VOTERS}
    expected = {0: None, 1: None, 2: "two_votes", 3: "three_votes"}[len(fired)]
    assert two_of_three(votes) == expected


def test_a_missing_signal_never_votes() -> None:
    rules = VoteRules()
    nothing: dict[str, float | None] = {
        "loud_z": None, "pitch_var_z": None, "hype_words": None, "sentiment_z": None,
        "face_excitement": None,
    }
    assert not voice_vote(nothing, rules)
    assert not face_vote(nothing, rules)
    # Loud alone, with pitch missing, is not a prosody vote either.
    assert not voice_vote({**nothing, "loud_z": 9.0}, rules)
    assert two_of_three({"chat": True}) is None  # other votes absent = not votes


def test_votes_fire_on_excited_values() -> None:
    rules = VoteRules()
    assert voice_vote({"loud_z": 3.0, "pitch_var_z": 2.0}, rules)
    assert voice_vote({"hype_words": 2.0}, rules)
    assert voice_vote({"hype_words": 1.0, "sentiment_z": 1.0}, rules)
    assert not voice_vote({"loud_z": 1.0, "pitch_var_z": 2.0, "hype_words": 0.0}, rules)
    assert face_vote({"face_excitement": 0.8}, rules)
    assert not face_vote({"face_excitement": 0.1}, rules)


def test_two_seconds_in_a_row() -> None:
    rule = InARow(2)
    assert rule.update(10, True) is None
    assert rule.update(11, True) == 10  # fires on the second second, naming the first
    assert rule.update(12, True) is None  # starts over after firing
    assert rule.update(13, False) is None
    assert rule.update(14, True) is None
    assert rule.update(16, True) is None  # 15 is missing: not in a row
    assert rule.update(17, True) == 16


def test_one_high_second_alone_does_not_fire() -> None:
    rule = InARow(2)
    fired = [rule.update(t, holds) for t, holds in enumerate([True, False, True, False, True])]
    assert fired == [None] * 5


def test_overlapping_triggers_merge_and_the_cooldown_holds_but_three_votes_skip_it() -> None:
    planner = ClipPlanner(pre=10, post=20, cooldown=60)
    assert planner.accept(100, "model")
    assert not planner.accept(105, "two_votes")  # inside the clip already asked for
    assert not planner.accept(115, "three_votes")  # still covered by that clip
    assert not planner.accept(130, "model")  # cooldown
    assert planner.accept(130, "three_votes")  # an instant clip skips the cooldown
    assert planner.accept(200, "model")
