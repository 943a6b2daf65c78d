"""The fuser worker: joins every signal of a channel by stream time and decides.

Stateful: one replica owns each channel through a lease (see `channel` for how it reads and
how a new owner goes on). It publishes one event row per second, spikes (`new_spike`) and clip
jobs, appends to events.csv, and picks up a newly installed model without a restart.
"""

from __future__ import annotations

import asyncio
import logging

from services.fuser.channel import ChannelRun
from services.fuser.decider import FuserConfig
from services.fuser.model import ModelError, ModelStore, prior_in_memory
from services.fuser.rules import VoteRules
from shared.runtime import ServiceContext
from shared.settings import Settings
from shared.timing import sleep_unless

MODEL_CHECK_S = 2.0


def config_from(settings: Settings) -> FuserConfig:
    return FuserConfig(
        threshold=settings.fuser_threshold, seconds_in_a_row=settings.fuser_seconds_in_a_row,
        lateness=settings.fuser_lateness_s, chat_delay=settings.fuser_chat_delay_s,
        pre=settings.clip_pre, post=settings.clip_post, cooldown=settings.fuser_cooldown_s,
        warmup=settings.fuser_warmup_s, votes=vote_rules(settings),
        buffer_s=settings.retention_s,
    )


def vote_rules(settings: Settings) -> VoteRules:
    """Where each vote's line is, from the `vote_*` settings."""
    return VoteRules(
        voice_arousal=settings.vote_voice_arousal, voice_hype_words=settings.vote_hype_words,
        voice_sentiment=settings.vote_sentiment,
        voice_sentiment_words=settings.vote_sentiment_words,
        face_excitement=settings.vote_face_excitement,
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
    config = config_from(ctx.settings)

    async def run_channel(channel: str) -> None:
        await ChannelRun(ctx.bus, ctx.settings, config, channel, lambda: watch.model,
                         ctx.stop).run()

    async def watch_model() -> None:
        while not ctx.stop.is_set():
            if await asyncio.to_thread(watch.refresh):
                ctx.log.info("now using model %s", watch.model.version)
            await sleep_unless(ctx.stop, MODEL_CHECK_S)

    await asyncio.gather(ctx.own_channels(run_channel), watch_model())
