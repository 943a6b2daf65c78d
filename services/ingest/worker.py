"""Ingest's wiring: start/stop commands in; audio, segments, gaps and channel states out.

It owns channels (one connection to the source each). Commands are shared through the
consumer group `ingest-control`, so each is handled once.
"""

from shared.streams import AUDIO, CHANNEL_STATES, CONTROL, GAPS, SEGMENTS
from shared.workers import Worker

WORKER = Worker("ingest", reads=(CONTROL,), writes=(AUDIO, SEGMENTS, GAPS, CHANNEL_STATES),
                shape="channels", group="ingest-control")
