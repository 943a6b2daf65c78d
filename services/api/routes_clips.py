"""Clips: list them, read one's metadata, play its video, get its captions and picture, keep
or drop it. A caller without the token (when reads are open) gets no server paths, source URL
or worker name in the details."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import FileResponse

from services.api.clipdata import ClipFilter, clip_out, list_clips, load_record
from services.api.models import ClipOut, ClipPage
from services.api.security import file_inside, has_token, require_token
from services.api.state import bus_of, settings_of
from shared.contracts import CHANNEL_PATTERN
from shared.feedback import ClipBusy, ClipNotFound, ClipOutsideData, judge_clip

Responses = dict[int | str, dict[str, Any]]

router = APIRouter(tags=["clips"])

NOT_FOUND: Responses = {404: {"description": "No such clip (or its file is gone)."}}
NEEDS_TOKEN: Responses = {401: {"description": "No valid bearer token."}}
BUSY: Responses = {409: {"description": "Someone else is judging this clip right now."}}
MAX_WALL = 1e11
PRIVATE_DETAILS = {"segments", "source_url", "worker"}
"""Details that show paths, URLs, hosts or process ids: only for callers with the token."""


@router.get("/api/clips", summary="Clips, newest first")
async def clips(
    request: Request,
    channel: Annotated[str | None, Query(pattern=CHANNEL_PATTERN.pattern)] = None,
    verdict: Annotated[Literal["keep", "drop", "none"] | None,
                       Query(description="`none`: not judged yet.")] = None,
    reason: Annotated[str | None, Query(max_length=100,
                                        description="Why it was made: manual, model, ...")] = None,
    since: Annotated[float | None, Query(ge=0, le=MAX_WALL, description="Unix time.")] = None,
    until: Annotated[float | None, Query(ge=0, le=MAX_WALL, description="Unix time.")] = None,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> ClipPage:
    where = ClipFilter(channel=channel, verdict=verdict, reason=reason, since=since, until=until)
    total, items = await list_clips(bus_of(request).redis, where, offset, limit)
    return ClipPage(total=total, offset=offset, limit=limit,
                    items=[_shown(request, item) for item in items])


@router.get("/api/clip/{clip_id}", responses=NOT_FOUND, summary="One clip's metadata")
async def clip(clip_id: str, request: Request) -> ClipOut:
    return _shown(request, clip_out(clip_id, await _record(request, clip_id)))


def _shown(request: Request, clip: ClipOut) -> ClipOut:
    """The clip as this caller may see it."""
    if has_token(request):
        return clip
    return clip.model_copy(update={"details": {
        k: v for k, v in clip.details.items() if k not in PRIVATE_DETAILS}})


@router.get("/api/clip/{clip_id}/video", response_class=FileResponse,
            responses={**NOT_FOUND, 206: {"description": "Part of the video (Range request)."},
                       200: {"content": {"video/mp4": {}}, "description": "The video."}},
            summary="The clip's video (supports Range requests)")
async def clip_video(clip_id: str, request: Request) -> FileResponse:
    path = await _clip_file(request, clip_id, "video", ".mp4")
    return FileResponse(path, media_type="video/mp4", content_disposition_type="inline",
                        filename=path.name)


@router.get("/api/clip/{clip_id}/srt", response_class=FileResponse,
            responses={**NOT_FOUND, 200: {"content": {"application/x-subrip": {}},
                                          "description": "The captions as SubRip."}},
            summary="The clip's captions (.srt)")
async def clip_captions(clip_id: str, request: Request) -> FileResponse:
    path = await _clip_file(request, clip_id, "captions", ".srt")
    return FileResponse(path, media_type="application/x-subrip; charset=utf-8",
                        filename=path.name)


@router.get("/api/clip/{clip_id}/thumbnail", response_class=FileResponse,
            responses={**NOT_FOUND, 200: {"content": {"image/jpeg": {}},
                                          "description": "A JPEG taken at the spike."}},
            summary="A picture from the clip, taken at the spike")
async def clip_thumbnail(clip_id: str, request: Request) -> FileResponse:
    path = await _clip_file(request, clip_id, "thumbnail", ".jpg")
    return FileResponse(path, media_type="image/jpeg", filename=path.name,
                        content_disposition_type="inline")


@router.post("/api/clip/{clip_id}/keep", dependencies=[Depends(require_token)],
             responses={**NOT_FOUND, **NEEDS_TOKEN, **BUSY}, summary="Keep the clip (a good one)")
async def keep(clip_id: str, request: Request) -> ClipOut:
    """Moves the clip's files to `<data_dir>/keep/<channel>/`; the retrain learns from it."""
    return await _judge(request, clip_id, "keep")


@router.post("/api/clip/{clip_id}/drop", dependencies=[Depends(require_token)],
             responses={**NOT_FOUND, **NEEDS_TOKEN, **BUSY}, summary="Drop the clip (a bad one)")
async def drop(clip_id: str, request: Request) -> ClipOut:
    """Moves the clip's files to `<data_dir>/drop/<channel>/`; the retrain learns from it."""
    return await _judge(request, clip_id, "drop")


async def _judge(request: Request, clip_id: str, verdict: Literal["keep", "drop"]) -> ClipOut:
    await _record(request, clip_id)
    redis = bus_of(request).redis
    try:
        await judge_clip(redis, settings_of(request), clip_id, verdict)
    except ClipNotFound:
        raise HTTPException(404, f"no clip {clip_id}") from None
    except ClipBusy as err:
        raise HTTPException(409, str(err)) from None
    except ClipOutsideData as err:
        raise HTTPException(404, str(err)) from None
    return clip_out(clip_id, await _record(request, clip_id))


async def _clip_file(request: Request, clip_id: str, field: str, suffix: str) -> Path:
    """One of the clip's files, only if it lies inside the data folder; else 404."""
    path = file_inside(str((await _record(request, clip_id)).get(field, "")),
                       settings_of(request).data_dir, suffix)
    if path is None:
        raise HTTPException(404, f"the {field} of clip {clip_id} is not there")
    return path


async def _record(request: Request, clip_id: str) -> dict[str, object]:
    record = await load_record(bus_of(request).redis, clip_id)
    if record is None:
        raise HTTPException(404, f"no clip {clip_id!r}")
    return record
