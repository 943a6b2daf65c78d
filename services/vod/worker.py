"""vod's wiring: VOD jobs in; progress out. Copies share the jobs. A job starts its parts as
channels (control), hands them their chat, asks the clipper for its clips, and looks at what
the other workers make of its parts (without a group)."""

from shared.streams import (
    AUDIO_FEATURES,
    CHAT,
    CLIP_REQUESTS,
    CLIPS,
    CONTROL,
    EVENTS,
    MOTION,
    SPIKES,
    VOD_PROGRESS,
    VOD_REQUESTS,
)
from shared.workers import Worker

WORKER = Worker("vod", reads=(VOD_REQUESTS,), writes=(CONTROL, CHAT, CLIP_REQUESTS, VOD_PROGRESS),
                shape="group", looks=(EVENTS, SPIKES, AUDIO_FEATURES, MOTION, CLIPS))
