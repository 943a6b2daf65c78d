"""api's wiring: REST and the dashboard. It sends start/stop commands and manual clip jobs,
and shows (without a consumer group) what the websocket streams to the dashboard. It also makes
shorts of clips on request (reading their captions and face frames, telling their progress),
and hands VOD jobs to the vod worker."""

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
    FACE_FRAMES,
    SPIKES,
    VOD_PROGRESS,
    VOD_REQUESTS,
)
from shared.workers import Worker

WORKER = Worker("api", writes=(CONTROL, CLIP_REQUESTS, CLIP_PROGRESS, VOD_REQUESTS, VOD_PROGRESS),
                shape="server",
                looks=(EVENTS, SPIKES, CAPTIONS, CHAT, FACE, FACE_FRAMES, CLIP_PROGRESS, CLIPS,
                       CHANNEL_STATES, VOD_PROGRESS))
