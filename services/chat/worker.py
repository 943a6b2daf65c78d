"""chat's wiring: Twitch chat in (not from the bus), one `ChatSecond` a second out; one owner
per channel."""

from shared.streams import CHAT
from shared.workers import Worker

WORKER = Worker("chat", writes=(CHAT,), shape="channels")
