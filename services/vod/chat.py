"""A VOD's chat file, turned into the `ChatSecond` messages the chat worker would publish.

The same reader and the same detector as `clip-live chat-spikes` and the live chat worker do
the counting (`services/chat/offline.py`, `services/chat/detector.py`); here each second is
only put on the VOD's clock. Pure: no Redis, no asyncio.

Times in the file: a TwitchDownloader JSON export counts seconds into the video. A plain log
(`<time> <user>: <message>`) with small times (under a year of seconds) counts seconds into
the video too; one with Unix times counts from its first line.
"""

from __future__ import annotations

import time
from pathlib import Path

from services.chat.detector import DetectorConfig, SecondStats
from services.chat.offline import detect, read_chat_log
from shared.contracts import ChatSecond
from shared.settings import Settings

MEDIA_TIME_BELOW = 365 * 86_400.0
"""A plain log whose first time is below this counts seconds into the video, not Unix time."""


def chat_seconds(path: Path, settings: Settings, channel: str, session: str,
                 length_s: float) -> list[ChatSecond]:
    """Every second of chat in the file, on the VOD's clock, oldest first. Seconds before
    the VOD or after its end are left out. Raises `ChatLogError` for a file it cannot read."""
    chat = read_chat_log(path)
    seconds, _ = detect(chat.entries, DetectorConfig.from_settings(settings), keep_seconds=True)
    first = chat.entries[0].ts
    offset = chat.start if chat.unix_times and first >= MEDIA_TIME_BELOW else 0.0
    slack = settings.chat_moment_slack_s
    now = time.time()
    out = []
    for s in seconds:
        t = s.second - offset
        if 0 <= t < length_s:
            out.append(_message(s, t, offset, slack, channel, session, now))
    return out


def _message(s: SecondStats, t: float, offset: float, slack: float, channel: str,
             session: str, wall: float) -> ChatSecond:
    """One second as the chat worker would stamp it (see `ChannelChat._chat_second`)."""
    start = moment = earliest = None
    if s.spike_start is not None and s.moment is not None:
        start = max(0.0, s.spike_start - offset)
        moment = max(0.0, s.moment - offset)
        earliest = max(0.0, moment - slack)
    return ChatSecond(
        channel=channel, session=session, t=t, dur=1.0, wall=wall, messages=s.messages,
        chatters=s.chatters, rate_z=s.rate_z, baseline=s.baseline,
        hype_density=min(1.0, s.hype_density), spike=s.spike, strength=s.strength,
        suppressed=s.suppressed, spike_start=start, moment=moment, moment_from=earliest,
        moment_to=start)


def on_part(seconds: list[ChatSecond], channel: str, session: str, start: float,
            end: float) -> list[ChatSecond]:
    """The chat seconds from `start` to `end` (seconds into the VOD) on a part's own clock,
    which starts at `start`, for the part's channel and session."""
    def back(t: float | None) -> float | None:
        return None if t is None else max(0.0, t - start)

    return [c.model_copy(update={
        "channel": channel, "session": session, "t": c.t - start,
        "spike_start": back(c.spike_start), "moment": back(c.moment),
        "moment_from": back(c.moment_from), "moment_to": back(c.moment_to)})
        for c in seconds if start <= c.t < end]
