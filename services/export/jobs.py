"""An export run as a background job: its progress goes out as `clipProgress` messages with
the job id `export-<clip id>`, so the dashboard shows it like a clip job. Used by the api
(`POST /api/clip/{id}/export`) and by the clipper (setting `export_new_clips`)."""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from typing import Any

from shared.bus import Bus
from shared.contracts import ClipProgress
from shared.streams import CLIP_PROGRESS

from .layout import LayoutName
from .runner import ExportResult, export_clip
from .sources import ExportError

log = logging.getLogger("clip_live.export")


def job_id(clip_id: str) -> str:
    """The progress job id of a clip's export."""
    return f"export-{clip_id}"


async def export_job(bus: Bus, clip_id: str, channel: str, layout: LayoutName = "auto",
                     size: str = "1080x1920", style: str = "bold",
                     facecams: Mapping[str, str] | None = None) -> ExportResult | None:
    """Export one clip, telling the world how far it is. Never raises (but for
    cancellation): a failure is a `failed` progress message with the reason, and None."""

    async def tell(status: Any, percent: float, detail: str) -> None:
        await bus.publish(CLIP_PROGRESS, ClipProgress(
            channel=channel, job_id=job_id(clip_id), status=status, percent=percent,
            detail=detail, wall=time.time()))

    async def progress(what: str, percent: float) -> None:
        await tell("cutting", min(percent, 99.0), f"short: {what}")

    try:
        await tell("queued", 0, "short: starting")
        result = await export_clip(bus, clip_id, layout=layout, size=size, style=style,
                                   progress=progress, facecams=facecams)
    except ExportError as err:
        await tell("failed", 100, f"short: {err}")
        return None
    except Exception as err:  # a background job must report, not vanish
        log.exception("export of %s failed", clip_id)
        await tell("failed", 100, f"short: {type(err).__name__}: {err}")
        return None
    await tell("done", 100, f"short: {result.layout}, {result.size}, {result.words} word(s) "
                            f"in {result.timings['total_s']:.1f} s")
    return result
