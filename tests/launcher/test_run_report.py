"""What `clip-live run` prints, and when a run that watches one stream ends by itself."""

from __future__ import annotations

from launcher.run_report import SETTLE_S, RunReport, stream_time
from shared.contracts import ChannelState, Clip, ClipProgress, ClipWhy

SERVICES = ("ingest", "fuser")


def state(name: str, detail: str = "") -> ChannelState:
    return ChannelState(channel="one", session="s", state=name, url="u", detail=detail, wall=0)


def progress(job: str, status: str) -> ClipProgress:
    return ClipProgress(channel="one", job_id=job, status=status, percent=0, wall=0)


def clip(job: str) -> Clip:
    why = ClipWhy(trigger="two_votes", t=82, probability=0.91,
                  votes={"chat": True, "voice": True, "face": False},
                  contributions={"loud_z": 1.5, "motion_z": 0.4, "chat_z": -0.2})
    return Clip(channel="one", clip_id="one-clip_x", job_id=job, session="s", t=82, start=72,
                duration=30, video="/data/clips/one/clip_x.mp4", captions="", metadata="",
                reason="two_votes", wall=0, why=why)


def test_everything_up_is_said_once_with_the_address() -> None:
    report = RunReport(SERVICES, "http://x/")
    assert report.services_seen(["ingest"]) == []
    assert report.services_seen(["ingest", "fuser"]) == ["all 2 services are up; dashboard: "
                                                         "http://x/"]
    assert report.services_seen(["ingest", "fuser"]) == []


def test_a_state_is_said_when_it_changes_and_a_failure_ends_a_one_stream_run() -> None:
    report = RunReport(SERVICES, "a", only_channel="one")
    assert report.channel_seen(state("live"), 0) == ["channel one: live"]
    assert report.channel_seen(state("live"), 1) == []
    assert report.outcome is None
    assert report.channel_seen(state("failed", "cannot open u"), 2) == [
        "channel one: failed: cannot open u"]
    assert report.outcome is not None and report.outcome.code == 1
    assert "one failed: cannot open u" in report.outcome.line


def test_a_run_with_no_single_stream_never_ends_by_itself() -> None:
    report = RunReport(SERVICES, "a", only_channel=None)
    report.channel_seen(state("failed"), 0)
    report.tick(1000)
    assert report.outcome is None


def test_an_ended_stream_ends_the_run_once_its_clips_are_done() -> None:
    report = RunReport(SERVICES, "a", only_channel="one")
    report.progress_seen(progress("j1", "waiting"), 0)
    report.channel_seen(state("ended"), 5)
    report.tick(5 + SETTLE_S + 1)
    assert report.outcome is None  # job j1 is still open
    lines = report.clip_seen(clip("j1"), 30)
    assert lines == ["new clip of one at 1:22: two_votes, P 0.91, votes: chat+voice, most from "
                     "loud_z +1.5, motion_z +0.4\n  /data/clips/one/clip_x.mp4"]
    report.tick(30 + SETTLE_S - 1)
    assert report.outcome is None  # the fuser may still ask for one more
    report.tick(30 + SETTLE_S)
    assert report.outcome is not None and report.outcome.code == 0
    assert report.outcome.line == "stopping: one ended; 1 clip cut"


def test_stream_time_reads_as_a_clock() -> None:
    assert stream_time(82.6) == "1:22"
    assert stream_time(3723) == "1:02:03"
