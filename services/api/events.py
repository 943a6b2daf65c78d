"""The websocket's messages: bus messages turned into events, and what a client asks for.

Every event the server sends is one JSON object:

    {"type": "<kind>", "channel": "<channel>", "id": "<stream id>", "data": {...}}

Kinds: `event` (the fuser's per-second row: loud_db, motion_avg, excited_prob, ...),
`new_spike`, `caption` (interim and final), `chat` (one second of chat: messages, rate_z, ...),
`face` (one second of the streamer's face: excitement, ...), `clipProgress` ({status, percent,
...}), `new_clip`, `channel_state`, and `vodProgress` (a VOD job's stage, seconds done, speed,
and its clips when done; its channel is "", and every client gets it). This module is pure: no
Redis, no sockets.
"""

from __future__ import annotations

import json
from typing import Any

from services.api.clipdata import event_clip
from shared.contracts import Clip, Contract, check_channel
from shared.streams import (
    CAPTIONS,
    CHANNEL_STATES,
    CHAT,
    CLIP_PROGRESS,
    CLIPS,
    EVENTS,
    FACE,
    SPIKES,
    VOD_PROGRESS,
    Topic,
)

PER_CHANNEL_TOPICS: tuple[Topic[Any], ...] = (EVENTS, SPIKES, CAPTIONS, CHAT, FACE)
GLOBAL_TOPICS: tuple[Topic[Any], ...] = (CLIP_PROGRESS, CLIPS, CHANNEL_STATES, VOD_PROGRESS)

KINDS = {
    EVENTS.name: "event",
    SPIKES.name: "new_spike",
    CAPTIONS.name: "caption",
    CHAT.name: "chat",
    FACE.name: "face",
    CLIP_PROGRESS.name: "clipProgress",
    CLIPS.name: "new_clip",
    CHANNEL_STATES.name: "channel_state",
    VOD_PROGRESS.name: "vodProgress",
}
MAX_CHANNELS = 100

Channels = frozenset[str] | None
"""The channels a client follows; None means every channel."""


class BadRequest(ValueError):
    """A client's message cannot be used. The text says why."""


def encode(topic: Topic[Any], message: Contract, stream_id: str) -> tuple[str, str]:
    """The event for one bus message: (its channel, its JSON text)."""
    channel = str(getattr(message, "channel", ""))
    # clipProgress data is the ClipProgress message: status and percent, plus job_id and detail.
    data = event_clip(message) if isinstance(message, Clip) else message.model_dump(mode="json")
    event = {"type": KINDS[topic.name], "channel": channel, "id": stream_id, "data": data}
    return channel, json.dumps(event, separators=(",", ":"))


def wants(channels: Channels, channel: str) -> bool:
    """Does a client that follows `channels` get events of `channel`? An event of no channel
    (a VOD job's progress) goes to every client."""
    return channels is None or not channel or channel in channels


def parse_channels(value: Any) -> Channels:
    """The `channels` a client asked for: a list of names, or null / "*" / missing for all."""
    if value is None or value == "*":
        return None
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise BadRequest('"channels" must be a list of channel names, "*" or null')
    if len(value) > MAX_CHANNELS:
        raise BadRequest(f'at most {MAX_CHANNELS} channels')
    try:
        return frozenset(check_channel(v) for v in value)
    except ValueError as err:
        raise BadRequest(str(err)) from None


def parse_hello(text: str) -> tuple[str, Channels]:
    """The client's first message: `{"token": "...", "channels": [...] | "*" | null}`."""
    body = _object(text)
    token = body.get("token")
    if not isinstance(token, str) or not token:
        raise BadRequest('the first message must be {"token": "...", "channels": [...]}')
    return token, parse_channels(body.get("channels"))


def parse_update(text: str) -> Channels:
    """A later message: `{"channels": [...] | "*" | null}` changes what the client follows."""
    body = _object(text)
    if "channels" not in body:
        raise BadRequest('send {"channels": [...]} to change what you follow')
    return parse_channels(body["channels"])


def reply(kind: str, channels: Channels, **extra: Any) -> str:
    """A message from the server about the connection itself (`hello`, `subscribed`)."""
    shown = None if channels is None else sorted(channels)
    return json.dumps({"type": kind, "channels": shown, **extra}, separators=(",", ":"))


def _object(text: str) -> dict[str, Any]:
    try:
        body = json.loads(text)
    except (json.JSONDecodeError, TypeError):
        raise BadRequest("send JSON") from None
    if not isinstance(body, dict):
        raise BadRequest("send a JSON object")
    return body
