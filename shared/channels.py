"""The list of channels being watched, kept in one Redis hash.

Ingest writes each channel's latest state there; every other worker reads it to know which
per-channel streams to follow.

A channel stops by getting the state "stopped", never by leaving the list. So when the list
lost a channel (a Redis without persistence restarted, or was emptied), the ingest replica that
runs it counts its session as still current, writes its state back with its next update, and
every channel owner keeps running it meanwhile: the channel goes on by itself.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any

from redis.asyncio import Redis

from shared.bus import Subscriptions
from shared.contracts import ChannelState
from shared.settings import Settings
from shared.streams import CHANNELS_KEY, Topic

ACTIVE_STATES = {"starting", "live", "reconnecting"}

VOD_BACKLOG_MAX_S = 3.0
"""How far (stream seconds) the slowest worker may fall behind a VOD's ingest before it waits."""
VOD_LATENESS_S = 30.0
"""The fuser waits this long (stream seconds) for a VOD's late signal; above the backlog bound."""


def vod_settings(settings: Settings) -> Settings:
    """The settings the same workers use for a channel that is a recording (`vod` in its
    state), not a live stream: ingest reads it as fast as the slowest worker keeps up, not in
    real time; speech-to-text drops nothing for lag and hears only final words; the fuser
    waits longer for late signals and asks for no clips (the VOD job ranks and cuts)."""
    return settings.model_copy(update={
        "ingest_file_realtime": False, "ingest_backlog_max_s": VOD_BACKLOG_MAX_S,
        "asr_vod": True, "fuser_lateness_s": VOD_LATENESS_S, "fuser_clip_jobs": False})


async def channel_settings(redis: Redis, settings: Settings, channel: str) -> Settings:
    """The settings a worker uses for `channel`: `vod_settings` for a recording."""
    state = await current_state(redis, channel)
    return vod_settings(settings) if state is not None and state.vod else settings


async def save_state(redis: Redis, state: ChannelState) -> None:
    """Record a channel's latest state."""
    await redis.hset(CHANNELS_KEY, state.channel, state.model_dump_json())


# Write a state only while the registry still shows that session as active, in one atomic
# step: a task that is still running must not write "live" over a "stopped". A channel the
# registry lost is written back.
_SAVE_IF_CURRENT = """
local cur = redis.call('HGET', KEYS[1], ARGV[1])
if not cur then
  redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
  return 1
end
local ok, state = pcall(cjson.decode, cur)
if not ok or state['session'] ~= ARGV[2] then return 0 end
local active = {ACTIVE}
if not active[state['state']] then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
return 1
""".replace("ACTIVE", ", ".join(f"[{name!r}]=true" for name in sorted(ACTIVE_STATES)))


async def save_if_current(redis: Redis, state: ChannelState) -> bool:
    """Save `state` only if the registry still shows this session as active, or lost the
    channel altogether (then it is written back). True if saved."""
    done = await redis.eval(
        _SAVE_IF_CURRENT, 1, CHANNELS_KEY, state.channel, state.session,
        state.model_dump_json(),
    )
    return bool(done)


async def current_state(redis: Redis, channel: str) -> ChannelState | None:
    """The channel's latest state in the registry, or None."""
    raw = await redis.hget(CHANNELS_KEY, channel)
    return ChannelState.model_validate_json(raw) if raw else None


async def is_current(redis: Redis, channel: str, session: str) -> bool:
    """True while the registry shows this session of the channel as active, or shows nothing
    for the channel (it lost it: the session goes on and writes it back)."""
    state = await current_state(redis, channel)
    if state is None:
        return True
    return state.session == session and state.state in ACTIVE_STATES


async def forget(redis: Redis, channel: str) -> None:
    """Take a channel off the list. This does not stop it (a running owner writes it back):
    stop a channel by saving the state "stopped"."""
    await redis.hdel(CHANNELS_KEY, channel)


async def all_states(redis: Redis) -> dict[str, ChannelState]:
    """Every known channel and its latest state."""
    raw: dict[Any, Any] = await redis.hgetall(CHANNELS_KEY)
    return {k.decode(): ChannelState.model_validate_json(v) for k, v in raw.items()}


async def active_channels(redis: Redis) -> list[str]:
    """Channels that are being watched now (not stopped, ended or failed)."""
    return sorted(c for c, s in (await all_states(redis)).items() if s.state in ACTIVE_STATES)


def channel_choice(
    redis: Redis, *, ended_too: bool = False, keep: Callable[[ChannelState], bool] | None = None,
) -> Callable[[], Awaitable[dict[str, bool]]]:
    """For a channel owner: every known channel, and whether to own it now. The active ones
    (every known one with `ended_too`) are wanted, less those `keep` turns down."""

    async def wanted() -> dict[str, bool]:
        return {
            name: (ended_too or state.state in ACTIVE_STATES) and (keep is None or keep(state))
            for name, state in sorted((await all_states(redis)).items())
        }

    return wanted


def channel_from_url(url: str) -> str:
    """A plain channel name for a stream URL: `twitch.tv/Foo` -> `foo`, a file -> its name."""
    text = url.strip()
    if "twitch.tv/" in text:
        text = text.split("twitch.tv/", 1)[1].split("/")[0].split("?")[0]
    else:
        text = text.split("://", 1)[-1].split("?")[0].rstrip("/")
        parts = [p for p in text.split("/") if p]
        text = parts[-1].rsplit(".", 1)[0] if len(parts) > 1 else (parts[0] if parts else "")
        if text in {"live", "index", "playlist", "master", "stream"} and len(parts) > 2:
            text = parts[-2]
    name = re.sub(r"[^a-z0-9_-]+", "-", text.lower()).strip("-_")[:64]
    return name or "stream"


def channel_subscriptions(
    redis: Redis, *topics: Topic[Any]
) -> Subscriptions | dict[str, Topic[Any]]:
    """For a worker that serves every channel: the streams of `topics`, a per-channel topic's
    for each known channel. Channels that ended stay in, so messages they left behind are
    still handled. With global topics only, the streams never change: a plain mapping."""
    fixed = {topic.stream(): topic for topic in topics if not topic.per_channel}
    per_channel = [topic for topic in topics if topic.per_channel]
    if not per_channel:
        return fixed

    async def streams() -> dict[str, Topic[Any]]:
        names: list[bytes] = await redis.hkeys(CHANNELS_KEY)  # type: ignore[assignment]
        return {**fixed, **{
            topic.stream(name.decode()): topic for name in sorted(names) for topic in per_channel
        }}

    return streams
