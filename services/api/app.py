"""The FastAPI app: REST routes, the websocket, the dashboard, and the checks around them.

`create_app(settings, bus, token)` builds it. Its lifespan runs the websocket's one bus reader.
The OpenAPI docs are at `/docs` (spec: `/openapi.json`).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

from fastapi import FastAPI, Request, WebSocket
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles

from services.api import (
    routes_channels,
    routes_clips,
    routes_dashboard,
    routes_docs,
    routes_export,
    routes_health,
    routes_metrics,
    routes_vods,
)
from services.api.apitoken import resolve_token
from services.api.limits import LimitBody, validation_error
from services.api.security import NotAllowed, RequireToken, reads_need_token, unauthorized
from services.api.websocket import Hub, serve_client
from shared.bus import Bus
from shared.cancelling import cancel_and_wait
from shared.settings import Settings

DESCRIPTION = """\
Clip Live's gateway. Start and stop watching streams, ask for clips, list, play, keep or drop
them, and follow everything live on the websocket.

**Token.** Requests that change something (POST, DELETE, and `GET /start-monitoring`) need
`Authorization: Bearer <token>`. The token is the setting `api_token`, or the one kept in
`<data_dir>/api_token` (made at the first start). Reads need it too when the setting
`api_token_for_reads` is on (by default when the API listens beyond loopback); a read may pass
it as `?token=`. `/health` answers anyone, but only callers with the token see its details.
`/metrics` (Prometheus text format) always needs the token.

**Limits.** A request body may be at most 64 KiB (else 413). Source URLs must be public
(see the setting `api_allow_private_sources`).

**Websocket** `/ws`. Send `{"token": "<token>", "channels": ["name"]}` as the first message
(`"channels": "*"` for all). First come `backlog` messages (`{"type": "backlog", "more",
"events": [...]}`: the last five minutes of the channels you follow). Then events come as
`{"type", "channel", "id", "data"}` with type `event` (loudness, motion, excited probability per
second), `new_spike`, `caption` (interim and final), `chat` and `face` (one second each),
`clipProgress` ({status, percent}), `new_clip`, `channel_state` and `vodProgress` (a VOD job's
progress, for every client). Send `{"channels": [...]}` to follow other channels.

**VOD jobs.** `POST /api/vods` hands a recorded stream (a file on the server) to the vod
worker; `GET /api/vods/{id}` shows how far it is, and its clips and report when done.
"""

READ_TOKEN: dict[int | str, dict[str, Any]] = {
    401: {"description": "No valid token (reads need it: the setting api_token_for_reads)."}}


def create_app(settings: Settings, bus: Bus, token: str | None = None) -> FastAPI:
    """The whole API for these settings and this bus. `token`: the bearer token (default:
    `api_token` from the settings, else the one in the data folder)."""
    hub = Hub(bus, block_ms=min(settings.read_block_ms, 1000))

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        reader = asyncio.create_task(hub.run(), name="websocket-reader")
        try:
            yield
        finally:
            await cancel_and_wait(reader)

    assets = routes_docs.docs_assets()
    app = FastAPI(title="Clip Live", version="0.1.0", description=DESCRIPTION,
                  lifespan=lifespan, redoc_url=None,
                  docs_url=None if assets else "/docs")  # no local Swagger UI: FastAPI's page
    app.state.settings = settings
    app.state.bus = bus
    app.state.token = token or resolve_token(settings)
    app.state.hub = hub

    @app.exception_handler(NotAllowed)
    async def _not_allowed(request: Request, err: NotAllowed) -> JSONResponse:
        return unauthorized()

    app.add_exception_handler(RequestValidationError, validation_error)

    @app.websocket("/ws")
    async def _ws(websocket: WebSocket) -> None:
        await serve_client(websocket)

    reads = reads_need_token(settings)
    app.include_router(routes_health.router)
    app.include_router(routes_metrics.router)  # needs the token always (see its module)
    for module in (routes_channels, routes_clips, routes_export, routes_vods):
        app.include_router(module.router, responses=READ_TOKEN if reads else None)
    app.include_router(routes_dashboard.router)
    app.mount("/static", StaticFiles(directory=routes_dashboard.STATIC_DIR), name="static")
    if assets:
        app.include_router(routes_docs.router)
        app.mount(routes_docs.ASSETS_URL, StaticFiles(directory=assets), name="docs-assets")

    # Outermost last: CORS answers preflights and adds its headers even to a 401 or 413.
    app.add_middleware(RequireToken, token=app.state.token, reads=reads)
    app.add_middleware(LimitBody)
    if settings.api_cors_origins:
        app.add_middleware(CORSMiddleware, allow_origins=settings.api_cors_origins,
                           allow_methods=["GET", "POST", "DELETE"],
                           allow_headers=["Authorization", "Content-Type", "Range"],
                           expose_headers=["Content-Range", "Accept-Ranges", "Content-Length"])
    return app
