"""The fuser's wiring: it owns channels, reads their signal streams by position (no group:
it keeps its own place, to go on after a take-over), and writes rows, spikes and clip jobs."""

from services.fuser import signals
from shared.streams import CLIP_REQUESTS, EVENTS, SPIKES
from shared.workers import Worker

WORKER = Worker("fuser", looks=signals.topics(), writes=(EVENTS, SPIKES, CLIP_REQUESTS),
                shape="channels")
