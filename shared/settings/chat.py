"""Settings for reading Twitch chat and finding its spikes."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field


class ChatSettings(BaseModel):
    """Chat: where it comes from, and what counts as a spike."""

    chat_irc_host: str = Field(
        default="irc.chat.twitch.tv", min_length=1, description="Twitch chat (IRC) server."
    )
    chat_irc_port: int = Field(default=6697, ge=1, le=65_535, description="Its port.")
    chat_irc_tls: bool = Field(default=True, description="Talk to the chat server over TLS.")
    chat_source: Literal["irc", "eventsub"] = Field(
        default="irc",
        description="Where chat comes from: Twitch IRC (no account needed), or EventSub through "
                    "twitchio (needs twitch_client_id, twitch_client_secret and a user "
                    "twitch_token with the user:read:chat scope).",
    )
    twitch_client_id: str = Field(
        default="", description="Client id of your Twitch app (EventSub chat only)."
    )
    chat_nick: str = Field(
        default="",
        description="Twitch login that owns twitch_token. Empty: read chat anonymously "
                    "(justinfan<digits>), which needs no token.",
    )
    chat_twitch_only: bool = Field(
        default=True,
        description="Read chat only for channels watched from a twitch.tv URL (other sources "
                    "have no Twitch chat). The IRC channel is the login in that URL, else the Clip "
                    "Live channel name.",
    )
    chat_ping_s: float = Field(
        default=60.0, gt=0, description="Quiet this long: ask the chat server if it is there."
    )
    chat_lateness_s: float = Field(
        default=1.5, ge=0, le=30, description="How long a second of chat waits for late lines."
    )
    chat_window_s: int = Field(
        default=10, ge=2, le=60,
        description="Chat is weighed over windows this long: against the channel's normal, "
                    "and to tell a sustained burst from a blip.",
    )
    chat_baseline_s: float = Field(
        default=600.0, ge=60, description="How much past chat makes the channel's normal."
    )
    chat_warmup_s: float = Field(
        default=30.0, ge=1, description="Seconds of chat needed before any spike is called."
    )
    chat_spike_z: float = Field(
        default=10.0, gt=0,
        description="A chat spike's extra chat over the channel's normal (reactions weigh "
                    "more) must reach this many spreads of that normal, for a window of the "
                    "spike's length. Higher: fewer, bigger spikes.",
    )
    chat_spike_min_s: int = Field(
        default=4, ge=1, le=60,
        description="A chat spike needs at least this many busy seconds, so a blip is not one.",
    )
    chat_spike_messages: int = Field(
        default=8, ge=1, description="A chat spike needs at least this many messages..."
    )
    chat_spike_chatters: int = Field(
        default=5, ge=1, description="...from at least this many people."
    )
    chat_reaction_lag_s: float = Field(
        default=20.0, ge=0, le=120,
        description="Chat reacts this long after the moment (viewers watch late, then type): "
                    "a chat spike's estimated moment is its start minus this. Measured at "
                    "23-27 s on Twitch VOD chat (Lightor, Han et al. 2019); a little less here, "
                    "since our recording is itself behind the broadcast as a viewer is.",
    )
    chat_moment_slack_s: float = Field(
        default=5.0, ge=0, le=60,
        description="A chat spike speaks for the stream seconds from its estimated moment minus "
                    "this to its start: the fuser credits chat there, and a clip that chat leads "
                    "starts early enough to hold them.",
    )
    chat_suppress_s: float = Field(
        default=30.0, ge=0, description="After a raid or a gift-sub burst, no spikes this long."
    )
