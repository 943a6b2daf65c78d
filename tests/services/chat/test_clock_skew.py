"""A chat line whose sent time lies in the future (a wrong clock or a forged tag) cannot move
the stream's clock: it is pulled back to within 10 s of its arrival and not learnt from."""

from __future__ import annotations

import logging
import time

from services.chat.irc import parse_line
from services.chat.service import MAX_SKEW_S, ChannelChat
from services.chat.worker import WORKER
from shared.bus import Bus
from shared.runtime import ServiceContext
from shared.settings import Settings


def line(sent_ms: int, text: str = "hi") -> str:
    return (f"@tmi-sent-ts={sent_ms};user-id=1 :bob!bob@bob.tmi.twitch.tv PRIVMSG #chan :"
            f"{text}")


async def test_a_line_from_an_hour_ahead_is_pulled_back_and_not_learnt(
    settings: Settings, bus: Bus
) -> None:
    ctx = ServiceContext(worker=WORKER, settings=settings, bus=bus,
                         log=logging.getLogger("clip_live.chat"))
    chat = ChannelChat(ctx, "chan")
    now = time.time()
    chat.on_line(parse_line(line(int((now - 0.5) * 1000))))  # an honest line, 0.5 s in transit
    chat.on_line(parse_line(line(int((now + 3600) * 1000), "from the future")))
    assert chat.clamped == 1
    assert abs(chat.clock.now(now) - (now - 0.5)) < 0.6  # the clock learnt only the honest one
    opened = max(chat.detector._open)
    assert opened <= now + MAX_SKEW_S + 1  # counted at most 10 s ahead, not an hour
