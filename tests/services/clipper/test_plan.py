"""The pure parts of the clipper: which segments make a clip, and the SRT text."""

from __future__ import annotations

import pytest

from services.clipper.plan import ClipClock, Piece, make_window, nearest, plan_clip, wall_at
from services.clipper.srt import captions_to_srt, clean_text, srt_time
from shared.contracts import Caption


def pieces(count: int, dur: float = 2.0, first: float = 0.0, skip: tuple[int, ...] = ()) -> list[
        Piece]:
    return [Piece(seq=i, t=first + i * dur, dur=dur, path=f"seg_{i}.ts", wall=1000 + i * dur)
            for i in range(count) if i not in skip]


def test_whole_segments_from_the_one_holding_the_start_to_the_one_holding_the_end() -> None:
    plan = plan_clip(pieces(30), make_window(t=21.0, pre=10, post=20))
    assert [p.seq for p in plan.pieces] == list(range(5, 21))  # 10..42 s holds 11..41 s
    assert (plan.start, plan.end, plan.expected_duration) == (10.0, 42.0, 32.0)
    assert plan.complete and plan.fraction == 1.0 and plan.notes == ()


def test_boundaries_that_fall_on_a_segment_edge_take_no_extra_segment() -> None:
    plan = plan_clip(pieces(30), make_window(t=20.0, pre=10, post=20))
    assert [p.seq for p in plan.pieces] == list(range(5, 20))
    assert plan.expected_duration == 30.0


def test_not_complete_until_the_segment_holding_the_end_is_here() -> None:
    window = make_window(t=20.0, pre=10, post=20)
    waiting = plan_clip(pieces(15), window)  # up to 30 s of 40 s
    assert not waiting.complete
    assert waiting.fraction == pytest.approx(20 / 30)
    assert "stops early" in waiting.notes[-1]
    assert plan_clip(pieces(20), window).complete


def test_a_spike_near_the_start_begins_at_zero_and_is_not_short() -> None:
    plan = plan_clip(pieces(20), make_window(t=3.0, pre=10, post=20))
    assert plan.window.start == 0.0 and plan.window.asked_start == -7.0
    assert plan.pieces[0].seq == 0 and plan.complete and plan.notes == ()


def test_holes_and_a_late_start_are_told() -> None:
    plan = plan_clip(pieces(10, first=6.0, skip=(3,)), make_window(t=10.0, pre=5, post=5))
    assert plan.complete
    assert any("starts late" in n for n in plan.notes)
    assert any("2.0 s hole" in n for n in plan.notes)


def test_no_segments_at_all() -> None:
    plan = plan_clip([], make_window(t=10.0, pre=5, post=5))
    assert plan.pieces == () and not plan.complete and plan.fraction == 0.0
    assert "no recorded segment" in plan.notes[0]


def test_the_same_segment_twice_counts_once() -> None:
    twice = pieces(10) + pieces(10)
    assert len(plan_clip(twice, make_window(t=10.0, pre=4, post=4)).pieces) == 4


def test_wall_time_of_a_stream_time() -> None:
    assert wall_at(25.0, ref_t=20.0, ref_wall=1000.0) == 1005.0
    found = nearest(pieces(10), 5.5)
    assert found is not None and found.seq == 2
    late = nearest(pieces(10), 99.0)
    assert late is not None and late.seq == 9


def caption(t: float, dur: float, text: str, final: bool = True) -> Caption:
    return Caption(channel="c", session="s", t=t, dur=dur, wall=0.0, text=text, final=final)


def test_srt_time_format() -> None:
    assert srt_time(0) == "00:00:00,000"
    assert srt_time(1.9996) == "00:00:02,000"
    assert srt_time(59.9999) == "00:01:00,000"
    assert srt_time(3723.042) == "01:02:03,042"
    assert srt_time(-1.0) == "00:00:00,000"


def test_srt_cues_are_final_clipped_to_the_clip_and_on_its_clock() -> None:
    text = captions_to_srt([
        caption(33.0, 2.0, "late one"),
        caption(12.0, 1.5, "what a shot"),
        caption(13.0, 1.0, "what a sh", final=False),
        caption(9.0, 2.0, "starts before the clip"),
        caption(39.0, 3.0, "ends after the clip"),
        caption(50.0, 1.0, "outside"),
        caption(15.0, 1.0, "   "),
    ], ClipClock((Piece(0, 10.0, 30.0, "a.ts"),)))
    assert text == (
        "1\n00:00:00,000 --> 00:00:01,000\nstarts before the clip\n\n"
        "2\n00:00:02,000 --> 00:00:03,500\nwhat a shot\n\n"
        "3\n00:00:23,000 --> 00:00:25,000\nlate one\n\n"
        "4\n00:00:29,000 --> 00:00:30,000\nends after the clip\n"
    )


def test_no_captions_make_an_empty_srt() -> None:
    clock = ClipClock((Piece(0, 0.0, 30.0, "a.ts"),))
    assert captions_to_srt([], clock) == ""
    assert captions_to_srt([caption(1.0, 1.0, "x", final=False)], clock) == ""


def test_a_hole_in_the_clip_moves_later_cues_back_by_it() -> None:
    """Segments 10-20 and 20-22 were recorded, 22-30 was a gap, 30-40 again; segment 1 was
    left out of the cut. The file holds 10-20 and 30-40: 20 s."""
    pieces = (Piece(0, 10.0, 10.0, "a.ts"), Piece(1, 20.0, 2.0, "b.ts"),
              Piece(2, 30.0, 10.0, "c.ts"))
    clock = ClipClock.of(pieces, joined=(0, 2))
    assert clock.duration == 20.0
    assert [clock.at(t) for t in (5.0, 10.0, 15.0, 21.0, 25.0, 31.0, 45.0)] == [
        0.0, 0.0, 5.0, 10.0, 10.0, 11.0, 20.0]
    text = captions_to_srt([caption(18.0, 1.0, "before"), caption(24.0, 2.0, "in the gap"),
                            caption(32.0, 1.5, "after the gap")], clock)
    assert text == ("1\n00:00:08,000 --> 00:00:09,000\nbefore\n\n"
                    "2\n00:00:12,000 --> 00:00:13,500\nafter the gap\n")


def test_blank_lines_inside_a_caption_are_removed() -> None:
    assert clean_text("one\n\n  two   words \n") == "one\ntwo words"
