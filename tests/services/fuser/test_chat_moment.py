"""A chat spike votes where its estimated moment is, not just for the seconds before it was
typed, and a clip it leads starts early enough to hold that moment (within the recording
that is still on disk)."""

from __future__ import annotations

from pathlib import Path

from services.fuser.buckets import Signal
from services.fuser.decider import FuserConfig
from shared.contracts import ChatSecond
from tests.services.fuser.scenario import CHANNEL, SESSION, WALL0, stream
from tests.services.fuser.test_decider import run

FACE_AT = 78  # the streamer's face is excited at 78..81 (the voice says nothing)
TC = 90  # chat time of the spike second
LAG, SLACK = 20.0, 5.0


def chat_spike(start: float, arrives_at: float) -> tuple[ChatSecond, float]:
    """A spike second at chat time TC whose chat began at `start`: its moment is `LAG`
    before, and it speaks for `moment - SLACK .. start`."""
    moment = start - LAG
    return ChatSecond(channel=CHANNEL, session=SESSION, t=TC, dur=1, wall=WALL0 + TC,
                      messages=40, chatters=35, rate_z=12, baseline=1.0, hype_density=0.8,
                      spike=True, strength=14, spike_start=start, moment=moment,
                      moment_from=moment - SLACK, moment_to=start), arrives_at


def with_chat(spike: tuple[ChatSecond, float]) -> list[Signal]:
    """The face votes at FACE_AT..+3; the voice is kept out; the chat spike comes in when the
    stream is at `arrives_at`."""
    message, arrives_at = spike
    messages = [m for m in stream(moment=FACE_AT, chat=False)
                if not (type(m).__name__ in ("AudioFeatures", "Semantic")
                        and FACE_AT <= m.t < FACE_AT + 4)]
    at = next(i for i, m in enumerate(messages) if m.t >= arrives_at)
    return [*messages[:at], message, *messages[at:]]


DEAF = FuserConfig(threshold=0.999, chat_delay=10.0, pre=10.0)  # only the 2-of-3 rule clips


def test_a_spike_votes_for_the_seconds_its_window_names(tmp_path: Path) -> None:
    # Chat began at 83: its moment is 63, so it speaks for 58..83, which holds the face's 78-81.
    out = run(with_chat(chat_spike(start=83.0, arrives_at=95)), tmp_path, DEAF)
    (job,) = out.jobs
    assert FACE_AT <= job.t <= FACE_AT + 3
    spike = next(s for s in out.spikes if s.job_id == job.job_id)
    assert spike.votes == {"chat": True, "voice": False, "face": True}
    # The clip reaches back to hold the estimated moment (and the slack before it), though
    # the default pre-roll (10 s) would start it at 68 or later.
    assert job.t - job.pre <= 63.0 - SLACK + 1e-9
    assert job.t - job.pre >= 58.0 - 1e-9


def test_a_spike_whose_window_misses_the_other_vote_makes_no_clip(tmp_path: Path) -> None:
    # Chat began at 50 (moment 30): it speaks for 25..50. The face at 78-81 is in the seconds
    # just before chat time (80..90, the old rule), and the spike arrives while they are
    # still open, but that is not where this chat's moment was.
    out = run(with_chat(chat_spike(start=50.0, arrives_at=80)), tmp_path, DEAF)
    assert out.jobs == []
    assert not any(r.votes.get("chat") for r in out.rows)


def test_the_pre_roll_stays_within_the_recording_on_disk(tmp_path: Path) -> None:
    small = FuserConfig(threshold=0.999, chat_delay=10.0, pre=10.0, buffer_s=40.0)
    out = run(with_chat(chat_spike(start=83.0, arrives_at=95)), tmp_path, small)
    (job,) = out.jobs
    start = job.t - job.pre
    assert 58.0 < start <= job.t - 10.0  # longer than the setting, short of the moment
    # The recording kept 40 s back from the newest second (at least 90) when the job was
    # made, and the clip leaves a 10 s margin inside that.
    assert start >= TC - 40.0 + 10.0
