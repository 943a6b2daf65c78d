"""Settings for shorts: 9:16 exports of clips (see services/export/)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field


class ExportSettings(BaseModel):
    """Shorts: whether every new clip gets one, and how they look."""

    export_new_clips: bool = Field(
        default=False,
        description="Make a 9:16 short of every new clip as soon as it is cut (the clipper "
                    "does it, after the clip is ready). Off: only `clip-live export` or the "
                    "dashboard's Short button make them.")
    export_layout: Literal["auto", "crop", "stack"] = Field(
        default="auto",
        description="Layout of automatic shorts: crop (follow the face), stack (facecam on "
                    "top, gameplay below) or auto (stack when a facecam corner is found).")
    export_size: str = Field(default="1080x1920", pattern=r"^\d{2,4}x\d{2,4}$",
                             description="Size of automatic shorts, WIDTHxHEIGHT.")
    export_style: Literal["bold", "clean", "pop"] = Field(
        default="bold", description="Caption look of automatic shorts.")
    export_facecams: dict[str, str] = Field(
        default_factory=dict,
        description="Where each channel's facecam is, as {\"channel\": \"X,Y,W,H\"} in pixels "
                    "of its video (JSON). A channel listed here gets the stack layout from "
                    "that rectangle; others have it found from where the faces sit.")
