"""asr's wiring: a channel's audio in, its captions out; one owner per channel."""

from shared.streams import AUDIO, CAPTIONS
from shared.workers import Worker

WORKER = Worker("asr", reads=(AUDIO,), writes=(CAPTIONS,), shape="channels")
