"""Hype words: stretched words match, look-alike ordinary words do not."""

from __future__ import annotations

import pytest

from services.semantic.hype import HypeMatcher, squeeze, words
from shared.settings import DEFAULT_HYPE_WORDS


@pytest.fixture(scope="module")
def matcher() -> HypeMatcher:
    return HypeMatcher(DEFAULT_HYPE_WORDS, threshold=85)


def test_squeeze_shortens_runs_of_three_or_more() -> None:
    assert squeeze("omggg") == "omg"
    assert squeeze("insaaaaane") == "insane"
    assert squeeze("gooood", keep=2) == "good"
    assert squeeze("good") == "good"  # a double letter is a normal spelling: left alone


def test_words_are_lower_case_without_apostrophes() -> None:
    assert words("LET'S go, Chat!") == ["lets", "go", "chat"]
    assert words("   ") == []


@pytest.mark.parametrize(
    ("said", "entry"),
    [("OMGGG", "omg"), ("insaaane", "insane"), ("clutchhh", "clutch"),
     ("LET'S GOOOOO", "let's go"), ("letsgooo", "let's go"), ("noooo wayyy", "no way"),
     ("Oh my GOOOD", "oh my god"), ("incredibel", "incredible")],
)
def test_stretched_or_slightly_off_words_match(matcher: HypeMatcher, said: str, entry: str) -> None:
    assert matcher.find(said) == [entry]


@pytest.mark.parametrize(
    "said", ["insurance", "clutter", "omelette", "stick", "good", "the settings menu", "gogo"],
)
def test_ordinary_words_do_not_match(matcher: HypeMatcher, said: str) -> None:
    assert matcher.find(said) == []


def test_a_phrase_finds_each_hype_word_once_in_order(matcher: HypeMatcher) -> None:
    found = matcher.find("oh my god that was an insane clutch")
    assert found == ["oh my god", "insane", "clutch"]
    assert matcher.find("insane insane") == ["insane", "insane"]


def test_the_list_and_threshold_are_the_callers(matcher: HypeMatcher) -> None:
    mine = HypeMatcher(["big play", "kaboom"], threshold=85)
    assert mine.find("what a BIG PLAAAY kabooom") == ["big play", "kaboom"]
    assert mine.find("insane") == []
    strict = HypeMatcher(["incredible"], threshold=100)
    assert strict.find("incredibel") == []
    assert HypeMatcher([], threshold=85).find("omg insane") == []


@pytest.mark.parametrize("garbage", ["", "   ", "asdkjh qwe zzz", "😀🔥💯", "x" * 5000,
                                     "qwertyuiop asdfghjkl zxcvbnm " * 180])
def test_garbage_has_no_hype_words(matcher: HypeMatcher, garbage: str) -> None:
    assert matcher.find(garbage) == []
