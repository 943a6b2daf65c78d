"""The mesh's status as plain data: what `clip-live status` prints and `/health` answers."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from shared import channels
from shared.bus import Bus, redact_url
from shared.meshfile import read_info
from shared.runtime import heartbeats
from shared.streams import DEAD_LETTER_STREAM


async def gather_status(
    bus: Bus, redis_url: str, data_dir: Path, services: Sequence[str]
) -> dict[str, Any]:
    """Heartbeats, channels and the dead-letter count, read through `bus` (whose Redis is at
    `redis_url`). The services expected are those the mesh file in `data_dir` names, else
    `services`."""
    beats = await heartbeats(bus.redis)
    states = await channels.all_states(bus.redis)
    dead = await bus.redis.xlen(DEAD_LETTER_STREAM)
    info = read_info(data_dir.resolve())
    expected = info.services if info else list(services)
    return {
        "redis": redact_url(redis_url),
        "data_dir": info.data_dir if info else str(data_dir.resolve()),
        "supervisor_pid": info.pid if info else None,
        "services": [b.model_dump() for b in sorted(beats, key=lambda b: (b.service, b.instance))],
        "missing": sorted(set(expected) - {b.service for b in beats}),
        "channels": {name: s.model_dump() for name, s in sorted(states.items())},
        "dead_letters": dead,
    }


def status_code(status: dict[str, Any]) -> int:
    """0 when every service is up and no channel failed, else 3."""
    failed = any(state["state"] == "failed" for state in status["channels"].values())
    return 3 if status["missing"] or failed else 0
