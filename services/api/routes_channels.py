"""Channels: start and stop watching streams, list them, and ask for a clip by hand.

These routes only send commands on the bus (ingest and the clipper do the work), so they
answer 202 at once. Follow the result on the websocket (`channel_state`, `clipProgress`).
"""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, HTTPException, Query, Request

from services.api.models import (
    ChannelOut,
    ClipAsk,
    ClipAsked,
    ModelInUse,
    Started,
    StartRequest,
)
from services.api.security import has_token, require_token
from services.api.state import bus_of, settings_of
from services.fuser.model_files import model_in_use
from shared.channels import all_states, channel_from_url
from shared.contracts import CHANNEL_PATTERN, ClipRequest, MonitorCommand
from shared.netcheck import private_reason
from shared.streams import CLIP_REQUESTS, CONTROL

Responses = dict[int | str, dict[str, Any]]

router = APIRouter(tags=["channels"])

AUTH = [Depends(require_token)]
NEEDS_TOKEN: Responses = {401: {"description": "No valid bearer token."}}
UNKNOWN: Responses = {404: {"description": "No such channel."}}
REFUSED: Responses = {400: {"description": "The source URL points at this machine or a private "
                              "network (see the setting api_allow_private_sources)."}}


async def start(request: Request, url: str, channel: str | None, quality: str) -> Started:
    """Check the URL, then send a start command to ingest."""
    settings, bus = settings_of(request), bus_of(request)
    url = url.strip()
    if not settings.api_allow_private_sources:
        reason = await asyncio.to_thread(private_reason, url)
        if reason:
            raise HTTPException(400, f"this source is not allowed: {reason}")
    name = channel or channel_from_url(url)
    await bus.publish(CONTROL, MonitorCommand(
        channel=name, action="start", url=url, quality=quality,
        public_only=not settings.api_allow_private_sources, wall=time.time()))
    return Started(channel=name, action="start", url=url, quality=quality)


@router.post("/api/channels", status_code=202, dependencies=AUTH,
             responses={**NEEDS_TOKEN, **REFUSED}, summary="Start watching a stream")
async def start_channel(body: StartRequest, request: Request) -> Started:
    return await start(request, body.url, body.channel, body.quality)


@router.get("/start-monitoring", status_code=202, dependencies=AUTH,
            responses={**NEEDS_TOKEN, **REFUSED}, summary="Start watching a stream (GET form)")
async def start_monitoring(
    request: Request,
    url: Annotated[str, Query(min_length=1, max_length=2000, description="Stream URL.")],
    channel: Annotated[str | None, Query(pattern=CHANNEL_PATTERN.pattern,
                                         description="Channel name; empty: from the URL.")] = None,
    quality: Annotated[str, Query(max_length=100, description="streamlink quality.")] = "",
) -> Started:
    """`GET /start-monitoring?url=...&channel=...`, the same as the POST form for clients
    that can only send a GET. It changes things, so it needs the token like the POST form."""
    return await start(request, url, channel, quality)


@router.get("/api/channels", summary="Every known channel, its state and its model")
async def list_channels(request: Request) -> list[ChannelOut]:
    """Without the token (when reads are open) the source URL and the detail (which may name
    URLs and paths) are left empty. `model` is the model that judges the channel: its own
    (learned from its chat) or the global one, with its held-out AUC and labelled seconds."""
    states = await all_states(bus_of(request).redis)
    if not has_token(request):
        states = {n: s.model_copy(update={"url": "", "detail": ""}) for n, s in states.items()}
    data_dir = settings_of(request).data_dir
    models = await asyncio.to_thread(lambda: {n: model_in_use(data_dir, n) for n in states})
    return [ChannelOut(channel=name, state=state,
                       model=ModelInUse.model_validate(models[name]) if models[name] else None)
            for name, state in sorted(states.items())]


@router.delete("/api/channels/{channel}", status_code=202, dependencies=AUTH,
               responses={**NEEDS_TOKEN, **UNKNOWN}, summary="Stop watching a channel")
async def stop_channel(channel: str, request: Request) -> Started:
    await _known(request, channel)
    await bus_of(request).publish(CONTROL, MonitorCommand(channel=channel, action="stop",
                                                          wall=time.time()))
    return Started(channel=channel, action="stop")


@router.post("/api/channels/{channel}/clip", status_code=202, dependencies=AUTH,
             responses={**NEEDS_TOKEN, **UNKNOWN}, summary="Ask for a clip now (or at t)")
async def ask_clip(channel: str, request: Request,
                   body: Annotated[ClipAsk | None, Body()] = None) -> ClipAsked:
    """Ask the clipper for a clip of this channel. Progress comes on the websocket as
    `clipProgress` events with this `job_id`, then a `new_clip` event."""
    await _known(request, channel)
    settings, ask = settings_of(request), body or ClipAsk()
    job_id = uuid.uuid4().hex[:12]
    await bus_of(request).publish(CLIP_REQUESTS, ClipRequest(
        channel=channel, job_id=job_id, t=ask.t,
        pre=settings.clip_pre if ask.pre is None else ask.pre,
        post=settings.clip_post if ask.post is None else ask.post,
        reason="manual", wall=time.time()))
    return ClipAsked(job_id=job_id, channel=channel)


async def _known(request: Request, channel: str) -> None:
    """404 unless ingest knows this channel."""
    if not CHANNEL_PATTERN.match(channel) or \
            channel not in await all_states(bus_of(request).redis):
        raise HTTPException(404, f"no channel {channel!r}")
