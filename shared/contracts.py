"""Every message that travels on the bus, as one typed model each.

A message is JSON checked by its model, plus raw binary parts (PCM audio, JPEG frames) that ride
beside it. Any Redis client in any language can read them. Which stream carries which model is
set in `shared.streams`.

Time: `t` is seconds of stream time since the monitoring session started, taken from the media
itself (see `services/ingest/clock.py`), `dur` is how long the message covers, `wall` is the Unix
time when it was captured.
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

CHANNEL_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")


def check_channel(value: str) -> str:
    """A channel name goes into stream names and folder names, so it must be plain."""
    if not CHANNEL_PATTERN.match(value):
        raise ValueError(
            f"channel {value!r}: use 1-64 lower-case letters, digits, '-' or '_', "
            "starting with a letter or digit"
        )
    return value


MAX_STREAM_S = 1e8
"""No session runs longer than this (about three years): a larger time is a broken sender."""


class Contract(BaseModel):
    """The base of every message. Unknown fields are ignored, so newer senders do not break
    older readers. No number may be NaN or infinite: one such value (say `t = Infinity`)
    would break every sum and every second after it, so the message is refused."""

    model_config = ConfigDict(frozen=True, extra="ignore", allow_inf_nan=False)


class ChannelMessage(Contract):
    """A message about one channel."""

    channel: str

    @field_validator("channel")
    @classmethod
    def _plain_channel(cls, value: str) -> str:
        return check_channel(value)


class Stamped(ChannelMessage):
    """A message that covers a stretch of stream time."""

    session: str
    t: float = Field(ge=0, le=MAX_STREAM_S, description="Start, in seconds of stream time.")
    dur: float = Field(ge=0, le=MAX_STREAM_S, description="Length, in seconds.")
    wall: float = Field(description="Unix time when it was captured.")


# ---- The service runtime ----------------------------------------------------------------------


class Heartbeat(Contract):
    """A worker saying "I am alive", kept in Redis with a time to live."""

    service: str
    instance: str
    pid: int
    host: str
    started: float
    wall: float
    state: str = "running"
    detail: str = ""


class DeadLetter(Contract):
    """A message that failed too many times, kept for a person to look at."""

    stream: str
    id: str
    group: str
    deliveries: int
    error: str
    data: str = Field(description="The message's JSON as it was sent.")


# ---- Control ----------------------------------------------------------------------------------


class MonitorCommand(ChannelMessage):
    """Start or stop watching a channel."""

    action: Literal["start", "stop"]
    url: str = ""
    quality: str = Field(default="", description="streamlink quality; empty: the setting.")
    public_only: bool = Field(
        default=False, description="Only public addresses: ingest checks the URL again before "
                                   "each connection. The API sets it unless private sources "
                                   "are allowed.")
    vod: bool = Field(default=False, description="A recording to analyse, not a live stream: "
                                                 "see `shared.channels.vod_settings`.")
    wall: float


class ModelTag(Contract):
    """Which model judged a second: the channel's own or the global one, and its version."""

    scope: Literal["channel", "global"] = Field(
        description="channel: learned for this channel; global: the one for every channel.")
    version: str = Field(description="Its folder under data/models, e.g. v0003.")
    trained_on: str = Field(default="", description="What it learned from, in a few words.")


class ClipWhy(Contract):
    """Why a clip was made: the rule that fired and what it saw at the spike."""

    trigger: str = Field(description="model, two_votes, three_votes or manual.")
    t: float | None = Field(default=None, description="Stream time of the spike.")
    probability: float | None = Field(default=None, ge=0, le=1,
                                      description="The model's P at the spike.")
    votes: dict[str, bool] = Field(default_factory=dict, description="The 2-of-3 votes.")
    contributions: dict[str, float] = Field(
        default_factory=dict, description="Each feature's share of the model's log-odds.")
    model: ModelTag | None = Field(default=None, description="The model that judged it.")


class ClipRequest(ChannelMessage):
    """Ask the clipper for a clip around stream time `t`."""

    job_id: str
    session: str = ""
    t: float | None = Field(default=None, description="Spike time; None means 'now'.")
    pre: float = Field(ge=0)
    post: float = Field(gt=0)
    reason: str = "manual"
    wall: float
    why: ClipWhy | None = Field(default=None, description="The fuser's reasons; None: manual.")


class ClipProgress(ChannelMessage):
    """How far a clip job has come (the `clipProgress` event)."""

    job_id: str
    status: Literal["queued", "waiting", "cutting", "done", "failed"]
    percent: float = Field(ge=0, le=100)
    detail: str = ""
    wall: float


class VodRequest(Contract):
    """Find and cut the best moments of a recorded stream (`clip-live vod`, `POST /api/vods`)."""

    job_id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{0,39}$")
    source: str = Field(description="A video file the vod worker can read, or the URL of a "
                                     "past broadcast (fetched with streamlink first).")
    chat: str = Field(default="", description="Its chat file; empty: none.")
    top: int = Field(default=10, ge=1, le=100, description="How many clips.")
    parts: int = Field(default=1, ge=1, le=64, description="Parts analysed side by side.")
    out: str = Field(default="", description="Folder for the results; empty: "
                                             "<data folder>/vods/<job id>.")
    wall: float


class VodSkip(Contract):
    """A stretch of a VOD that was not analysed, and why."""

    start: float = Field(ge=0)
    end: float = Field(ge=0)
    why: str


class VodProgress(Contract):
    """How far a `clip-live vod` job has come (the `vodProgress` event)."""

    job_id: str
    source: str
    stage: Literal["queued", "fetching", "checking", "cutting parts", "analysing",
                   "cutting clips", "done", "failed", "stopped"]
    done_s: float = Field(ge=0, description="Seconds of the VOD judged so far.")
    length_s: float = Field(ge=0)
    speed: float = Field(ge=0, description="Seconds judged per second of wall time.")
    parts: int = Field(ge=0, description="Parts the VOD was split into.")
    skipped: list[VodSkip] = Field(default_factory=list)
    clips: list[str] = Field(default_factory=list,
                             description="The ranked clips' ids, best first, when done.")
    out: str = Field(description="The folder of the clips and report.html.")
    detail: str = ""
    wall: float


class Clip(ChannelMessage):
    """A finished clip (the `new_clip` event)."""

    clip_id: str
    job_id: str
    session: str
    t: float = Field(description="The spike time the clip was made for.")
    start: float = Field(description="Stream time of the clip's first frame.")
    duration: float
    video: str
    captions: str
    metadata: str
    reason: str
    partial: bool = False
    note: str = ""
    wall: float
    why: ClipWhy | None = Field(default=None, description="Why the clip was made.")
    thumbnail: str = Field(default="", description="A JPEG from the clip; empty: none.")


# ---- Ingest -----------------------------------------------------------------------------------


class AudioChunk(Stamped):
    """Half a second of mono PCM (s16le). The samples ride in the binary part `pcm`."""

    sample_rate: int = 16_000
    samples: int = Field(ge=0)


class Segment(Stamped):
    """A finished piece of the recording on disk (MPEG-TS, stream copy)."""

    seq: int = Field(ge=0)
    path: str
    size: int = Field(ge=0)


class Gap(Stamped):
    """Stream time with no media, for example while the source was down.

    From ingest (`by` "ingest"): nothing at all was recorded from `t` to `t + dur`, so every
    signal is missing there. From motion (`by` empty, `reason` "motion: ..."): one segment could
    not be decoded, so only motion is missing."""

    reason: str
    by: str = Field(default="", description="The worker that saw it: 'ingest' for a gap in "
                                            "the whole recording; empty from older senders "
                                            "and from motion.")
    cause: str = Field(default="", description="From ingest: 'source' (the source dropped and "
                                               "ingest connected again) or 'restart' (the "
                                               "ingest worker restarted or another took over).")


ChannelStateName = Literal["starting", "live", "reconnecting", "ended", "failed", "stopped"]


class ChannelState(ChannelMessage):
    """What ingest is doing with a channel right now."""

    session: str
    state: ChannelStateName
    url: str
    quality: str = Field(default="", description="streamlink quality asked for; empty: any.")
    public_only: bool = Field(default=False, description="As the start command said.")
    vod: bool = Field(default=False, description="As the start command said.")
    detail: str = ""
    t: float = 0.0
    wall: float


# ---- Speech -----------------------------------------------------------------------------------


class Word(Contract):
    """One spoken word with its stream time."""

    text: str
    start: float
    end: float


class Caption(Stamped):
    """Words heard in `t .. t+dur`. Interim captions may still change; final ones will not."""

    text: str
    final: bool
    words: list[Word] = Field(default_factory=list)


# ---- Signals ----------------------------------------------------------------------------------


class AudioFeatures(Stamped):
    """What half a second of sound was like."""

    loud_db: float = Field(description="RMS level in dBFS, as FFmpeg astats reports it.")
    peak_db: float
    f0_mean: float | None = Field(description="Mean pitch over voiced frames, Hz; None if none.")
    f0_var: float | None = Field(
        description="Pitch variance over voiced frames, semitones squared; None if < 2.")
    voiced_ratio: float = Field(ge=0, le=1)
    f1: float = 0.0
    f2: float = 0.0
    f3: float = 0.0
    centroid: float = Field(description="Spectral centroid, Hz.")
    onset_mean: float
    onset_max: float
    clipped_ratio: float = Field(ge=0, le=1)
    f0_lo: float | None = Field(default=None, description="10th percentile of voiced pitch, Hz.")
    f0_hi: float | None = Field(default=None, description="90th percentile of voiced pitch, Hz.")
    speech_db: float | None = Field(
        default=None, description="RMS level of the voiced samples only, dBFS; None: no voice.")
    speech_centroid: float | None = Field(
        default=None, description="Spectral centroid of the voiced frames, Hz; None: no voice.")
    tilt_db: float | None = Field(
        default=None, description="Voiced energy in 1-5 kHz over 50 Hz-1 kHz, dB; None: no voice.")


class Motion(Stamped):
    """How much the picture moved in one second (pixels per frame at 720p)."""

    motion_avg: float = Field(ge=0)
    motion_max: float = Field(ge=0)
    scene_cut: bool
    frames: int = Field(ge=0)


class Frame(Stamped):
    """A sampled video frame for the face worker. The JPEG rides in the binary part `jpeg`."""

    width: int
    height: int
    batch_end: float | None = Field(
        default=None, description="Set on the last frame taken from a segment: the segment "
                                  "covers stream time batch_start..batch_end, and every frame "
                                  "of it has been sent.")
    batch_start: float | None = None


class Semantic(Stamped):
    """What a finished phrase means: mood, hype words, closeness to excited phrases."""

    text: str
    sentiment: float = Field(ge=-1, le=1, description="VADER compound score.")
    hype_words: list[str] = Field(default_factory=list)
    excited_sim: float = Field(description="Highest cosine similarity to an excited phrase.")
    excited_margin: float = Field(description="Excited similarity minus calm similarity.")


class ChatSecond(Stamped):
    """One second of chat: how busy and how hyped, against the channel's own normal."""

    messages: int = Field(ge=0)
    chatters: int = Field(ge=0)
    rate_z: float = Field(description="How far above the channel's normal rate (robust score).")
    baseline: float = Field(ge=0, description="The channel's normal messages per second.")
    hype_density: float = Field(ge=0, le=1, description="Share of messages with hype/emotes.")
    spike: bool = Field(description="Part of a sustained burst of chat (from when it is sure).")
    strength: float = Field(ge=0, description="That spike's strength so far; 0 outside spikes.")
    suppressed: bool = Field(default=False, description="A raid or gift burst: not a spike.")
    spike_start: float | None = Field(
        default=None, description="On spike seconds: stream time the spike's chat began.")
    moment: float | None = Field(
        default=None, description="On spike seconds: the estimated stream time of what chat "
                                  "reacted to (spike_start minus the reaction lag).")
    moment_from: float | None = Field(
        default=None, description="On spike seconds: the spike speaks for stream seconds "
                                  "moment_from..moment_to (its moment less a slack, to its "
                                  "start). None: the fuser's chat delay before `t`.")
    moment_to: float | None = None


class FaceBox(Contract):
    """One face found in a frame, with its emotion scores."""

    x: int
    y: int
    w: int
    h: int
    emotions: dict[str, float]
    dominant: str


class FaceFrame(Stamped):
    """The faces found in one sampled frame."""

    faces: list[FaceBox] = Field(default_factory=list)


class FaceSecond(Stamped):
    """The streamer's face over one second."""

    present: bool
    emotions: dict[str, float] = Field(default_factory=dict)
    dominant: str = ""
    excitement: float = Field(default=0.0, description="Surprise/happy/anger/fear vs calm.")


# ---- Decisions --------------------------------------------------------------------------------


class EventRow(Stamped):
    """One second of the stream as the fuser saw it (one row of events.csv, and more)."""

    loud_db: float | None = None
    pitch_var: float | None = None
    motion_avg: float | None = None
    sentiment: float | None = None
    excited_prob: float = Field(ge=0, le=1)
    clip_flag: bool = False
    features: dict[str, float | None] = Field(
        default_factory=dict, description="Every model feature; None when its signal is missing."
    )
    missing: list[str] = Field(default_factory=list, description="Signals that did not report.")
    votes: dict[str, bool] = Field(default_factory=dict, description="The 2-of-3 rule's votes.")


class Spike(Stamped):
    """A moment the fuser found exciting, and why (the `new_spike` event)."""

    probability: float = Field(ge=0, le=1)
    contributions: dict[str, float] = Field(
        default_factory=dict, description="Each feature's share of the model's log-odds."
    )
    votes: dict[str, bool] = Field(default_factory=dict)
    trigger: Literal["model", "two_votes", "three_votes"]
    job_id: str = Field(default="", description="The clip job it asked for ('' if merged).")
    model: ModelTag | None = Field(default=None, description="The model that judged it.")
