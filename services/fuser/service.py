"""The fuser worker: joins every signal of a channel by stream time and decides.

Stateful: one replica owns each channel through a lease (see `channel` for how it reads and
how a new owner goes on). It publishes one event row per second, spikes (`new_spike`) and clip
jobs, appends to events.csv, and picks up a newly installed model without a restart: each
channel is judged by its own model when it has one (learned from its chat), else the global one.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from services.fuser.channel import ChannelRun
from services.fuser.decider import FuserConfig
from services.fuser.model import LoadedModel, ModelError, ModelStore, fallback_model
from services.fuser.rules import VoteRules
from shared.channels import channel_settings
from shared.runtime import ServiceContext
from shared.settings import Settings
from shared.timing import sleep_unless

MODEL_CHECK_S = 2.0


def config_from(settings: Settings) -> FuserConfig:
    return FuserConfig(
        threshold=settings.fuser_threshold, seconds_in_a_row=settings.fuser_seconds_in_a_row,
        lateness=settings.fuser_lateness_s, settle=settings.fuser_settle_s,
        chat_delay=settings.fuser_chat_delay_s,
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
    """The models in use: the global one, and each followed channel's own (see `model_files`),
    reloaded when `clip-live retrain` or `clip-live model` changes one. A channel with no model
    of its own is judged by the global one.

    A model that cannot be used (unreadable, or made for a feature this fuser does not make)
    never stops the fuser: it logs one error and keeps scoring with the last good model, or
    with the shipped one at start.
    """

    def __init__(self, store: ModelStore, log: logging.Logger) -> None:
        self.store = store
        self.log = log
        self.model = fallback_model()
        self.stamp: float | None = None
        self.channels: dict[str, _ChannelModel] = {}
        self.refresh()

    def follow(self, channel: str) -> None:
        """Watch this channel's own models too, and load the one in use now."""
        if channel not in self.channels:
            store = ModelStore(self.store.root / "channels" / channel, "channel")
            self.channels[channel] = _ChannelModel(store)
            self._refresh_channel(channel, self.channels[channel])

    def for_channel(self, channel: str) -> LoadedModel:
        """The model that judges `channel` now: its own, else the global one."""
        followed = self.channels.get(channel)
        return followed.model if followed is not None and followed.model else self.model

    def refresh(self) -> list[str]:
        """Load again each model that another one replaced. Says what changed."""
        changed = []
        if self._refresh_global():
            changed.append(f"now using global model {self.model.version}")
        for channel, followed in list(self.channels.items()):
            if self._refresh_channel(channel, followed):
                own = followed.model.version if followed.model else None
                changed.append(f"channel {channel} now uses " + (
                    f"its own model {own}" if own else
                    f"the global model {self.model.version}"))
        return changed

    def _refresh_global(self) -> bool:
        stamp = self.store.stamp()
        if stamp == self.stamp:
            return False
        try:
            model = self.store.load_current()  # May install the shipped one: stamp again.
        except ModelError as err:
            self.log.error("%s; still scoring with model %s", err, self.model.version)
            self.stamp = stamp
            return False
        self.stamp = self.store.stamp()
        self.model = model
        self._warn_unknown(model)
        return True

    def _refresh_channel(self, channel: str, followed: _ChannelModel) -> bool:
        stamp = followed.store.stamp()
        if stamp == followed.stamp:
            return False
        followed.stamp = stamp
        try:
            model = followed.store.installed()
        except ModelError as err:
            kept = followed.model.version if followed.model else f"global {self.model.version}"
            self.log.error("channel %s: %s; still scoring with model %s", channel, err, kept)
            return False
        followed.model = model
        if model is not None:
            self._warn_unknown(model)
        return True

    def _warn_unknown(self, model: LoadedModel) -> None:
        unknown = model.unknown_to_it()
        if unknown:
            self.log.warning("model %s (%s) has no weight for %s: they count as 0 until a "
                             "retrain", model.version, model.scope, ", ".join(unknown))


@dataclass
class _ChannelModel:
    """One followed channel's own models: where they are and the one loaded (None: none)."""

    store: ModelStore
    stamp: float | None = None
    model: LoadedModel | None = None


async def main(ctx: ServiceContext) -> None:
    watch = ModelWatch(ModelStore(ctx.settings.data_dir / "models"), ctx.log)
    ctx.log.info("global model %s in use (%s)", watch.model.version,
                 watch.model.meta.get("kind"))
    async def run_channel(channel: str) -> None:
        settings = await channel_settings(ctx.bus.redis, ctx.settings, channel)
        await asyncio.to_thread(watch.follow, channel)
        own = watch.for_channel(channel)
        if own.scope == "channel":
            ctx.log.info("channel %s is judged by its own model %s", channel, own.version)
        await ChannelRun(ctx.bus, settings, config_from(settings), channel,
                         lambda: watch.for_channel(channel), ctx.stop).run()

    async def watch_model() -> None:
        while not ctx.stop.is_set():
            for change in await asyncio.to_thread(watch.refresh):
                ctx.log.info("%s", change)
            await sleep_unless(ctx.stop, MODEL_CHECK_S)

    await asyncio.gather(ctx.own_channels(run_channel), watch_model())
