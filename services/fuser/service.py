"""The fuser worker: joins every signal of a channel by stream time and decides.

Stateful: one replica owns each channel through a lease. It publishes one event row per
second, spikes (`new_spike`) and clip jobs, appends to events.csv, and picks up a newly
installed model without a restart.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from services.fuser import signals
from services.fuser.buckets import Signal
from services.fuser.decider import Decider, FuserConfig, Outputs
from services.fuser.events_log import append_rows
from services.fuser.model import ModelError, ModelStore, prior_in_memory
from shared.bus import REDIS_DOWN, Delivery, sleep_unless
from shared.channels import active_channels, current_state
from shared.leases import own_channels
from shared.runtime import ServiceContext
from shared.settings import Settings
from shared.streams import CLIP_REQUESTS, EVENTS, SPIKES, fuser_handover_key

MODEL_CHECK_S = 2.0
HANDOVER_TTL_S = 24 * 3600
"""A hand-over older than this is of no use (the session has long moved on)."""


def config_from(settings: Settings) -> FuserConfig:
    return FuserConfig(
        threshold=settings.fuser_threshold, seconds_in_a_row=settings.fuser_seconds_in_a_row,
        lateness=settings.fuser_lateness_s, chat_delay=settings.fuser_chat_delay_s,
        pre=settings.clip_pre, post=settings.clip_post, cooldown=settings.fuser_cooldown_s,
        warmup=settings.fuser_warmup_s,
    )


class ModelWatch:
    """The model in use, reloaded when `clip-live retrain` or `model use` changes it.

    A model that cannot be used (unreadable, or made for a feature this fuser does not make)
    never stops the fuser: it logs one error and keeps scoring with the last good model, or
    with the prior at start.
    """

    def __init__(self, store: ModelStore, log: logging.Logger) -> None:
        self.store = store
        self.log = log
        self.model = prior_in_memory()
        self.stamp: float | None = None
        self.refresh()

    def refresh(self) -> bool:
        """Load the model again if another one was put in use. True if it changed."""
        stamp = self.store.stamp()
        if stamp == self.stamp:
            return False
        try:
            model = self.store.load_current()  # May install the prior: stamp again after.
        except ModelError as err:
            self.log.error("%s; still scoring with model %s", err, self.model.version)
            self.stamp = stamp
            return False
        self.stamp = self.store.stamp()
        self.model = model
        unknown = model.unknown_to_it()
        if unknown:
            self.log.warning("model %s has no weight for %s: they count as 0 until a "
                             "retrain", model.version, ", ".join(unknown))
        return True


async def main(ctx: ServiceContext) -> None:
    watch = ModelWatch(ModelStore(ctx.settings.data_dir / "models"), ctx.log)
    ctx.log.info("model %s in use (%s)", watch.model.version, watch.model.meta.get("kind"))
    fusers: dict[str, Decider] = {}

    async def publish(out: Outputs) -> None:
        if out.rows:
            await asyncio.to_thread(append_rows, ctx.settings.data_dir, out.rows)
            await ctx.bus.publish_many(EVENTS, [(r, None) for r in out.rows],
                                       channel=out.rows[0].channel)
        for spike in out.spikes:
            await ctx.bus.publish(SPIKES, spike, channel=spike.channel)
            ctx.log.log(logging.INFO if spike.job_id else logging.DEBUG,
                        "spike at t=%.0f s: %s, P=%.2f, votes=%s, %s", spike.t, spike.trigger,
                         spike.probability, spike.votes,
                         f"clip job {spike.job_id}" if spike.job_id else "merged into last clip",
                         extra={"channel": spike.channel})
        for job in out.jobs:
            await ctx.bus.publish(CLIP_REQUESTS, job)

    async def run_channel(channel: str) -> None:
        fuser = Decider(channel, config_from(ctx.settings), watch.model,
                             lambda: uuid.uuid4().hex[:12], time.time)
        fusers[channel] = fuser
        streams = {topic.stream(channel): topic for topic in signals.topics()}

        async def handle(delivery: Delivery[Signal]) -> None:
            fuser.add(delivery.message)
            await publish(fuser.step())

        await _take_over(ctx, fuser)
        try:
            await ctx.bus.consume(streams, ctx.name, ctx.consumer_name(), handle, ctx.stop)
        finally:
            fusers.pop(channel, None)
            await _hand_over(ctx, fuser, publish)

    async def watch_model() -> None:
        while not ctx.stop.is_set():
            if await asyncio.to_thread(watch.refresh):
                ctx.log.info("now using model %s", watch.model.version)
                for fuser in fusers.values():
                    fuser.model = watch.model
            await sleep_unless(ctx.stop, MODEL_CHECK_S)

    async def wanted() -> list[str]:
        return await active_channels(ctx.bus.redis)


    await asyncio.gather(own_channels(ctx.leases(), wanted, run_channel, ctx.stop), watch_model())


async def _take_over(ctx: ServiceContext, fuser: Decider) -> None:
    """If the fuser before us (a restart, or another replica) left where it stopped, and it
    was in the channel's current session, go on from there."""
    try:
        state = await current_state(ctx.bus.redis, fuser.channel)
        left: Any = await ctx.bus.redis.get(fuser_handover_key(fuser.channel))
    except REDIS_DOWN as err:
        ctx.log.warning("cannot read the last fuser's hand-over: %s", err,
                        extra={"channel": fuser.channel})
        return
    session, _, until = (left.decode() if left else "").partition(" ")
    if state is not None and session == state.session and until.isdigit():
        fuser.resume(session, int(until))
        ctx.log.info("going on from t=%s, where the last fuser stopped", until,
                     extra={"channel": fuser.channel})


async def _hand_over(ctx: ServiceContext, fuser: Decider,
                     publish: Callable[[Outputs], Awaitable[None]]) -> None:
    """We stop owning the channel: write the seconds still open (with what came so far;
    what is missing is marked missing), and say where we stopped for the next owner."""
    extra = {"channel": fuser.channel}
    try:
        out = fuser.finish()
        await publish(out)
        if fuser.session:
            await ctx.bus.redis.set(fuser_handover_key(fuser.channel),
                                    f"{fuser.session} {fuser.closed_until}", ex=HANDOVER_TTL_S)
    except REDIS_DOWN as err:
        ctx.log.warning("could not hand over the open seconds: %s", err, extra=extra)
        return
    if out.rows:
        ctx.log.info("wrote the %d second(s) still open before stopping", len(out.rows),
                     extra=extra)
