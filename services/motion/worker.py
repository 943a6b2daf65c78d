"""motion's wiring: segments in; motion per second, sampled frames and unreadable-segment
gaps out. Copies share the segments."""

from shared.streams import FRAMES, GAPS, MOTION, SEGMENTS
from shared.workers import Worker

WORKER = Worker("motion", reads=(SEGMENTS,), writes=(MOTION, FRAMES, GAPS), shape="group")
