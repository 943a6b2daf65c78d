"""audio_features' wiring: audio chunks in, their numbers out; copies share the chunks."""

from shared.streams import AUDIO, AUDIO_FEATURES
from shared.workers import Worker

WORKER = Worker("audio_features", reads=(AUDIO,), writes=(AUDIO_FEATURES,), shape="group")
