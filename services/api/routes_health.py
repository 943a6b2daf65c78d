"""`GET /health`: Redis, every service's heartbeat, and how far behind each stream's readers are.

It asks through the app's own bus connection; it opens none of its own. Anyone may ask, but
only a caller with the token sees the details (where Redis is, process ids, hosts, channels and
their URLs); anyone else gets the status and whether Redis is up.
"""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, Request, Response
from redis.asyncio import Redis

from services.api.models import Health
from services.api.security import has_token
from services.api.state import bus_of, hub_of, settings_of
from services.wiring import SERVICES
from shared import streams
from shared.bus import REDIS_DOWN, redact_url
from shared.status import gather_status
from shared.streams import Topic
from shared.text import as_text

router = APIRouter(tags=["health"])

PING_TIMEOUT_S = 2.0
TOPICS: list[Topic[Any]] = [v for v in vars(streams).values() if isinstance(v, Topic)]
"""Every topic the mesh has, so new ones show up here without a change."""


@router.get("/health", response_model=Health, summary="Health of the whole mesh",
            responses={503: {"model": Health, "description": "Redis cannot be reached."}})
async def health(request: Request, response: Response) -> Health:
    """Redis, each service's heartbeat (and which expected ones are missing), the channels,
    the dead-letter count, per stream and consumer group the entries not yet read (`lag`) or
    not yet acknowledged (`pending`), and the websocket's own numbers. Without the token
    (`Authorization: Bearer` or `?token=`): only `status` and `redis` (`up` or `down`)."""
    settings, bus = settings_of(request), bus_of(request)
    websocket = hub_of(request).stats()
    full = has_token(request)
    try:
        async with asyncio.timeout(PING_TIMEOUT_S):
            await bus.redis.ping()
        status = await gather_status(bus, settings.redis_url or "", settings.data_dir, SERVICES)
        lag = await stream_lag(bus.redis, sorted(status["channels"])) if full else {}
    except (TimeoutError, *REDIS_DOWN) as err:
        response.status_code = 503
        if not full:
            return Health(status="down", redis="down")
        shown = redact_url(settings.redis_url or "")
        return Health(status="down", redis=f"{shown}: cannot be reached ({type(err).__name__})",
                      websocket=websocket)
    if not full:
        return Health(status="degraded" if status["missing"] else "ok", redis="up")
    return Health(
        status="degraded" if status["missing"] else "ok",
        redis=status["redis"], services=status["services"], missing=status["missing"],
        channels=status["channels"], dead_letters=status["dead_letters"], streams=lag,
        websocket=websocket,
    )


async def stream_lag(redis: Redis, channels: list[str]) -> dict[str, dict[str, Any]]:
    """Per existing stream: its length and, per consumer group, `pending` (handed out, not yet
    acknowledged), `lag` (not yet handed out) and `entries_read` (handed out in all; both
    Redis 7 and newer, None when Redis cannot tell). `/metrics` reads this too."""
    names = [t.stream() for t in TOPICS if not t.per_channel]
    names += [t.stream(c) for c in channels for t in TOPICS if t.per_channel]
    async with redis.pipeline(transaction=False) as pipe:
        for name in names:
            pipe.xlen(name)
            pipe.xinfo_groups(name)
        replies = await pipe.execute(raise_on_error=False)
    found: dict[str, dict[str, Any]] = {}
    for i, name in enumerate(names):
        length, groups = replies[2 * i], replies[2 * i + 1]
        if isinstance(length, Exception) or (not length and isinstance(groups, Exception)):
            continue
        found[name] = {"length": int(length), "groups": {} if isinstance(groups, Exception)
                       else {as_text(g["name"]): _group(g) for g in groups}}
    return found


def _group(info: dict[str, Any]) -> dict[str, Any]:
    lag, read = info.get("lag"), info.get("entries-read")
    return {
        "consumers": int(info.get("consumers") or 0),
        "pending": int(info.get("pending") or 0),
        "lag": None if lag is None else int(lag),
        "entries_read": None if read is None else int(read),
        "last_delivered_id": as_text(info.get("last-delivered-id", "")),
    }
