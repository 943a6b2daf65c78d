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
    chat_rate_window_s: int = Field(
        default=3, ge=1, le=60, description="The chat rate is the mean over this many seconds."
    )
    chat_baseline_s: float = Field(
        default=300.0, ge=10, description="How much past chat makes the channel's normal rate."
    )
    chat_warmup_s: float = Field(
        default=30.0, ge=1, description="Seconds of chat needed before any spike is called."
    )
    chat_spike_z: float = Field(
        default=5.0, gt=0, description="A spike needs the rate this far above normal "
                                       "(robust z: median and MAD of the baseline).",
    )
    chat_spike_min_lift: float = Field(
        default=2.0, ge=0,
        description="A chat spike also needs at least this many more messages per second than "
                    "normal, so a quiet channel's few messages are not a spike.",
    )
    chat_suppress_s: float = Field(
        default=30.0, ge=0, description="After a raid or a gift-sub burst, no spikes this long."
    )
