"""Shorts: start a clip's 9:16 export, and fetch the result. The export runs in the background
in this process (one FFmpeg pass); its progress goes out as `clipProgress` events with the job
id `export-<clip id>`, so the dashboard shows it like a clip job."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import FileResponse

from services.api.clipdata import load_record
from services.api.security import file_inside, require_token
from services.api.state import bus_of, settings_of
from services.export.captions import STYLES
from services.export.jobs import export_job, job_id
from services.export.layout import LayoutName

router = APIRouter(tags=["clips"])
Responses = dict[int | str, dict[str, Any]]
ANSWERS: Responses = {404: {"description": "No such clip."},
                      401: {"description": "No valid bearer token."},
                      409: {"description": "This clip is being exported right now."}}
RUNNING: dict[str, asyncio.Task[Any]] = {}
"""Exports running in this process, by clip id (one at a time per clip)."""


@router.post("/api/clip/{clip_id}/export", dependencies=[Depends(require_token)],
             responses=ANSWERS, status_code=202, summary="Make a 9:16 short of the clip")
async def start_export(
    clip_id: str, request: Request,
    layout: Annotated[LayoutName, Query(description="crop, stack or auto")] = "auto",
    size: Annotated[str, Query(pattern=r"^\d{2,4}x\d{2,4}$")] = "1080x1920",
    style: Annotated[str, Query(description=f"one of {sorted(STYLES)}")] = "bold",
) -> dict[str, str]:
    """Starts the export and answers at once. Progress: `clipProgress` events on the websocket
    with `job_id` = `export-<clip id>`; when done, `GET /api/clip/{id}/short` serves it."""
    record = await load_record(bus_of(request).redis, clip_id)
    if record is None:
        raise HTTPException(404, f"no clip {clip_id!r}")
    if style not in STYLES:
        raise HTTPException(422, f"unknown style {style!r}; choose one of {sorted(STYLES)}")
    running = RUNNING.get(clip_id)
    if running is not None and not running.done():
        raise HTTPException(409, f"clip {clip_id} is being exported right now")
    channel = str(record.get("channel", ""))
    task = asyncio.create_task(export_job(bus_of(request), clip_id, channel, layout, size,
                                          style, settings_of(request).export_facecams))
    RUNNING[clip_id] = task
    task.add_done_callback(lambda _: RUNNING.pop(clip_id, None))
    return {"clip_id": clip_id, "job_id": job_id(clip_id)}


@router.get("/api/clip/{clip_id}/short", response_class=FileResponse,
            responses={404: {"description": "No short made yet."},
                       200: {"content": {"video/mp4": {}}, "description": "The short."}},
            summary="The clip's newest 9:16 short")
async def clip_short(clip_id: str, request: Request) -> FileResponse:
    record = await load_record(bus_of(request).redis, clip_id)
    exports = record.get("exports") if record else None
    newest = exports[-1] if isinstance(exports, list) and exports else {}
    path = file_inside(str(newest.get("video", "")) if isinstance(newest, dict) else "",
                       settings_of(request).data_dir, ".mp4")
    if path is None:
        raise HTTPException(404, f"clip {clip_id} has no short yet")
    return FileResponse(path, media_type="video/mp4", filename=path.name,
                        content_disposition_type="inline")
