"""The decision rules on plain data: the 2-of-3 truth table, two seconds in a row, merging."""

from __future__ import annotations

import itertools

import pytest

from services.fuser.rules import ClipPlanner, InARow, VoteRules, two_of_three
from services.fuser.signals import audio, face, semantic
from shared.contracts import Semantic


def voice_vote(features: dict[str, float | None], rules: VoteRules,
               words: dict[str, float | None] | None = None) -> bool:
    """The voice vote: prosody (audio) or excited words (semantic, from its raw numbers)."""
    return audio.votes({}, features, rules) or semantic.votes(words or {}, features, rules)


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
        "loud_z": None, "pitch_var_z": None, "voice_arousal": None, "hype_words": None,
        "sentiment_z": None, "face_excitement": None,
    }
    assert not voice_vote(nothing, rules, {"hype_words": None, "sentiment": None})
    assert not face_vote(nothing, rules)
    # Loud alone, with no voice in the second (no arousal), is not a prosody vote.
    assert not voice_vote({**nothing, "loud_z": 9.0}, rules)
    assert two_of_three({"chat": True}) is None  # other votes absent = not votes


def test_votes_fire_on_excited_values() -> None:
    rules = VoteRules()
    assert voice_vote({"voice_arousal": 2.0}, rules)
    assert not voice_vote({"voice_arousal": 1.0, "loud_z": 8.0, "pitch_var_z": 8.0}, rules)
    assert voice_vote({}, rules, {"hype_words": 2.0, "sentiment": 0.0, "words": 2.0})
    glad: dict[str, float | None] = {"hype_words": 1.0, "sentiment": 0.6, "words": 6.0}
    assert voice_vote({}, rules, glad)
    assert face_vote({"face_excitement": 0.8}, rules)
    assert not face_vote({"face_excitement": 0.1}, rules)


def test_one_hype_word_alone_does_not_carry_the_voice_vote() -> None:
    """VADER scores a lone hype word 0.4-0.6 by itself: "insane!" alone must not vote. The
    mood line is on VADER's own scale, not compared with a z-score."""
    rules = VoteRules()
    assert not voice_vote({}, rules, {"hype_words": 1.0, "sentiment": 0.59, "words": 1.0})
    assert not voice_vote({}, rules, {"hype_words": 1.0, "sentiment": 0.3, "words": 8.0})
    # A z-score of the mood is no longer what the line is compared with.
    assert not voice_vote({"sentiment_z": 5.0}, rules,
                          {"hype_words": 1.0, "sentiment": 0.05, "words": 8.0})
    # The same through the words signal's own summary of real caption messages.
    alone = [caption("insane!", 0.5, ["insane"])]
    glad = [caption("wow that was an amazing round guys", 0.6, ["amazing"])]
    assert not semantic.votes(semantic.summarize(alone), {}, rules)
    assert semantic.votes(semantic.summarize(glad), {}, rules)


def caption(text: str, sentiment: float, hype: list[str]) -> Semantic:
    return Semantic(channel="demo", session="s1", t=5.0, dur=2.0, wall=1.0, text=text,
                    sentiment=sentiment, hype_words=hype, excited_sim=0.5, excited_margin=0.1)


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
