"""api's wiring: REST and the dashboard. It sends start/stop commands and manual clip jobs,
and shows (without a consumer group) what the websocket streams to the dashboard."""

from shared.streams import (
    CAPTIONS,
    CHANNEL_STATES,
    CHAT,
    CLIP_PROGRESS,
    CLIP_REQUESTS,
    CLIPS,
    CONTROL,
    EVENTS,
    FACE,
    SPIKES,
)
from shared.workers import Worker

WORKER = Worker("api", writes=(CONTROL, CLIP_REQUESTS), shape="server",
                looks=(EVENTS, SPIKES, CAPTIONS, CHAT, FACE, CLIP_PROGRESS, CLIPS, CHANNEL_STATES))
