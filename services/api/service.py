"""The API service: run the FastAPI app with uvicorn inside the service's own asyncio loop.

The service runtime owns the signals (SIGTERM, Ctrl-C) and sets `ctx.stop`; we then ask uvicorn
to finish (`server.should_exit = True`), which closes the websockets and stops the bus reader.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterator

import uvicorn

from services.api.apitoken import resolve_token, token_path
from services.api.app import create_app
from services.api.limits import MAX_BODY_BYTES
from services.api.security import guard_logs
from shared.runtime import ServiceContext

GRACEFUL_S = 5.0


class Server(uvicorn.Server):
    """uvicorn, minus its own signal handling: the service runtime already does that."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


async def main(ctx: ServiceContext) -> None:
    settings = ctx.settings
    token = resolve_token(settings)
    guard_logs(token)
    if not settings.api_token:
        ctx.log.info("the API token is kept in %s", token_path(settings.data_dir))
    app = create_app(settings, ctx.bus, token)
    _access_log(settings.log_level == "DEBUG")
    config = uvicorn.Config(
        app, host=settings.api_host, port=settings.api_port, log_config=None, lifespan="on",
        access_log=True, timeout_graceful_shutdown=int(GRACEFUL_S),
        server_header=False, ws_max_size=MAX_BODY_BYTES,
    )
    server = Server(config)
    where = f"http://{settings.api_host}:{settings.api_port}/"
    stopper = asyncio.create_task(_stop_when_asked(ctx, server))
    ctx.detail = f"serving {where}"
    try:
        await server.serve()
    except SystemExit:  # uvicorn's way of saying it could not start (a port in use, ...)
        raise RuntimeError(f"the API could not start on {where}") from None
    finally:
        stopper.cancel()
        await asyncio.gather(stopper, return_exceptions=True)
    if not server.started:
        raise RuntimeError(f"the API could not start on {where}")


def _access_log(on: bool) -> None:
    """One line per request only at DEBUG. Set here, on the logger itself, because uvicorn's
    `access_log=False` turns the logger off for the whole process, for good."""
    access = logging.getLogger("uvicorn.access")
    access.handlers = []
    access.propagate = True
    access.setLevel(logging.INFO if on else logging.WARNING)


async def _stop_when_asked(ctx: ServiceContext, server: uvicorn.Server) -> None:
    await ctx.stop.wait()
    server.should_exit = True
