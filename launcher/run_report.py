"""What `clip-live run` tells the person at the terminal, worked out from what the mesh reports.

Pure: it is fed plain snapshots (which services beat, each channel's state, new clips, clip job
progress) and returns the few lines worth a person's time. It also decides when a run that
watches one stream is over: the stream failed (exit 1), or it ended and its clips are done.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from shared.contracts import ChannelState, Clip, ClipProgress

SETTLE_S = 15.0
"""After a stream ends, wait this long with no clip work before the run stops: the fuser
still closes its last seconds and may ask for one more clip."""
CLIPS_DONE_MAX_S = 180.0
"""Stop this long after a stream ended even if a clip job never said it was done."""

_FINAL_JOB = {"done", "failed"}


@dataclass(frozen=True)
class Outcome:
    """How a run ends by itself: its exit code and the line that says why."""

    code: int
    line: str


@dataclass
class RunReport:
    """Turns snapshots of the mesh into terminal lines, and says when a one-stream run is over.

    `only_channel` is the one stream `clip-live run URL` watches; None means the run goes on
    until Ctrl-C (the demo loops, and channels may be added with `clip-live watch`).
    """

    services: tuple[str, ...]
    address: str
    only_channel: str | None = None
    up: bool = False
    states: dict[str, str] = field(default_factory=dict)
    open_jobs: set[str] = field(default_factory=set)
    clips: int = 0
    ended_at: float | None = None
    last_work: float = 0.0
    outcome: Outcome | None = None

    def services_seen(self, alive: Iterable[str]) -> list[str]:
        """Say once when every service has a heartbeat, with the dashboard address again."""
        if self.up or set(self.services) - set(alive):
            return []
        self.up = True
        return [f"all {len(self.services)} services are up; dashboard: {self.address}"]

    def channel_seen(self, state: ChannelState, now: float) -> list[str]:
        """A line when a channel's state changes; ends a one-stream run that failed."""
        if self.states.get(state.channel) == state.state:
            return []
        self.states[state.channel] = state.state
        detail = f": {state.detail}" if state.detail else ""
        lines = [f"channel {state.channel}: {state.state}{detail}"]
        if state.channel == self.only_channel:
            if state.state == "failed":
                self.outcome = Outcome(1, f"stopping: {state.channel} failed{detail}")
            elif state.state in ("ended", "stopped"):
                self.ended_at = now
                self.last_work = now
        return lines

    def progress_seen(self, progress: ClipProgress, now: float) -> list[str]:
        """Keep count of clip jobs that are not done yet; say when one fails."""
        self.last_work = now
        if progress.status in _FINAL_JOB:
            self.open_jobs.discard(progress.job_id)
        else:
            self.open_jobs.add(progress.job_id)
        if progress.status == "failed":
            return [f"clip job {progress.job_id} of {progress.channel} failed: {progress.detail}"]
        return []

    def clip_seen(self, clip: Clip, now: float) -> list[str]:
        """One line per new clip: where in the stream, why, and where the file is."""
        self.last_work = now
        self.open_jobs.discard(clip.job_id)
        self.clips += 1
        return [f"new clip of {clip.channel} at {stream_time(clip.t)}: {why(clip)}\n"
                f"  {clip.video}"]

    def tick(self, now: float) -> list[str]:
        """Called every poll: ends a one-stream run once its stream ended and clips are done."""
        if self.outcome or self.ended_at is None:
            return []
        quiet = now - self.last_work >= SETTLE_S and not self.open_jobs
        if quiet or now - self.ended_at >= CLIPS_DONE_MAX_S:
            cut = f"{self.clips} clip{'' if self.clips == 1 else 's'} cut"
            self.outcome = Outcome(0, f"stopping: {self.only_channel} ended; {cut}")
        return []


def stream_time(t: float) -> str:
    """Seconds of stream time as `h:mm:ss` or `m:ss`."""
    whole = int(max(0.0, t))
    hours, rest = divmod(whole, 3600)
    minutes, seconds = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{seconds:02d}" if hours else f"{minutes}:{seconds:02d}"


def why(clip: Clip) -> str:
    """Why a clip was cut, in a few words: what triggered it, the model's P, the votes, and
    the features that pushed the model most."""
    reasons = clip.why
    parts = [reasons.trigger if reasons else clip.reason]
    if reasons and reasons.probability is not None:
        parts.append(f"P {reasons.probability:.2f}")
    yes = [name for name, vote in (reasons.votes if reasons else {}).items() if vote]
    if yes:
        parts.append("votes: " + "+".join(yes))
    top = sorted((reasons.contributions if reasons else {}).items(), key=lambda kv: -kv[1])[:2]
    if top and top[0][1] > 0:
        parts.append("most from " + ", ".join(f"{name} {value:+.1f}" for name, value in top
                                              if value > 0))
    if clip.partial:
        parts.append("partial")
    return ", ".join(parts)
