"""Settings for reading the stream, keeping it on disk, and cutting clips."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field


class IngestSettings(BaseModel):
    """Ingest: reading the stream and keeping a short recording on disk."""

    ingest_quality: str = Field(
        default="best", min_length=1,
        description="streamlink quality to watch when a start command names none.",
    )
    ingest_hls_via: Literal["streamlink", "ffmpeg"] = Field(
        default="streamlink",
        description="Who opens plain HLS URLs (.m3u8): streamlink, or FFmpeg directly.",
    )
    ingest_low_latency: bool = Field(
        default=True,
        description="Ask streamlink for the lowest latency the source allows: HLS segment data "
                    "passed on while it downloads, and Twitch's low-latency stream.",
    )
    segment_s: float = Field(
        default=2.0, ge=0.5, le=10, description="Length of each recorded segment, in seconds."
    )
    retention_s: float = Field(
        default=180.0, ge=4, description="Seconds of media kept on disk per channel."
    )
    stall_timeout_s: float = Field(
        default=10.0, gt=0, description="No audio for this long: the source is stalled."
    )
    ingest_open_timeout_s: float = Field(
        default=30.0, gt=0, description="Longest wait for the first audio after connecting."
    )
    reconnect_min_s: float = Field(
        default=1.0, gt=0, description="First wait before connecting again."
    )
    reconnect_max_s: float = Field(
        default=30.0, gt=0, description="Longest wait between tries to connect again."
    )
    ingest_give_up_s: float = Field(
        default=300.0, gt=0,
        description="A source that worked and then dropped is retried this long, then ended.",
    )
    ingest_max_failures: int = Field(
        default=3, ge=1,
        description="Tries in a row before a source that never worked is marked failed.",
    )
    ffmpeg_path: str = Field(default="ffmpeg", description="The FFmpeg program to run.")
    ingest_file_realtime: bool = Field(
        default=True,
        description="Read local files at their own speed (-re), like a live stream. Off "
                    "(VOD mode): read them as fast as the workers keep up.",
    )
    ingest_backlog_max_s: float = Field(
        default=0.0, ge=0,
        description="VOD mode: wait while the slowest reader of the channel's streams is "
                    "more than this many stream seconds behind. 0: never wait.",
    )


class ClipSettings(BaseModel):
    """Clips: how much before and after a spike, and how they are cut."""

    clip_pre: float = Field(default=10.0, ge=0, le=300, description="Seconds kept before a spike.")
    clip_post: float = Field(default=20.0, gt=0, le=300, description="Seconds kept after it.")
    clip_wait_extra_s: float = Field(
        default=15.0, ge=0, le=600,
        description="How much longer than its post-roll a clip job waits for segments, "
                    "before it cuts what exists.",
    )
    clip_workers: int = Field(
        default=2, ge=1, le=32, description="Clip jobs one clipper works on at the same time."
    )
    clip_cut_timeout_s: float = Field(
        default=60.0, gt=0, description="Longest time FFmpeg may take to join one clip."
    )
