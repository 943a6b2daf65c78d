"""Every Redis name Clip Live uses is built here, and nowhere else.

A `Topic` ties a stream to the one message model it carries, and names the binary parts every
message of it has (audio's `pcm`). Per-channel topics get the channel in their name
(`clip-live:ch:{<channel>}:audio`); global topics do not (`clip-live:{control}`).

Hash tags (the part in braces) are for Redis Cluster, which hashes only that part of a name
to pick the shard a key lives on: every key of one channel carries `{<channel>}`, so one
channel's streams, pins and fuser checkpoint live together and can be read or written in one
call; each global stream has a tag of its own; the clip records and the clip index share
`{clips}`, as they are written in one MULTI. Plain Redis ignores the braces.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
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
    VodProgress,
    VodRequest,
    check_channel,
)

ROOT = "clip-live"
CLIPS_TAG = "{clips}"
"""The hash tag of the clip records and the clip index (written together, so on one shard)."""

C = TypeVar("C", bound=Contract)
PartCheck = Callable[[C, Mapping[str, bytes]], str | None]
"""Says what is wrong with a message's binary parts, or None when they are fine."""


@dataclass(frozen=True)
class Topic(Generic[C]):
    """A kind of stream: its short name, the model it carries, whether it is per channel, the
    binary parts each message carries beside its JSON (the bus checks they are there), and a
    check of those parts against the message (the bus buries a message that fails it)."""

    name: str
    model: type[C]
    per_channel: bool = True
    parts: tuple[str, ...] = ()
    check_parts: PartCheck[C] | None = None
    by_age: bool = False
    """Trimmed by age (`media_keep_s`), not by count: for the big media streams, so Redis holds
    the same few minutes of them per channel however long the stream runs."""

    def stream(self, channel: str | None = None) -> str:
        """The Redis stream name of this topic (for one channel, when it is per channel)."""
        if not self.per_channel:
            if channel is not None:
                raise ValueError(f"topic {self.name} is global: it takes no channel")
            return f"{ROOT}:{tag(self.name)}"
        if channel is None:
            raise ValueError(f"topic {self.name} is per channel: name the channel")
        return f"{channel_prefix(channel)}{self.name}"


def tag(name: str) -> str:
    """`name` as a Redis Cluster hash tag: only it picks the shard of a key that holds it."""
    return f"{{{name}}}"


def channel_prefix(channel: str) -> str:
    """What every name of one channel begins with; its tag keeps them on one shard."""
    return f"{ROOT}:ch:{tag(check_channel(channel))}:"


def glob_escape(text: str) -> str:
    """`text` as a literal in a Redis SCAN MATCH pattern: `*`, `?`, `[`, `]` and `\\` are
    special there (braces are not). Pure."""
    return "".join(f"\\{c}" if c in "*?[]\\" else c for c in text)


def channel_pattern(channel: str) -> str:
    """A SCAN MATCH pattern for every name of one channel."""
    return f"{glob_escape(channel_prefix(channel))}*"


# Binary parts. Readers take them as `delivery.blobs[PCM]`: the bus has checked they are there.
PCM = "pcm"
"""Audio: signed 16-bit little-endian mono samples, at the chunk's `sample_rate`."""
JPEG = "jpeg"
"""A picture: one JPEG file's bytes."""
MAX_CHUNK_S = 10.0
"""The longest audio chunk we take (ingest sends half seconds)."""
MAX_JPEG_BYTES = 4 << 20
"""The largest picture we take (a 1080p frame at high quality is well under 1 MB)."""


def check_pcm(chunk: AudioChunk, parts: Mapping[str, bytes]) -> str | None:
    """Audio must hold as many samples as it says, at a sane rate, for as long as it says:
    features computed from a chunk that lies about its audio would be wrong, not just empty."""
    pcm = parts[PCM]
    if not 8_000 <= chunk.sample_rate <= 96_000:
        return f"sample rate {chunk.sample_rate} Hz is out of range"
    if chunk.samples == 0 or len(pcm) != 2 * chunk.samples:
        return f"{len(pcm)} bytes of PCM for {chunk.samples} samples"
    seconds = chunk.samples / chunk.sample_rate
    if seconds > MAX_CHUNK_S or abs(seconds - chunk.dur) > 0.01:
        return f"{chunk.samples} samples are {seconds:.3f} s, but the chunk says {chunk.dur} s"
    return None


def check_jpeg(frame: Frame, parts: Mapping[str, bytes]) -> str | None:
    """A picture must look like a JPEG file and be of a sane size."""
    jpeg = parts[JPEG]
    if not jpeg.startswith(b"\xff\xd8") or len(jpeg) > MAX_JPEG_BYTES:
        return f"{len(jpeg)} bytes that are not a JPEG picture of a sane size"
    return None

# Per channel.
AUDIO = Topic("audio", AudioChunk, parts=(PCM,), check_parts=check_pcm, by_age=True)
SEGMENTS = Topic("segments", Segment)
GAPS = Topic("gaps", Gap)
CAPTIONS = Topic("captions", Caption)
AUDIO_FEATURES = Topic("audio-features", AudioFeatures)
MOTION = Topic("motion", Motion)
FRAMES = Topic("frames", Frame, parts=(JPEG,), check_parts=check_jpeg, by_age=True)
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
VOD_REQUESTS = Topic("vod-requests", VodRequest, per_channel=False)
VOD_PROGRESS = Topic("vod-progress", VodProgress, per_channel=False)

# Where messages that keep failing end up. Entries copy the failed message's fields.
DEAD_LETTER_STREAM = f"{ROOT}:{tag('dead-letter')}"


# ---- Keys that are not streams ----------------------------------------------------------------


def heartbeat_key(service: str, instance: str) -> str:
    """A worker's heartbeat; it expires when the worker stops renewing it."""
    return f"{ROOT}:hb:{service}:{instance}"


HEARTBEAT_PATTERN = f"{ROOT}:hb:*"


def lease_key(service: str, channel: str) -> str:
    """Who owns `channel` for a stateful `service`; it expires when the owner stops renewing."""
    return f"{ROOT}:lease:{service}:{tag(check_channel(channel))}"


def pins_key(channel: str) -> str:
    """A sorted set: clip job id -> the earliest stream time that job still needs on disk."""
    return f"{channel_prefix(channel)}pins"


def fuser_checkpoint_key(channel: str) -> str:
    """Where the fuser notes, with every output, how far it got in the channel's session (the
    seconds it wrote, the stream ids to read again from): the next owner goes on from there."""
    return f"{channel_prefix(channel)}fuser-checkpoint"


CHANNELS_KEY = f"{ROOT}:{tag('channels')}"
"""A hash: channel -> its latest ChannelState (JSON). The list of channels being watched."""


def clip_key(clip_id: str) -> str:
    """A hash with one clip's metadata."""
    return f"{ROOT}:{CLIPS_TAG}:clip:{clip_id}"


CLIP_INDEX_KEY = f"{ROOT}:{CLIPS_TAG}:index"
"""A sorted set of clip ids, scored by the wall time they were made."""


def clip_job_key(job_id: str) -> str:
    """Who works on clip job `job_id` now (expires if that worker dies), or how it ended."""
    return f"{ROOT}:clip-job:{job_id}"


LEASE_PATTERN = f"{ROOT}:lease:*"
"""Every channel lease (see `lease_key`): `/metrics` counts them per service."""


def lease_service(key: str) -> str:
    """The service a lease key (see `lease_key`) belongs to. Pure."""
    return key.removeprefix(LEASE_PATTERN[:-1]).rpartition(":")[0]


def asr_stats_key(channel: str) -> str:
    """A hash the asr worker writes after each batch of a channel's audio, for `/metrics`:
    `lag_s` (how old the newest audio it heard was), `dropped_s` (audio skipped in all) and
    `wall` (when it wrote). On the channel's shard, like its other names."""
    return f"{channel_prefix(channel)}asr-stats"
