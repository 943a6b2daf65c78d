"""semantic's wiring: captions in, what they mean out; copies share the captions."""

from shared.streams import CAPTIONS, SEMANTIC
from shared.workers import Worker

WORKER = Worker("semantic", reads=(CAPTIONS,), writes=(SEMANTIC,), shape="group")
