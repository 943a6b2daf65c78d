"""Clip plans across a gap in the recording (the source dropped, or ingest restarted)."""

from __future__ import annotations

import pytest

from services.clipper.plan import Piece, make_window, plan_clip


def recording(gap_at: float = 20.0, gap_s: float = 9.5) -> list[Piece]:
    """2 s segments from t=0 to `gap_at`, nothing for `gap_s`, then 2 s segments to t+20."""
    before = [Piece(seq=i, t=2.0 * i, dur=2.0, path=f"seg_{i}.ts") for i in range(int(gap_at // 2))]
    first = len(before) + 1  # one number skipped: a file cut off by the kill
    after = [Piece(seq=first + i, t=gap_at + gap_s + 2.0 * i, dur=2.0, path=f"seg_{first + i}.ts")
             for i in range(10)]
    return before + after


def test_a_clip_across_a_gap_joins_both_sides_and_tells_where_the_gap_was() -> None:
    plan = plan_clip(recording(), make_window(t=20.0, pre=6, post=14))  # 14..34 s
    seqs = [p.seq for p in plan.pieces]
    assert seqs == [7, 8, 9, 11, 12, 13]  # 14..20 s, then 29.5..35.5 s
    assert plan.complete
    assert plan.fraction == pytest.approx(10.5 / 20.0)  # 6 s before the gap, 4.5 s after
    [note] = plan.notes
    assert "9.5 s hole" in note and "t=20.0" in note and "t=29.5" in note


def test_a_window_that_ends_inside_the_gap_is_complete_once_the_stream_is_back() -> None:
    window = make_window(t=18.0, pre=6, post=6)  # 12..24 s; the gap is 20..29.5 s
    waiting = plan_clip(recording()[:10], window)  # before the stream came back
    assert not waiting.complete and "stops early" in waiting.notes[-1]
    plan = plan_clip(recording(), window)
    assert plan.complete and [p.seq for p in plan.pieces] == [6, 7, 8, 9]
    assert "gap in the recording from t=20.0 s to t=29.5 s" in plan.notes[-1]


def test_a_window_inside_the_gap_is_settled_with_nothing_to_cut() -> None:
    plan = plan_clip(recording(gap_s=40.0), make_window(t=35.0, pre=5, post=10))
    assert plan.complete and plan.pieces == () and plan.fraction == 0.0
    assert "no recorded segment covers" in plan.notes[0] and "gap" in plan.notes[0]
