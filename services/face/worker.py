"""face's wiring: a channel's frames in; faces per frame and per second out. One owner per
channel, ended channels too, so frames they left behind are still handled."""

from shared.streams import FACE, FACE_FRAMES, FRAMES
from shared.workers import Worker

WORKER = Worker("face", reads=(FRAMES,), writes=(FACE_FRAMES, FACE), shape="channels",
                ended_too=True)
