"""Word-by-word captions: grouping, the highlighted word, the safe area, and ASS that pysubs2
reads back."""

from __future__ import annotations

import itertools

import pysubs2
import pytest

from services.export.captions import (
    SAFE,
    STYLES,
    TimedWord,
    caption_box,
    caption_lines,
    group_words,
    to_ass,
)


def words(*spec: tuple[str, float, float]) -> list[TimedWord]:
    return [TimedWord(t, s, e) for t, s, e in spec]


SPOKEN = words(("so", 0.0, 0.2), ("what", 0.3, 0.5), ("a", 0.55, 0.6), ("shot", 0.7, 1.0),
               ("no", 2.0, 2.2), ("way", 2.3, 2.6))


def test_words_group_by_count_and_at_pauses() -> None:
    groups = group_words(SPOKEN, max_words=3)
    assert [[w.text for w in g] for g in groups] == [["so", "what", "a"], ["shot"],
                                                     ["no", "way"]]
    slow = words(*[(f"w{n}", n * 0.9, n * 0.9 + 0.5) for n in range(4)])
    assert [len(g) for g in group_words(slow, 3)] == [2, 2]  # no group spans over 1.8 s
    assert group_words(words(("", 0, 1), ("  ", 1, 2)), 3) == []


def test_each_word_is_highlighted_in_turn_and_groups_do_not_overlap() -> None:
    lines = caption_lines(SPOKEN, STYLES["bold"], duration=10.0)
    assert len(lines) == 6
    assert lines[1][2] == "SO {\\c&H00DDFF&}WHAT{\\r} A"
    for (s1, e1, _), (s2, _, _) in itertools.pairwise(lines):
        assert s1 < e1 <= s2
    assert lines[3][1] == pytest.approx(1.3)  # held a little after the last word
    assert lines[-1][1] == pytest.approx(2.9)
    cut = caption_lines(words(("late", 9.8, 10.5)), STYLES["bold"], duration=10.0)
    assert cut[0][1] == 10.0


def test_odd_text_cannot_break_the_ass() -> None:
    lines = caption_lines(words(("{\\b1}hi", 0, 1)), STYLES["clean"], 5.0)
    assert lines[0][2].count("{") == 2 and "\\b1" not in lines[0][2]


@pytest.mark.parametrize("name", sorted(STYLES))
def test_every_style_writes_ass_inside_the_safe_area(name: str) -> None:
    style = STYLES[name]
    subs = pysubs2.SSAFile.from_string(to_ass(SPOKEN, 1080, 1920, 10.0, style))
    assert (subs.info["PlayResX"], subs.info["PlayResY"]) == ("1080", "1920")
    look = subs.styles["Default"]
    assert 50 <= look.fontsize <= 90  # big enough for a phone, small enough for a few words
    assert look.marginv >= 1920 * SAFE.bottom and look.marginl >= 1080 * SAFE.side
    left, top, right, bottom = caption_box(1080, 1920, style)
    assert (left, right) == (look.marginl, 1080 - look.marginr)
    assert top < bottom - 3 * look.fontsize
    assert len(subs.events) == len(SPOKEN)
    assert subs.events[0].start == 0 and subs.events[-1].end == 2900


def test_no_words_give_an_ass_with_no_events() -> None:
    assert pysubs2.SSAFile.from_string(to_ass([], 540, 960, 3.0, STYLES["pop"])).events == []
