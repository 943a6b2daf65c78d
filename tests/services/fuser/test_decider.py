"""The per-channel decider on synthetic signals: one clip for one moment, none without it,
and no crash or double clip on messy input."""

from __future__ import annotations

import itertools
import random
from pathlib import Path

from services.fuser.buckets import Bucketer, Signal
from services.fuser.decider import Decider, FuserConfig, Outputs, job_id_for
from services.fuser.model import ModelStore
from shared.contracts import AudioFeatures, ChatSecond, Semantic
from tests.services.fuser.scenario import stream

IDS = (f"job{i}" for i in itertools.count())


def run(messages: list[Signal], tmp_path: Path, config: FuserConfig | None = None,
        finish: bool = True) -> Outputs:
    model = ModelStore(tmp_path / "models").load_current()
    fuser = Decider("demo", config or FuserConfig(), model, lambda *_: next(IDS), lambda: 0.0)
    total = Outputs()
    feed(fuser, messages, total)
    if finish:
        total.extend(fuser.finish())
    return total


def feed(fuser: Decider, messages: list[Signal], total: Outputs) -> None:
    """Hand the messages to the decider one by one, as the service does, adding up what each
    step gives out."""
    for message in messages:
        fuser.add(message)
        total.extend(fuser.step())


def test_one_excited_moment_makes_exactly_one_clip(tmp_path: Path) -> None:
    out = run(stream(moment=60), tmp_path)
    assert len(out.jobs) == 1
    assert 58 <= out.jobs[0].t <= 64
    assert [r.t for r in out.rows] == [float(t) for t in range(120)]  # one row per second
    flagged = [r.t for r in out.rows if r.clip_flag]
    assert flagged == [out.jobs[0].t]  # the row of the second the clip is for, not the next
    spike = next(s for s in out.spikes if s.job_id)
    assert spike.contributions["loud_z"] > 0  # the spike explains itself
    assert spike.probability >= 0.8 or sum(spike.votes.values()) >= 2


def test_a_calm_stream_makes_no_clip(tmp_path: Path) -> None:
    out = run(stream(moment=None), tmp_path)
    assert out.jobs == []
    assert max(r.excited_prob for r in out.rows) < 0.8


def test_out_of_order_and_duplicated_messages_still_make_one_clip(tmp_path: Path) -> None:
    messages = stream(moment=60)
    shuffled: list[Signal] = []
    rng = random.Random(3)
    for start in range(0, len(messages), 12):  # shuffle within small windows, as replicas do
        window = messages[start:start + 12]
        rng.shuffle(window)
        shuffled += window
    shuffled += rng.sample(messages, 200)  # and send some twice, late
    out = run(shuffled, tmp_path)
    assert len(out.jobs) == 1


def test_a_signal_that_goes_silent_is_marked_missing_not_zero(tmp_path: Path) -> None:
    messages = [m for m in stream(moment=None, chat=False)
                if not (type(m).__name__ == "Motion" and m.t >= 50)]
    out = run(messages, tmp_path)
    late = [r for r in out.rows if r.t >= 50]
    assert late and all(r.motion_avg is None and "motion" in r.missing for r in late)
    assert all(r.features["motion_z"] is None for r in late)
    early = [r for r in out.rows if 25 <= r.t < 50]
    assert all(r.motion_avg is not None for r in early)
    assert all("chat" in r.missing for r in out.rows)


def test_a_late_chat_spike_completes_two_of_three(tmp_path: Path) -> None:
    # The model alone is made deaf (threshold 0.999); the face votes at 60-63; chat spikes at 64
    # and arrives after those seconds closed.
    config = FuserConfig(threshold=0.999, chat_delay=6.0)
    messages = [m for m in stream(moment=60, chat=False)
                if not (type(m).__name__ in ("AudioFeatures", "Semantic") and 60 <= m.t < 64)]
    spike = ChatSecond(channel="demo", session="s1", t=64, dur=1, wall=0, messages=30,
                       chatters=20, rate_z=9, baseline=0.5, hype_density=0.5, spike=True,
                       strength=9)
    at = next(i for i, m in enumerate(messages) if m.t >= 75)
    messages.insert(at, spike)
    out = run(messages, tmp_path, config)
    assert [s.trigger for s in out.spikes if s.job_id] == ["two_votes"]
    assert 58 <= out.jobs[0].t <= 64
    assert out.spikes[0].votes == {"chat": True, "voice": False, "face": True}


def test_a_suppressed_chat_spike_does_not_vote(tmp_path: Path) -> None:
    config = FuserConfig(threshold=0.999)
    messages = [m for m in stream(moment=60, chat=False)
                if not (type(m).__name__ in ("AudioFeatures", "Semantic") and 60 <= m.t < 64)]
    raid = ChatSecond(channel="demo", session="s1", t=64, dur=1, wall=0, messages=30,
                      chatters=20, rate_z=9, baseline=0.5, hype_density=0.5, spike=True,
                      strength=9, suppressed=True)
    messages.insert(next(i for i, m in enumerate(messages) if m.t >= 75), raid)
    assert run(messages, tmp_path, config).jobs == []


def test_the_clip_flag_is_on_the_row_of_the_second_the_model_clipped(tmp_path: Path) -> None:
    """The model needs two seconds in a row; the flag goes on the first, as the clip does."""
    out = run(stream(moment=60, chat=False, face=False), tmp_path)
    job = next(s for s in out.spikes if s.job_id)
    assert job.trigger == "model"
    assert [r.t for r in out.rows if r.clip_flag] == [job.t]
    assert [r.t for r in out.rows] == [float(t) for t in range(120)]


def test_seconds_in_a_recording_gap_are_written_and_marked(tmp_path: Path) -> None:
    """Ingest was down for 40..50 s: it says so with a Gap when it is back. Those seconds are
    rows like any other, with every signal missing and "gap" among them."""
    from shared.contracts import Gap
    from tests.services.fuser.scenario import CHANNEL, SESSION, WALL0

    messages = [m for m in stream(seconds=80, moment=None) if not 40 <= m.t < 50]
    back = next(i for i, m in enumerate(messages) if m.t >= 50)
    gap = Gap(channel=CHANNEL, session=SESSION, t=40.0, dur=10.0, wall=WALL0 + 40,
              reason="ingest restarted", by="ingest", cause="restart")
    out = run([*messages[:back], gap, *messages[back:]], tmp_path)
    assert [r.t for r in out.rows] == [float(t) for t in range(80)]
    holes = [r for r in out.rows if "gap" in r.missing]
    assert [r.t for r in holes] == [float(t) for t in range(40, 50)]
    assert all({"audio", "motion", "face"} <= set(r.missing) for r in holes)
    assert all(r.loud_db is None and r.motion_avg is None for r in holes)


def _half(t: float) -> AudioFeatures:
    return AudioFeatures(channel="c", session="s", t=t, dur=0.5, wall=1000.0 + t, loud_db=-30.0,
                         peak_db=-6.0, f0_mean=None, f0_var=None, voiced_ratio=0.0,
                         centroid=1000.0, onset_mean=0.0, onset_max=0.0, clipped_ratio=0.0)


def test_audio_a_little_out_of_order_still_counts_and_a_hole_is_a_row() -> None:
    """Two copies of audio_features may publish a channel's chunks out of order: the second
    waits `settle` past the newest one. A second nobody spoke of is still a row."""
    buckets = Bucketer(lateness=4.0, settle=1.0)
    for t in (0.0, 0.5, 1.0, 2.0):  # 1.5 comes after 2.0; 3.0-3.5 are lost
        buckets.add(_half(t))
    assert [s.t for s in buckets.ready()] == [0]  # 1 waits for its late half
    buckets.add(_half(1.5))
    for t in (2.5, 4.0, 4.5, 5.0, 5.5, 6.0):
        buckets.add(_half(t))
    closed = buckets.ready()
    assert [s.t for s in closed] == [1, 2, 3, 4]
    assert len(closed[0].messages("audio")) == 2 and buckets.late_messages == 0
    assert closed[2].messages("audio") == []  # the hole: a row with nothing heard


def _calm_voice(messages: list[Signal], moment: int) -> list[Signal]:
    """The scenario with a calm voice and picture at the moment: only chat and words vote."""
    calm = stream(moment=None, face=False)
    keep = [m for m in messages if isinstance(m, (ChatSecond, Semantic))]
    return sorted([m for m in calm if not isinstance(m, (ChatSecond, Semantic))] + keep,
                  key=lambda m: m.t)


def test_words_that_come_after_their_seconds_closed_still_vote(tmp_path: Path) -> None:
    """A phrase's meaning comes once the phrase is final, often after its seconds closed.
    Its vote still counts, with the chat spike's, for the seconds it covers."""
    moment = 60
    messages = _calm_voice(stream(moment=moment, face=False), moment)
    said = next(m for m in messages if isinstance(m, Semantic) and m.t == moment)
    # The shout as chat places it (chat votes for 62-64 here).
    words = said.model_copy(update={"t": moment + 2.0, "wall": said.wall + 2.0})
    messages = sorted([m for m in messages if m is not said] + [words], key=lambda m: m.t)
    on_time = run(messages, tmp_path)
    late = [m for m in messages if m is not words]
    late.insert(next(i for i, m in enumerate(late) if m.t >= moment + 8), words)
    came_late = run(late, tmp_path)
    no_words = run([m for m in messages if m is not words], tmp_path)
    assert len(on_time.jobs) == 1
    assert no_words.jobs == []  # chat alone is one vote: no clip
    assert len(came_late.jobs) == 1
    assert came_late.jobs[0].why is not None and came_late.jobs[0].why.votes["voice"]
    assert moment + 2 <= (came_late.jobs[0].t or 0) <= moment + 4


def test_a_second_decided_again_names_the_same_clip_job() -> None:
    """A fuser that takes over and decides a second again (its first owner died after asking
    for the clip, before its checkpoint) asks for the same job: the clipper skips a job it did."""
    assert job_id_for("demo", "s1", 60.0) == job_id_for("demo", "s1", 60.0)
    assert len({job_id_for("demo", "s1", 60.0), job_id_for("demo", "s1", 61.0),
                job_id_for("demo", "s2", 60.0), job_id_for("other", "s1", 60.0)}) == 4
