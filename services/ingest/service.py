"""The ingest service: start and stop watching channels, and run the ones this replica owns.

Three jobs run side by side:
1. the control reader: `start` makes a new session in the channel registry, `stop` ends it
   (consumer group `ingest-control`, see `worker.py`, so each command is handled by one
   replica);
2. the channel owner: every replica tries to own the active channels through leases, so each
   channel runs on exactly one replica, and another one takes over if it dies;
3. the sweeper: removes recordings of old sessions once no clip job needs them.
"""

from __future__ import annotations

import asyncio
import secrets
import time

from services.ingest import channel as channel_task
from services.ingest.ring_buffer import plan_sweep, remove_session, sessions_on_disk
from shared.bus import REDIS_DOWN, Delivery
from shared.channels import ACTIVE_STATES, all_states, save_state
from shared.contracts import ChannelState, MonitorCommand
from shared.recording import earliest_pin
from shared.runtime import ServiceContext
from shared.streams import CHANNEL_STATES
from shared.timing import sleep_unless

SWEEP_EVERY_S = 30.0


def new_session_id(now: float | None = None) -> str:
    """A session id: the UTC start time plus a short random part, e.g. `20261121T045000Z-3fa9c1`."""
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(time.time() if now is None else now))
    return f"{stamp}-{secrets.token_hex(3)}"


async def main(ctx: ServiceContext) -> None:
    running: set[str] = set()

    async def run(channel: str) -> None:
        running.add(channel)
        _show(ctx, running)
        try:
            await channel_task.run_channel(ctx, channel)
        finally:
            running.discard(channel)
            _show(ctx, running)

    await asyncio.gather(
        _read_control(ctx),
        ctx.own_channels(run),
        _sweep_forever(ctx),
    )


def _show(ctx: ServiceContext, running: set[str]) -> None:
    """What the heartbeat says this replica is doing."""
    ctx.detail = f"running {len(running)} channel(s): {', '.join(sorted(running))}"


# ---- Control ----------------------------------------------------------------------------------


async def _read_control(ctx: ServiceContext) -> None:
    """Handle start/stop commands until the service stops (riding out Redis outages)."""
    consumer = ctx.consumer_name()

    async def handle(delivery: Delivery[MonitorCommand]) -> None:
        await handle_command(ctx, delivery.message)

    while not ctx.stop.is_set():
        try:
            await ctx.consume(handle, consumer=consumer)
        except REDIS_DOWN as err:
            ctx.log.warning("cannot read control commands: %s", err)
            await sleep_unless(ctx.stop, 1.0)


async def handle_command(ctx: ServiceContext, cmd: MonitorCommand) -> None:
    """Start or stop a channel by writing its new state into the registry."""
    redis = ctx.bus.redis
    current = (await all_states(redis)).get(cmd.channel)
    now = time.time()
    extra = {"channel": cmd.channel}
    if cmd.action == "stop":
        if current is None:
            ctx.log.info("stop for a channel that is not known; nothing to do", extra=extra)
            return
        state = current.model_copy(update={"state": "stopped", "detail": "stopped on request",
                                           "wall": now})
        ctx.log.info("stopping the channel", extra=extra)
    elif current and current.state in ACTIVE_STATES and current.url == cmd.url and (
            current.quality == (cmd.quality or ctx.settings.ingest_quality)):
        ctx.log.info("already watching %s", cmd.url, extra=extra)
        return
    else:
        url = cmd.url.strip()
        quality = cmd.quality or ctx.settings.ingest_quality
        session = new_session_id(now)
        if url:
            state = ChannelState(channel=cmd.channel, session=session, state="starting", url=url,
                                 quality=quality, public_only=cmd.public_only, vod=cmd.vod,
                                 detail=f"waiting for a worker to open {url}", wall=now)
        else:
            state = ChannelState(channel=cmd.channel, session=session, state="failed", url="",
                                 quality=quality, detail="cannot start: no URL given", wall=now)
        ctx.log.info("new session %s for %s", session, url or "(no URL)", extra=extra)
    await save_state(redis, state)
    await ctx.bus.publish(CHANNEL_STATES, state)


# ---- Sweeping old recordings ------------------------------------------------------------------


async def _sweep_forever(ctx: ServiceContext) -> None:
    while not ctx.stop.is_set():
        try:
            await sweep(ctx)
        except REDIS_DOWN as err:
            ctx.log.warning("cannot sweep old recordings: %s", err)
        except OSError as err:
            ctx.log.warning("sweeping old recordings: %s", err)
        await sleep_unless(ctx.stop, SWEEP_EVERY_S)


async def sweep(ctx: ServiceContext) -> list[tuple[str, str]]:
    """Remove session folders nobody needs: not the channel's current session, not ended
    less than `retention_s` ago, and no clip job of the channel pinned. Returns what went."""
    root = ctx.settings.data_dir / "buffer"
    on_disk = sessions_on_disk(root)
    if not on_disk:
        return []
    now = time.time()
    keep = {
        channel: state.session for channel, state in (await all_states(ctx.bus.redis)).items()
        if state.state in ACTIVE_STATES or now - state.wall < ctx.settings.retention_s
    }
    pinned = [ch for ch in on_disk if await _pinned(ctx, ch)]
    gone = plan_sweep(on_disk, keep, pinned)
    for channel, session in gone:
        remove_session(root, channel, session)
        ctx.log.info("removed the recording of an old session", extra={
            "channel": channel, "session": session})
    return gone


async def _pinned(ctx: ServiceContext, channel: str) -> bool:
    try:
        return await earliest_pin(ctx.bus.redis, channel) is not None
    except ValueError:  # Not a channel name we made: leave that folder alone.
        return True
