"""What the clipper reads from the bus: the segment index, captions, the newest stream time, and
whether the channel is still live.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from shared.bus import Bus, Delivery
from shared.channels import ACTIVE_STATES, all_states
from shared.contracts import AudioChunk, Caption, ChannelState, Segment, Stamped
from shared.streams import AUDIO, CAPTIONS, SEGMENTS, Topic

from .plan import Piece

S = TypeVar("S", bound=Stamped)

PAGE = 1000
LOOK_BACK_S = 300.0
"""Start reading a stream this long before the clip's wall time. Messages about the clip were
added to Redis after that moment, so we skip most of a long stream safely."""


def arrival(stream_id: str) -> float:
    """The Unix time Redis added an entry: the first part of its id is in milliseconds."""
    return int(stream_id.split("-", 1)[0]) / 1000


def id_at(wall: float) -> str:
    """A stream id just before Unix time `wall`, to read "everything added after then"."""
    return f"{max(0, int(wall * 1000) - 1)}-0" if wall > 0 else "0"


def segment_path(path: str, data_dir: Path) -> Path:
    """Where a segment file is. A relative path is tried from here, then from the data folder."""
    found = Path(path)
    if found.is_absolute() or found.exists():
        return found
    return data_dir / found


def to_piece(delivery: Delivery[Segment], data_dir: Path) -> Piece:
    seg = delivery.message
    return Piece(seq=seg.seq, t=seg.t, dur=seg.dur, path=str(segment_path(seg.path, data_dir)),
                 size=seg.size, wall=seg.wall, arrived=arrival(delivery.id))


async def read_all(
    bus: Bus, topic: Topic[S], channel: str, session: str, after: str = "0"
) -> tuple[list[Delivery[S]], str]:
    """Every message of one session after stream id `after`. Also returns the last id read."""
    found: list[Delivery[S]] = []
    while True:
        page = await bus.read(topic, channel=channel, after=after, count=PAGE)
        if not page:
            return found, after
        after = page[-1].id
        found.extend(d for d in page if d.message.session == session)
        if len(page) < PAGE:
            return found, after


async def read_segments(
    bus: Bus, channel: str, session: str, since_wall: float, data_dir: Path
) -> tuple[list[Piece], str]:
    """The session's segments from about `since_wall` on, and the last stream id read.

    If the first segment found starts later than we hoped, we read again from the very start.
    """
    start = id_at(since_wall - LOOK_BACK_S)
    found, last = await read_all(bus, SEGMENTS, channel, session, after=start)
    if start != "0" and (not found or found[0].message.wall > since_wall):
        found, last = await read_all(bus, SEGMENTS, channel, session)
    return [to_piece(d, data_dir) for d in found], last


async def read_new_segments(
    bus: Bus, channel: str, session: str, after: str, block_ms: int, data_dir: Path
) -> tuple[list[Piece], str]:
    """Segments added after stream id `after`, waiting up to `block_ms` for the first one."""
    page = await bus.read(SEGMENTS, channel=channel, after=after, count=PAGE, block_ms=block_ms)
    if not page:
        return [], after
    pieces = [to_piece(d, data_dir) for d in page if d.message.session == session]
    return pieces, page[-1].id


async def read_captions(bus: Bus, channel: str, session: str, since_wall: float) -> list[Caption]:
    """The session's captions added since a little before `since_wall`."""
    found, _ = await read_all(bus, CAPTIONS, channel, session, after=id_at(since_wall - 60.0))
    return [d.message for d in found]


@dataclass(frozen=True)
class Newest:
    """The newest stream time a channel has, and what told us."""

    t: float
    wall: float
    """Unix time of `t`."""
    session: str
    source: str
    """Where `t` came from, in words: "audio chunk" or "segment"."""


async def newest_time(bus: Bus, channel: str, session: str | None) -> Newest | None:
    """The end of the newest audio chunk or segment (whichever is later) of the session.

    With no session named, the session of the newest message counts.
    """
    found: list[Newest] = []
    audio: Delivery[AudioChunk] | None = await bus.latest(AUDIO, channel=channel)
    segment: Delivery[Segment] | None = await bus.latest(SEGMENTS, channel=channel)
    for delivery, source in ((audio, "audio chunk"), (segment, "segment")):
        if delivery is None:
            continue
        msg = delivery.message
        if session and msg.session != session:
            continue
        found.append(Newest(t=msg.t + msg.dur, wall=msg.wall + msg.dur, session=msg.session,
                            source=source))
    if not found:
        return None
    if not session:
        newest_session = max(found, key=lambda n: n.wall).session
        found = [n for n in found if n.session == newest_session]
    return max(found, key=lambda n: n.t)


async def channel_state(bus: Bus, channel: str) -> ChannelState | None:
    """The channel's latest state from ingest, or None when ingest never named it."""
    return (await all_states(bus.redis)).get(channel)


def has_ended(state: ChannelState | None, session: str) -> str | None:
    """Why no more segments will come for this session, or None while they still may."""
    if state is None:
        return None
    if state.session and session and state.session != session:
        return f"a new session ({state.session}) has started"
    if state.state not in ACTIVE_STATES:
        detail = f": {state.detail}" if state.detail else ""
        return f"the stream {state.state}{detail}"
    return None
