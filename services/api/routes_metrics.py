"""`GET /metrics`: the whole mesh's numbers in Prometheus's text format (see `metrics.py`).

One endpoint for the whole mesh, on the API: each scrape reads what Redis holds, through the
app's own bus connection. Point Prometheus at the API only; the workers serve nothing.

Who may read it: the same rule as `/health`'s details. `/health` answers anyone, but only a
caller with the token sees what runs where (services, channels, streams). Every number here is
such a detail (it names channels and services), so `/metrics` needs the token, always, even
when plain reads do not: `Authorization: Bearer <token>` (Prometheus: `authorization:
{credentials_file: <data_dir>/api_token}`), or `?token=` as for other reads. Without it: 401.
"""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import PlainTextResponse
from prometheus_client import CONTENT_TYPE_LATEST

from services.api.clip_tally import ClipTally
from services.api.metrics import exposition, read_snapshot
from services.api.security import has_token, unauthorized
from services.api.state import bus_of, settings_of
from shared.bus import REDIS_DOWN

router = APIRouter(tags=["health"])

SCRAPE_TIMEOUT_S = 5.0
"""Give up on Redis after this long: Prometheus's own scrape timeout is 10 s by default."""

RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"description": "Prometheus text format.",
          "content": {"text/plain": {"schema": {"type": "string"}}}},
    401: {"description": "No valid token (`/metrics` always needs it)."},
    503: {"description": "Redis cannot be reached.",
          "content": {"text/plain": {"schema": {"type": "string"}}}},
}


@router.get("/metrics", summary="The mesh's numbers for Prometheus",
            response_class=PlainTextResponse, responses=RESPONSES)
async def metrics(request: Request) -> Response:
    """Consumer-group lag, pending and handled entries per stream, dead letters, asr lag and
    dropped audio per channel, clips cut and the time from moment to clip, channels owned
    and live workers per service. Needs the token (bearer, or `?token=`)."""
    if not has_token(request):
        return unauthorized()
    try:
        async with asyncio.timeout(SCRAPE_TIMEOUT_S):
            snap = await read_snapshot(bus_of(request), settings_of(request), tally_of(request))
    except (TimeoutError, *REDIS_DOWN) as err:
        return PlainTextResponse(f"redis cannot be reached ({type(err).__name__})\n",
                                 status_code=503)
    return Response(exposition(snap), media_type=CONTENT_TYPE_LATEST)


def tally_of(request: Request) -> ClipTally:
    """The app's clip tally (made at the first scrape): what earlier scrapes counted."""
    state = request.app.state
    if getattr(state, "clip_tally", None) is None:
        state.clip_tally = ClipTally()
    tally: ClipTally = state.clip_tally
    return tally
