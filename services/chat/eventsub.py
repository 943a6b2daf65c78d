"""Twitch chat through EventSub (twitchio 3), for users with Twitch app credentials.

IRC needs no account, so it is the default. EventSub is Twitch's newer way in: it needs an app
(client id and secret) and a user token with the `user:read:chat` scope. The client here asks
for two events of one channel: `channel.chat.message` (each message) and
`channel.chat.notification` (subs, gifts, raids). Each is turned into the same `ChatMessage` or
`ChatNotice` the IRC path makes, so the detector and the chat log cannot tell them apart.

EventSub events carry no sent time, so a message is stamped with the time it arrived.
twitchio keeps the websocket alive and reconnects it itself; when a whole session fails (login,
a token Twitch refuses, a subscription refused) we try again after a growing wait.
Tokens and the client secret are never logged.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

import aiohttp
import twitchio
from twitchio import eventsub

from .client import cancel_pending, retry_wait
from .irc import ChatMessage, ChatNotice, Emote

log = logging.getLogger("clip_live.chat.eventsub")

ChatEvent = ChatMessage | ChatNotice

# EventSub's notice types, named as IRC's `msg-id` names them (the detector knows those).
NOTICE_KINDS: dict[str, str] = {
    "sub": "sub",
    "resub": "resub",
    "sub_gift": "subgift",
    "community_sub_gift": "submysterygift",
    "gift_paid_upgrade": "giftpaidupgrade",
    "prime_paid_upgrade": "primepaidupgrade",
    "pay_it_forward": "standardpayforward",
    "raid": "raid",
    "unraid": "unraid",
    "announcement": "announcement",
    "bits_badge_tier": "bitsbadgetier",
    "charity_donation": "charitydonation",
}


@dataclass(frozen=True)
class EventSubLogin:
    """What EventSub needs to read a channel's chat."""

    client_id: str
    client_secret: str
    user_token: str
    refresh_token: str = ""


def message_from(event: twitchio.ChatMessage, ts: float) -> ChatMessage:
    """A twitchio chat message as the `ChatMessage` the IRC parser would have made."""
    emotes: list[Emote] = []
    place = 0
    for fragment in event.fragments:
        if fragment.emote is not None and fragment.text:
            emotes.append(Emote(fragment.emote.id, place, place + len(fragment.text) - 1))
        place += len(fragment.text)
    user = (event.chatter.name or "").lower()
    return ChatMessage(
        channel=(event.broadcaster.name or "").lower(), user=user,
        display_name=event.chatter.display_name or user, text=event.text, ts=ts,
        badges={b.set_id: b.id for b in event.badges}, emotes=emotes, msg_id=event.id,
    )


def notice_from(event: twitchio.ChatNotification, ts: float) -> ChatNotice:
    """A twitchio chat notification as the `ChatNotice` a USERNOTICE line would have made.
    Shared-chat notices (from a channel we share chat with) count as their plain kind."""
    kind = event.notice_type.removeprefix("shared_chat_")
    return ChatNotice(
        channel=(event.broadcaster.name or "").lower(), kind=NOTICE_KINDS.get(kind, kind),
        user=(event.chatter.name or "").lower(), text=event.system_message or event.text, ts=ts,
    )


class EventSubChatClient:
    """Reads one channel's chat over EventSub until cancelled. Each message or notice goes to
    `on_event`; `on_link(True)` once subscribed, `on_link(False)` when that session ends."""

    def __init__(
        self,
        login: EventSubLogin,
        channel: str,
        on_event: Callable[[ChatEvent], None],
        on_link: Callable[[bool], None],
        *,
        retry_min_s: float = 1.0,
        retry_max_s: float = 30.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.login = login
        self.channel = channel.lower()
        self.on_event = on_event
        self.on_link = on_link
        self.retry_min_s = retry_min_s
        self.retry_max_s = retry_max_s
        self.clock = clock
        self.sessions = 0

    async def run(self) -> None:
        """Stay subscribed until cancelled."""
        failures = 0
        extra = {"channel": self.channel}
        while not cancel_pending():
            client = twitchio.Client(client_id=self.login.client_id,
                                     client_secret=self.login.client_secret)
            linked = False
            try:
                await self._subscribe(client)
                linked = True
                failures = 0
                self.on_link(True)
                await asyncio.Event().wait()  # twitchio delivers events until we are cancelled
            except (twitchio.TwitchioException, aiohttp.ClientError, OSError, TimeoutError,
                    LookupError) as err:
                reason = f"{type(err).__name__}: {err}" if str(err) else type(err).__name__
            finally:
                if linked:
                    self.on_link(False)
                await client.close()
            failures += 1
            wait = retry_wait(failures, self.retry_min_s, self.retry_max_s)
            log.warning("EventSub chat failed (%s); trying again in %.1f s", reason, wait,
                        extra=extra)
            await asyncio.sleep(wait)

    async def _subscribe(self, client: twitchio.Client) -> None:
        """Log in, find the channel, and ask for its chat events."""
        await client.login(load_tokens=False, save_tokens=False)
        reader = await client.add_token(self.login.user_token, self.login.refresh_token)
        if not reader.user_id:
            raise LookupError("twitch_token is an app token; EventSub chat needs a user token")
        users = await client.fetch_users(logins=[self.channel])
        if not users:
            raise LookupError(f"no Twitch user called {self.channel!r}")
        condition = {"broadcaster_user_id": users[0].id, "user_id": reader.user_id}
        client.add_listener(self._message, event="event_message")
        client.add_listener(self._notification, event="event_chat_notification")
        await client.subscribe_websocket(eventsub.ChatMessageSubscription(**condition),
                                         token_for=reader.user_id)
        await client.subscribe_websocket(eventsub.ChatNotificationSubscription(**condition),
                                         token_for=reader.user_id)
        self.sessions += 1
        log.info("reading chat through EventSub", extra={"channel": self.channel,
                                                         "reader": reader.login})

    async def _message(self, event: twitchio.ChatMessage) -> None:
        if (event.broadcaster.name or "").lower() == self.channel:
            self.on_event(message_from(event, self.clock()))

    async def _notification(self, event: twitchio.ChatNotification) -> None:
        if (event.broadcaster.name or "").lower() == self.channel:
            self.on_event(notice_from(event, self.clock()))
