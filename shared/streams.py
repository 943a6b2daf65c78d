"""Every Redis name Clip Live uses is built here, and nowhere else.

A `Topic` ties a stream to the one message model it carries, and names the binary parts every
message of it has (audio's `pcm`). Per-channel topics get the channel in their name
(`clip-live:ch:<channel>:audio`); global topics do not (`clip-live:control`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar

from shared.contracts import (
    AudioChunk,
    AudioFeatures,
    Caption,
    ChannelState,
    ChatSecond,
    Clip,
    ClipProgress,
    ClipRequest,
    Contract,
    EventRow,
    FaceFrame,
    FaceSecond,
    Frame,
    Gap,
    MonitorCommand,
    Motion,
    Segment,
    Semantic,
    Spike,
    check_channel,
)

ROOT = "clip-live"

C = TypeVar("C", bound=Contract)


@dataclass(frozen=True)
class Topic(Generic[C]):
    """A kind of stream: its short name, the model it carries, whether it is per channel, and
    the binary parts each message carries beside its JSON (the bus checks they are there)."""

    name: str
    model: type[C]
    per_channel: bool = True
    parts: tuple[str, ...] = ()

    def stream(self, channel: str | None = None) -> str:
        """The Redis stream name of this topic (for one channel, when it is per channel)."""
        if not self.per_channel:
            if channel is not None:
                raise ValueError(f"topic {self.name} is global: it takes no channel")
            return f"{ROOT}:{self.name}"
        if channel is None:
            raise ValueError(f"topic {self.name} is per channel: name the channel")
        return f"{ROOT}:ch:{check_channel(channel)}:{self.name}"


# Binary parts. Readers take them as `delivery.blobs[PCM]`: the bus has checked they are there.
PCM = "pcm"
"""Audio: signed 16-bit little-endian mono samples, at the chunk's `sample_rate`."""
JPEG = "jpeg"
"""A picture: one JPEG file's bytes."""

# Per channel.
AUDIO = Topic("audio", AudioChunk, parts=(PCM,))
SEGMENTS = Topic("segments", Segment)
GAPS = Topic("gaps", Gap)
CAPTIONS = Topic("captions", Caption)
AUDIO_FEATURES = Topic("audio-features", AudioFeatures)
MOTION = Topic("motion", Motion)
FRAMES = Topic("frames", Frame, parts=(JPEG,))
SEMANTIC = Topic("semantic", Semantic)
CHAT = Topic("chat", ChatSecond)
FACE_FRAMES = Topic("face-frames", FaceFrame)
FACE = Topic("face", FaceSecond)
EVENTS = Topic("events", EventRow)
SPIKES = Topic("spikes", Spike)

# Global.
CONTROL = Topic("control", MonitorCommand, per_channel=False)
CHANNEL_STATES = Topic("channel-states", ChannelState, per_channel=False)
CLIP_REQUESTS = Topic("clip-requests", ClipRequest, per_channel=False)
CLIP_PROGRESS = Topic("clip-progress", ClipProgress, per_channel=False)
CLIPS = Topic("clips", Clip, per_channel=False)

# Where messages that keep failing end up. Entries copy the failed message's fields.
DEAD_LETTER_STREAM = f"{ROOT}:dead-letter"


# ---- Keys that are not streams ----------------------------------------------------------------


def heartbeat_key(service: str, instance: str) -> str:
    """A worker's heartbeat; it expires when the worker stops renewing it."""
    return f"{ROOT}:hb:{service}:{instance}"


HEARTBEAT_PATTERN = f"{ROOT}:hb:*"


def lease_key(service: str, channel: str) -> str:
    """Who owns `channel` for a stateful `service`; it expires when the owner stops renewing."""
    return f"{ROOT}:lease:{service}:{check_channel(channel)}"


def pins_key(channel: str) -> str:
    """A sorted set: clip job id -> the earliest stream time that job still needs on disk."""
    return f"{ROOT}:ch:{check_channel(channel)}:pins"


def fuser_checkpoint_key(channel: str) -> str:
    """Where the fuser notes, with every output, how far it got in the channel's session (the
    seconds it wrote, the stream ids to read again from): the next owner goes on from there."""
    return f"{ROOT}:ch:{check_channel(channel)}:fuser-checkpoint"


CHANNELS_KEY = f"{ROOT}:channels"
"""A hash: channel -> its latest ChannelState (JSON). The list of channels being watched."""


def clip_key(clip_id: str) -> str:
    """A hash with one clip's metadata."""
    return f"{ROOT}:clip:{clip_id}"


CLIP_INDEX_KEY = f"{ROOT}:clip-index"
"""A sorted set of clip ids, scored by the wall time they were made."""


def clip_job_key(job_id: str) -> str:
    """Who works on clip job `job_id` now (expires if that worker dies), or how it ended."""
    return f"{ROOT}:clip-job:{job_id}"
