"""A channel's recorded history, read for learning: each session's seconds (`features.csv`)
and, when the chat service logged that session, its chat spikes and chat seconds, put on the
stream clock.

A chat log keeps Unix times; `features.csv` keeps, per second, the stream time (`time`) and the
Unix time (`wall`), so each chat time maps to a stream time through the session's own rows.
A file from before the `wall` column cannot be placed: its chat teaches nothing (it says so).
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from services.chat import offline
from services.chat.chatlog import log_path
from services.chat.detector import DetectorConfig, SecondStats
from services.chat.spikes import Spike
from services.fuser.weak_labels import ChatSecond, ChatSpike

FEATURES_FILE = "features.csv"


@dataclass
class Session:
    """One recorded session of a channel."""

    channel: str
    name: str
    times: np.ndarray  # stream seconds, ascending
    x: np.ndarray  # one row per second, one column per name; a missing value is 0
    names: tuple[str, ...]
    spikes: list[ChatSpike] | None = None  # None: no chat to learn from (see `note`)
    chat: dict[int, ChatSecond] | None = None
    note: str = ""
    walls: np.ndarray | None = field(default=None, repr=False)


def sessions_of(data_dir: Path, channel: str) -> list[str]:
    """The sessions of a channel that have a `features.csv`, by name."""
    folder = data_dir / "events" / channel
    if not folder.is_dir():
        return []
    return sorted(p.parent.name for p in folder.glob(f"*/{FEATURES_FILE}"))


def channels_with_chat(data_dir: Path) -> list[str]:
    """The channels that have recorded seconds and at least one chat log."""
    chat = data_dir / "chat"
    if not chat.is_dir():
        return []
    return sorted(p.name for p in chat.iterdir()
                  if p.is_dir() and any(p.glob("*.log")) and sessions_of(data_dir, p.name))


def read_features(path: Path, names: Sequence[str]) -> tuple[np.ndarray, np.ndarray | None,
                                                              np.ndarray]:
    """`features.csv` -> (stream seconds, their Unix times or None, the features `names`).
    A missing cell or column reads as 0; a second written twice counts once."""
    rows: dict[int, tuple[float | None, list[float]]] = {}
    with path.open(newline="") as handle:
        reader = csv.DictReader(handle)
        has_wall = "wall" in (reader.fieldnames or ())
        for row in reader:
            wall = float(row["wall"]) if has_wall and row.get("wall") else None
            rows[int(float(row["time"]))] = (wall, [float(row.get(n) or 0.0) for n in names])
    times = np.array(sorted(rows), dtype=int)
    x = np.array([rows[t][1] for t in times.tolist()], dtype=float).reshape(-1, len(names))
    walls = [rows[t][0] for t in times.tolist()]
    if not has_wall or any(w is None for w in walls):
        return times, None, x
    return times, np.array(walls, dtype=float), x


def stream_clock(times: np.ndarray, walls: np.ndarray, unix: np.ndarray) -> np.ndarray:
    """Unix times -> stream times, along the session's own rows. Past either end, one wall
    second is one stream second."""
    order = np.argsort(walls)
    w, t = walls[order], times[order].astype(float)
    inside = np.interp(unix, w, t)
    before = t[0] + (unix - w[0])
    after = t[-1] + (unix - w[-1])
    return np.where(unix < w[0], before, np.where(unix > w[-1], after, inside))


def read_session(data_dir: Path, channel: str, name: str, names: Sequence[str],
                 chat_config: DetectorConfig | None) -> Session:
    """One session: its seconds, and its chat when `chat_config` is given and it has a log."""
    path = data_dir / "events" / channel / name / FEATURES_FILE
    times, walls, x = read_features(path, names)
    session = Session(channel, name, times, x, tuple(names), walls=walls)
    if chat_config is None:
        return session
    chat_path = log_path(data_dir, channel, name)
    if not chat_path.exists():
        session.note = "no chat log"
    elif walls is None or len(times) == 0:
        session.note = "features.csv has no wall column (written before it had one)"
    else:
        try:
            chat_log = offline.read_chat_log(chat_path)
        except offline.ChatLogError as err:
            session.note = f"chat log unreadable: {err}"
            return session
        seconds, spikes = offline.detect(chat_log.entries, chat_config, keep_seconds=True)
        session.spikes, session.chat = _on_stream_clock(times, walls, seconds, spikes)
    return session


def _on_stream_clock(times: np.ndarray, walls: np.ndarray, seconds: list[SecondStats],
                     spikes: list[Spike]) -> tuple[list[ChatSpike],
                                                           dict[int, ChatSecond]]:
    """The detector's spikes and seconds, moved from Unix time to stream time."""
    found = []
    for s in spikes:
        moment, start, end = stream_clock(times, walls, np.array([s.moment, s.start, s.end]))
        found.append(ChatSpike(float(moment), float(start), float(end), float(s.strength)))
    chat: dict[int, ChatSecond] = {}
    if seconds:
        at = stream_clock(times, walls, np.array([c.second for c in seconds], dtype=float))
        for second, stream_t in zip(seconds, at.tolist(), strict=True):
            chat[round(stream_t)] = ChatSecond(second.rate_z, second.suppressed)
    return found, chat


def read_channel(data_dir: Path, channel: str, names: Sequence[str],
                 chat_config: DetectorConfig | None) -> list[Session]:
    """Every recorded session of a channel, oldest name first."""
    return [read_session(data_dir, channel, s, names, chat_config)
            for s in sessions_of(data_dir, channel)]
