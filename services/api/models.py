"""What the API takes and gives, as models, so the OpenAPI docs show every field."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from shared.contracts import ChannelState, ClipWhy, check_channel


class StartRequest(BaseModel):
    """Start watching a stream."""

    model_config = ConfigDict(extra="forbid")

    url: str = Field(min_length=1, max_length=2000,
                     description="Stream URL: twitch.tv/name, an HLS .m3u8, rtmp://, ...")
    channel: str | None = Field(
        default=None, description="Channel name; empty: made from the URL (twitch.tv/Foo -> foo).")
    quality: str = Field(default="", max_length=100,
                         description="streamlink quality, e.g. 720p; empty: the setting.")

    @field_validator("channel")
    @classmethod
    def _plain(cls, value: str | None) -> str | None:
        return check_channel(value) if value else None


class Started(BaseModel):
    """A start (or stop) command was sent to the ingest service."""

    channel: str
    action: Literal["start", "stop"]
    url: str = ""
    quality: str = ""


class ModelInUse(BaseModel):
    """The model that judges a channel now."""

    scope: Literal["channel", "global"] = Field(
        description="channel: learned from this channel's own chat; global: the shared one.")
    version: str
    kind: str = ""
    trained_on: str = Field(default="", description="What it learned from.")
    auc_heldout: float | None = Field(default=None, description="Its AUC on held-out seconds.")
    labelled_seconds: int = Field(default=0, description="Labelled seconds it learned from.")


class ChannelOut(BaseModel):
    """A channel and what ingest says about it now."""

    channel: str
    state: ChannelState
    model: ModelInUse | None = Field(default=None, description="The model that judges it; "
                                                               "none before the fuser started.")


class ClipAsk(BaseModel):
    """Ask for a clip of a channel by hand."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    t: float | None = Field(default=None, ge=0, le=1e9,
                            description="Stream time of the moment; empty: now.")
    pre: float | None = Field(default=None, ge=0, le=300,
                              description="Seconds before it; empty: the setting clip_pre.")
    post: float | None = Field(default=None, gt=0, le=300,
                               description="Seconds after it; empty: the setting clip_post.")


class ClipAsked(BaseModel):
    """The clip job that was asked for. Follow it on the websocket (`clipProgress`)."""

    job_id: str
    channel: str


class ClipOut(BaseModel):
    """One clip: what it shows, where its files are served, and the user's verdict."""

    clip_id: str
    channel: str
    job_id: str = ""
    session: str = ""
    t: float | None = Field(default=None, description="Stream time of the spike.")
    start: float | None = Field(default=None, description="Stream time of the first frame.")
    duration: float | None = None
    reason: str = ""
    partial: bool = False
    note: str = ""
    wall: float | None = Field(default=None, description="Unix time the clip was made.")
    verdict: Literal["keep", "drop"] | None = None
    file: str = Field(default="", description="The video's file name.")
    video_url: str
    captions_url: str
    thumbnail_url: str = Field(default="", description="A picture from the clip; empty: none.")
    why: ClipWhy | None = Field(default=None, description="Why it was made (older clips: none).")
    details: dict[str, Any] = Field(default_factory=dict,
                                    description="Everything else the clipper recorded.")


class ClipPage(BaseModel):
    """A page of clips, newest first."""

    total: int = Field(description="Clips that match, over all pages.")
    offset: int
    limit: int
    items: list[ClipOut]


class Health(BaseModel):
    """How the mesh is: Redis, each service's heartbeat, how far behind each reader is."""

    status: Literal["ok", "degraded", "down"]
    redis: str = Field(description="Where Redis is (password hidden), or why it is down; "
                                   "without the token only `up` or `down`.")
    services: list[dict[str, Any]] = Field(default_factory=list,
                                           description="Live heartbeats, one per worker.")
    missing: list[str] = Field(default_factory=list, description="Services with no heartbeat.")
    channels: dict[str, Any] = Field(default_factory=dict)
    dead_letters: int = 0
    streams: dict[str, dict[str, Any]] = Field(
        default_factory=dict,
        description="Per stream: its length and, per consumer group, pending and lag entries.")
    websocket: dict[str, Any] = Field(default_factory=dict,
                                      description="Live clients and events sent or dropped.")
