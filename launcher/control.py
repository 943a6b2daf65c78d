"""Commands that talk to a running mesh: find it, start watching, ask for a clip, show status."""

from __future__ import annotations

import json
import socket
import time
import uuid
from typing import Any

from services.wiring import SERVICES
from shared import channels
from shared.bus import Bus, RedisUnreachable
from shared.contracts import ClipProgress, ClipRequest, MonitorCommand
from shared.meshfile import read_info
from shared.runtime import heartbeats
from shared.settings import Settings
from shared.status import gather_status as gather_mesh_status
from shared.streams import CLIP_PROGRESS, CLIP_REQUESTS, CLIPS, CONTROL

CLI_CONNECT_TIMEOUT_S = 10.0


class MeshNotFound(Exception):
    """No running mesh could be found or reached."""


def find_redis_url(settings: Settings) -> str:
    """The Redis of the running mesh: the setting, else the one `clip-live run` wrote down."""
    if settings.redis_url:
        return settings.redis_url
    info = read_info(settings.data_dir.resolve())
    if info is None:
        raise MeshNotFound(f"no running mesh found for data folder {settings.data_dir.resolve()} "
                           "(start one with `clip-live run`, or set CLIP_LIVE_REDIS_URL)")
    return info.redis_url


async def connect(settings: Settings) -> Bus:
    """Connect to the mesh's Redis; give up after a short while, as a command should."""
    url = find_redis_url(settings)
    limit = settings.redis_connect_timeout_s or CLI_CONNECT_TIMEOUT_S
    quick = settings.model_copy(update={"redis_connect_timeout_s": limit})
    try:
        return await Bus.connect(url, quick)
    except RedisUnreachable as err:
        raise MeshNotFound(str(err)) from None


async def start_monitoring(settings: Settings, url: str, channel: str, quality: str) -> None:
    bus = await connect(settings)
    try:
        await bus.publish(CONTROL, MonitorCommand(channel=channel, action="start", url=url,
                                                  quality=quality, wall=time.time()))
    finally:
        await bus.close()


async def stop_monitoring(settings: Settings, channel: str) -> None:
    bus = await connect(settings)
    try:
        await bus.publish(CONTROL, MonitorCommand(channel=channel, action="stop",
                                                  wall=time.time()))
    finally:
        await bus.close()


async def request_clip(
    settings: Settings, channel: str | None, wait_s: float, out: Any
) -> int:
    """Ask for a clip at "now" and, if `wait_s` > 0, follow it until it is done."""
    bus = await connect(settings)
    try:
        if channel is None:
            active = await channels.active_channels(bus.redis)
            if len(active) != 1:
                names = ", ".join(active) or "none"
                print(f"name the channel with --channel (being watched: {names})", file=out)
                return 2
            channel = active[0]
        job_id = uuid.uuid4().hex[:12]
        after = (await bus.latest(CLIP_PROGRESS)) or None
        await bus.publish(CLIP_REQUESTS, ClipRequest(
            channel=channel, job_id=job_id, pre=settings.clip_pre, post=settings.clip_post,
            reason="manual", wall=time.time()))
        print(f"asked for a clip of {channel} (job {job_id})", file=out)
        if wait_s <= 0:
            return 0
        return await _follow(bus, job_id, after.id if after else "0", wait_s, out)
    finally:
        await bus.close()


async def _follow(bus: Bus, job_id: str, after: str, wait_s: float, out: Any) -> int:
    deadline = time.monotonic() + wait_s
    while time.monotonic() < deadline:
        for item in await bus.read(CLIP_PROGRESS, after=after, block_ms=500):
            after = item.id
            progress: ClipProgress = item.message
            if progress.job_id != job_id:
                continue
            print(f"  {progress.status} {progress.percent:.0f}% {progress.detail}", file=out)
            if progress.status == "failed":
                return 1
            if progress.status == "done":
                for clip in reversed(await bus.read(CLIPS, count=1000)):
                    if clip.message.job_id == job_id:
                        print(f"clip ready: {clip.message.video}", file=out)
                return 0
    print(f"no answer in {wait_s:.0f} s; the clip may still come (job {job_id})", file=out)
    return 1


async def gather_status(settings: Settings) -> dict[str, Any]:
    """Everything `clip-live status` shows, as plain data (see `shared/status.py`)."""
    url = find_redis_url(settings)
    bus = await connect(settings)
    try:
        return await gather_mesh_status(bus, url, settings.data_dir, SERVICES)
    finally:
        await bus.close()


def print_status(status: dict[str, Any], out: Any) -> None:
    """Show the status as a short table a person can read."""
    now = time.time()
    print(f"Clip Live at {status['redis']}  data: {status['data_dir']}", file=out)
    print(f"{'SERVICE':<16}{'INSTANCE':<28}{'PID':>8}  {'STATE':<10}LAST BEAT", file=out)
    for beat in status["services"]:
        age = now - beat["wall"]
        print(f"{beat['service']:<16}{beat['instance']:<28}{beat['pid']:>8}  "
              f"{beat['state']:<10}{age:.1f} s ago {beat['detail']}".rstrip(), file=out)
    for name in status["missing"]:
        print(f"{name:<16}{'-':<28}{'-':>8}  {'DOWN':<10}no heartbeat", file=out)
    if status["channels"]:
        print("CHANNELS", file=out)
        for name, state in status["channels"].items():
            print(f"  {name:<20}{state['state']:<14}t={state['t']:.1f}s  {state['url']}  "
                  f"{state['detail']}".rstrip(), file=out)
    else:
        print("no channels are being watched", file=out)
    if status["dead_letters"]:
        print(f"{status['dead_letters']} message(s) in the dead-letter stream", file=out)


def status_json(status: dict[str, Any]) -> str:
    return json.dumps(status, indent=2)


async def healthy_here(settings: Settings, service: str) -> bool:
    """True when `service` has a live heartbeat from this host (a container's health check)."""
    bus = await connect(settings)
    try:
        host = socket.gethostname()
        return any(b.service == service and b.host == host for b in await heartbeats(bus.redis))
    finally:
        await bus.close()
