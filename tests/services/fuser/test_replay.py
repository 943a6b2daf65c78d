"""Take-over by replay, on plain data: a decider killed at any message and rebuilt from the
same messages gives out every second once and every clip once, as an uninterrupted one does.
And the time merge hands out messages from many streams in stream-time order."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from services.fuser.decider import Decider, FuserConfig, Outputs
from services.fuser.merge import Entry, TimeMerge
from services.fuser.model import ModelStore
from tests.services.fuser.scenario import stream
from tests.services.fuser.test_decider import feed

IDS = (f"job{i}" for i in itertools.count())


def decider(tmp_path: Path) -> Decider:
    model = ModelStore(tmp_path / "models").load_current()
    return Decider("demo", FuserConfig(), model, lambda *_: next(IDS), lambda: 0.0)


@pytest.mark.parametrize("killed_at", [0.50, 0.52, 0.535, 0.55, 0.56, 0.60, 0.9])
def test_a_rebuilt_decider_writes_each_second_and_each_clip_once(
    tmp_path: Path, killed_at: float
) -> None:
    messages = stream(seconds=120, moment=60)
    whole = Outputs()
    feed(decider(tmp_path / "a"), messages, whole)
    whole.rows += decider(tmp_path / "x").finish().rows  # nothing: a fresh one is empty

    cut = int(len(messages) * killed_at)
    first, before = decider(tmp_path / "b"), Outputs()
    feed(first, messages[:cut], before)  # ... then it is killed: its open seconds are lost
    second, after = decider(tmp_path / "c"), Outputs()
    second.replay(first.closed_until, first.written_until)
    feed(second, messages, after)  # the new owner reads the streams again from the start
    end = second.finish()
    after.rows += end.rows

    times = [r.t for r in before.rows + after.rows]
    assert times == [float(t) for t in range(120)]  # every second, once, in order
    jobs = [j.t for j in before.jobs + after.jobs]
    assert jobs == [j.t for j in whole.jobs] and len(jobs) == 1  # the moment's clip, once
    flagged = [r.t for r in before.rows + after.rows if r.clip_flag]
    assert flagged == jobs


def test_the_merge_waits_for_a_full_stream_before_handing_out_later_messages() -> None:
    merge = TimeMerge()
    audio = [Entry("audio", f"{i}-0", i * 0.5, None) for i in range(10)]  # full: 0..4.5 s
    face = [Entry("face", f"{i}-1", float(i), None) for i in range(8)]  # not full: 0..7 s
    merge.add({"audio": audio, "face": face}, full={"audio"})
    out = merge.ready()
    assert [e.t for e in out] == sorted(e.t for e in out) and max(e.t for e in out) == 4.5
    assert {e.t for e in merge.held} == {5.0, 6.0, 7.0}  # face's later seconds wait
    merge.add({"audio": [Entry("audio", "20-0", 10.0, None)]}, full=set())
    assert [e.t for e in merge.ready()] == [5.0, 6.0, 7.0, 10.0]
