"""Per-second summaries and the excitement score, on plain numbers."""

from __future__ import annotations

import pytest

from services.face.aggregate import FrameFaces, SecondBuffer, excitement, summarise
from services.face.emotion import LABELS


def probs(**given: float) -> dict[str, float]:
    return {k: given.get(k, 0.0) for k in LABELS}


HAPPY = probs(happy=0.9, neutral=0.1)
CALM = probs(neutral=0.7, sad=0.3)


def frame(t: float, emotions: dict[str, float] | None = HAPPY, session: str = "s1") -> FrameFaces:
    return FrameFaces(session=session, t=t, wall=1000.0 + t, emotions=emotions)


def test_excitement_is_aroused_minus_calm() -> None:
    assert excitement(probs(happy=1.0)) == 1.0
    assert excitement(probs(neutral=1.0)) == -1.0
    # Anger counts a quarter: 0.3 + 0.25 * 0.2 + 0.1 - 0.4.
    assert excitement(probs(surprise=0.3, angry=0.2, fear=0.1, neutral=0.4)) == pytest.approx(0.05)
    assert excitement(probs(disgust=1.0)) == -1.0  # disgust counts against, like calm
    assert excitement(probs(angry=1.0)) == 0.25  # anger alone never reaches the vote line
    assert excitement({}) == 0.0
    assert excitement({"happy": 3.0}) == 1.0  # clipped, for a model whose scores are no probs
    assert excitement({"sad": 2.0}) == -1.0


def test_a_second_is_the_mean_of_its_faces() -> None:
    second = summarise("s1", 3, [frame(3.0, HAPPY), frame(3.5, CALM)])
    assert second.t == 3.0 and second.wall == pytest.approx(1003.0) and second.frames == 2
    assert second.present
    assert second.emotions["happy"] == pytest.approx(0.45)
    assert second.emotions["neutral"] == pytest.approx(0.4)
    assert second.dominant == "happy"
    assert second.excitement == pytest.approx(0.45 - 0.4 - 0.15)


def test_no_face_means_not_present_and_no_emotion() -> None:
    second = summarise("s1", 0, [frame(0.0, None), frame(0.5, None)])
    assert not second.present and second.emotions == {} and second.dominant == ""
    assert second.excitement == 0.0
    # A face in one frame of three is not enough; in half of them it is.
    assert not summarise("s1", 0, [frame(0.0), frame(0.3, None), frame(0.6, None)]).present
    assert summarise("s1", 0, [frame(0.0), frame(0.5, None)]).present


def test_a_second_closes_when_the_next_one_starts() -> None:
    buffer = SecondBuffer(lateness_s=0.0)
    assert buffer.add(frame(0.0)) == [] and buffer.add(frame(0.5)) == []
    done = buffer.add(frame(1.0))
    assert [(s.t, s.frames) for s in done] == [(0.0, 2)]
    assert buffer.has_open
    assert [(s.t, s.frames) for s in buffer.close_all()] == [(1.0, 1)]
    assert not buffer.has_open


def test_lateness_lets_an_earlier_segment_catch_up() -> None:
    # Segment 2..4 s is handled before segment 0..2 s (two motion replicas). Its last frame
    # (3.5) is 2.5 s past the end of second 0, so 3 s of lateness keeps second 0 open.
    buffer = SecondBuffer(lateness_s=3.0)
    assert buffer.add(frame(2.0)) == [] and buffer.add(frame(3.5)) == []
    for t in (0.0, 0.5, 1.0, 1.5):
        assert buffer.add(frame(t)) == []
    done = buffer.add(frame(4.0))  # 3 s past the end of second 0: it closes
    assert [(s.t, s.frames) for s in done] == [(0.0, 2)]
    done = buffer.add(frame(5.0))
    assert [(s.t, s.frames) for s in done] == [(1.0, 2)]
    assert buffer.dropped == 0
    # Without lateness the late segment's frames are dropped (and counted).
    eager = SecondBuffer(lateness_s=0.0)
    for t in (2.0, 3.5, 0.0, 0.5):
        eager.add(frame(t))
    assert eager.dropped == 2


def test_a_frame_for_a_closed_second_is_dropped_and_counted() -> None:
    buffer = SecondBuffer(lateness_s=0.0)
    buffer.add(frame(5.0))
    buffer.add(frame(6.0))
    assert buffer.add(frame(5.5)) == []
    assert buffer.dropped == 1
    # After close_all, a frame of a second that was closed is late too.
    buffer.close_all()
    assert buffer.add(frame(6.5)) == [] and buffer.dropped == 2


def test_a_new_session_closes_the_old_ones_seconds() -> None:
    buffer = SecondBuffer(lateness_s=2.0)
    buffer.add(frame(10.0, session="old"))
    done = buffer.add(frame(0.0, session="new"))  # a new session starts again at t = 0
    assert [(s.session, s.t) for s in done] == [("old", 10.0)]
    assert [(s.session, s.t) for s in buffer.close_all()] == [("new", 0.0)]


def test_seconds_close_as_soon_as_their_segment_is_in() -> None:
    """The last frame of a segment says what it covered: its seconds close at once, with no
    lateness to wait out, and a segment done early waits for the hole before it."""
    buffer = SecondBuffer(lateness_s=8.0)
    assert buffer.add(frame(10.0)) == [] and buffer.add(frame(10.5)) == []
    done = buffer.add(frame(11.5), batch=(10.0, 12.0))  # segment 10..12 s is in
    assert [(s.t, s.frames) for s in done] == [(10.0, 2), (11.0, 1)]
    # Segment 14..16 s comes before 12..14 s (two motion replicas): it waits.
    assert buffer.add(frame(14.0)) == [] and buffer.add(frame(15.5), batch=(14.0, 16.0)) == []
    done = buffer.add(frame(13.5), batch=(12.0, 14.0))
    assert [s.t for s in done] == [13.0, 14.0, 15.0]
    assert buffer.dropped == 0 and not buffer.has_open
    # Segment times are rounded: ends a hair apart still join.
    assert [s.t for s in buffer.add(frame(16.5), batch=(16.02, 18.0))] == [16.0]
