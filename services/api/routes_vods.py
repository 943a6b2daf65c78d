"""VOD jobs: hand a recorded stream to the vod worker, follow it, and open its results.

`POST /api/vods` only sends the job on the bus (the vod worker does the work), so it answers
202 at once. Follow it with `GET /api/vods/{id}` or on the websocket (`vodProgress`); when it
is done, its clips are ordinary clips (`/api/clip/{id}/video`) and its report is at
`/api/vods/{id}/files/report.html`.
"""

from __future__ import annotations

import asyncio
import re
import time
import uuid
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import FileResponse
from pydantic import BaseModel, ConfigDict, Field

from services.api.security import require_token
from services.api.state import bus_of, settings_of
from services.vod.ended import ended_jobs
from shared.contracts import VodProgress, VodRequest
from shared.feedback import inside
from shared.netcheck import is_url, private_reason
from shared.streams import VOD_PROGRESS, VOD_REQUESTS

Responses = dict[int | str, dict[str, Any]]

router = APIRouter(tags=["vods"])

NOT_FOUND: Responses = {404: {"description": "No such VOD job (or its file is gone)."}}
REFUSED: Responses = {400: {"description": "No such file, a file outside the data folder, or "
                                           "a private URL (see the setting "
                                           "api_allow_private_sources)."}}
LOOK_BACK = 5000
"""How many progress messages back the job list looks for jobs that have not ended."""
FILE_NAME = re.compile(r"^[\w.-]{1,100}$")


class VodAsk(BaseModel):
    """Analyse a recorded stream and cut its best moments."""

    model_config = ConfigDict(extra="forbid")

    source: str = Field(min_length=1, max_length=2000,
                        description="A video file on the server, inside the data folder "
                                    "(anywhere when api_allow_private_sources is on), or the "
                                    "URL of a past broadcast (a Twitch VOD, an HLS playlist).")
    chat: str = Field(default="", max_length=2000,
                      description="Its chat: a TwitchDownloader JSON or lines "
                                  "'<time> <user>: <message>'; same rule for where it lies.")
    top: int = Field(default=10, ge=1, le=100, description="How many clips.")
    parts: int = Field(default=1, ge=1, le=64,
                       description="Split it into parts that worker copies analyse side by side.")


def _allowed(request: Request, text: str, what: str) -> str:
    """The file's full path, or the URL, if the API may hand it to the vod worker; else a 400.
    A URL must be public unless api_allow_private_sources is on, as for live streams."""
    settings = settings_of(request)
    if what == "video" and is_url(text):
        reason = None if settings.api_allow_private_sources else private_reason(text)
        if reason:
            raise HTTPException(400, f"this source is not allowed: {reason}")
        return text
    path = Path(text).expanduser()
    if not settings.api_allow_private_sources and not inside(path, settings.data_dir):
        raise HTTPException(400, f"the {what} must lie inside the data folder")
    if not path.is_file():
        raise HTTPException(400, f"no such {what} file: {text}")
    return str(path.resolve())


@router.post("/api/vods", status_code=202, dependencies=[Depends(require_token)],
             responses={**REFUSED, 401: {"description": "No valid bearer token."}},
             summary="Find and cut the best moments of a recorded stream")
async def start_vod(body: VodAsk, request: Request) -> VodProgress:
    source = await asyncio.to_thread(_allowed, request, body.source, "video")
    chat = await asyncio.to_thread(_allowed, request, body.chat, "chat") if body.chat else ""
    job_id = uuid.uuid4().hex[:12]
    out = settings_of(request).data_dir.resolve() / "vods" / job_id
    bus, now = bus_of(request), time.time()
    queued = VodProgress(job_id=job_id, source=source, stage="queued", done_s=0, length_s=0,
                         speed=0, parts=0, out=str(out), detail="waiting for a vod worker",
                         wall=now)
    await bus.publish(VOD_PROGRESS, queued)
    await bus.publish(VOD_REQUESTS, VodRequest(job_id=job_id, source=source, chat=chat,
                                               top=body.top, parts=body.parts, out=str(out),
                                               wall=now))
    return queued


@router.get("/api/vods", summary="Recent VOD jobs, newest first, each as its latest progress")
async def list_vods(request: Request) -> list[VodProgress]:
    latest = await _latest(request)
    return sorted(latest.values(), key=lambda p: -p.wall)


@router.get("/api/vods/{job_id}", responses=NOT_FOUND, summary="One VOD job's progress")
async def vod(job_id: str, request: Request) -> VodProgress:
    found = (await _latest(request)).get(job_id)
    if found is None:
        raise HTTPException(404, f"no VOD job {job_id}")
    return found


@router.get("/api/vods/{job_id}/files/{name}", responses=NOT_FOUND, response_class=FileResponse,
            summary="A file of a VOD job's results: report.html, 01.mp4, 01.json, ...")
async def vod_file(job_id: str, name: str, request: Request) -> FileResponse:
    found = (await _latest(request)).get(job_id)
    if found is None or not FILE_NAME.match(name):
        raise HTTPException(404, f"no such file of VOD job {job_id}")
    path = Path(found.out) / name
    if not inside(path, settings_of(request).data_dir) or not path.is_file():
        raise HTTPException(404, f"no such file of VOD job {job_id}")
    return FileResponse(path)


async def _latest(request: Request) -> dict[str, VodProgress]:
    """Each job's latest progress: the last word of every ended job kept in its folder (so
    older jobs and a Redis that lost its data lose none), then what the bus says of recent
    ones."""
    vods_dir = settings_of(request).data_dir / "vods"
    latest = await asyncio.to_thread(ended_jobs, vods_dir)
    recent: dict[str, VodProgress] = {}
    for item in await bus_of(request).read_back(VOD_PROGRESS, count=LOOK_BACK):  # newest first
        recent.setdefault(item.message.job_id, item.message)
    return latest | recent
