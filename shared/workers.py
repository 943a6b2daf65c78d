"""What each worker reads, what it writes, and how its copies share the work: declared once.

Each service declares itself in `services/<name>/worker.py`, e.g.

    WORKER = Worker("motion", reads=(SEGMENTS,), writes=(MOTION, FRAMES, GAPS), shape="group")

and the runtime reads from that (`ServiceContext.consume`, `consume_channel`, `own_channels`),
`clip-live run` starts the workers in the order `services/wiring.py` lists them, and
`clip-live graph` prints who reads and writes which stream.

Shapes:
- "group": stateless. Copies share the messages through one consumer group. It reads global
  topics, and per-channel topics for every known channel.
- "channels": owns channels through leases. The per-channel topics it reads are read only for
  the channels it owns (`consume_channel`); global ones through its consumer group.
- "server": answers requests (the API). It reads no stream through a consumer group.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, get_args

from shared.streams import Topic

Shape = Literal["group", "channels", "server"]


@dataclass(frozen=True)
class Worker:
    """One service's wiring.

    `reads`: topics it reads through its consumer group (each message to one copy).
    `writes`: topics it publishes.
    `looks`: topics it only looks at, without a group (every copy sees every message):
    the dashboard, the clipper's segment index.
    `group`: the consumer group's name; its own name unless set.
    `ended_too`: a channel owner that also owns channels that ended, so what they left
    on its streams is still handled.
    """

    name: str
    reads: tuple[Topic[Any], ...] = ()
    writes: tuple[Topic[Any], ...] = ()
    shape: Shape = "group"
    looks: tuple[Topic[Any], ...] = ()
    group: str = ""
    ended_too: bool = False

    def __post_init__(self) -> None:
        if not self.name:
            raise ValueError("a worker needs a name (its package's: services/<name>/)")
        if self.shape not in get_args(Shape):
            raise ValueError(f"{self.name}: shape must be one of {get_args(Shape)}")
        if self.shape == "server" and self.reads:
            raise ValueError(f"{self.name}: a server reads through no consumer group; "
                             "list what it shows in `looks`")
        if self.ended_too and self.shape != "channels":
            raise ValueError(f"{self.name}: only a channel owner owns channels that ended")
        if not self.group:
            object.__setattr__(self, "group", self.name)

    @property
    def global_reads(self) -> tuple[Topic[Any], ...]:
        return tuple(t for t in self.reads if not t.per_channel)

    @property
    def channel_reads(self) -> tuple[Topic[Any], ...]:
        return tuple(t for t in self.reads if t.per_channel)

    def channel_streams(self, channel: str) -> dict[str, Topic[Any]]:
        """The streams of one channel this worker reads, and the topic of each."""
        return {topic.stream(channel): topic for topic in self.channel_reads}
