"""Generated training streams: made-up recorded seconds (`features.csv`) and chat logs of a
channel, with planted moments. The shipped model is learned from these (see `make_shipped`);
tests and benchmarks use them too. Nothing here is real data.

A stream is calm: every z-score is noise around 0 (each second leans on the one before, as
real signals do), the face sits a little below neutral, and a few words come now and then.
Planted moments lift some features for a few seconds, as a `Pattern` says. Chat reacts with a
burst of hype messages 20-30 s later only to the patterns that say so (`chat_reacts`); the
others are decoys that chat ignores.
"""

from __future__ import annotations

import csv
import random
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from services.chat.chatlog import log_path
from services.fuser.chat_history import read_features
from services.fuser.model import CONTEXT_S, LoadedModel
from services.fuser.rules import InARow
from services.fuser.signals import feature_names
from services.fuser.training import all_columns, with_context

WALL0 = 1_700_000_000.0
CALM_WORDS = ("what game is this", "hi", "lol", "gg", "nice", "how long is the stream", "o7",
              "is this a rerun", "good morning", "brb", "which map", "cool build")
HYPE_WORDS = ("PogChamp", "KEKW", "W", "LETS GOOOO", "POGGERS", "OMEGALUL", "no way!!!",
              "CLIP IT", "Pog", "LUL LUL LUL")
Z_NOISE = {"loud_z": 1.0, "pitch_var_z": 1.0, "motion_z": 1.0, "voice_arousal": 0.7}
WORD_FEATURES = ("sentiment_z", "hype_words", "excited_margin")


@dataclass(frozen=True)
class Pattern:
    """What a planted moment looks like: each feature it lifts, by an amount drawn from
    (low, high) for each of its seconds, and how many seconds it lasts."""

    name: str
    lifts: Mapping[str, tuple[float, float]]
    seconds: tuple[int, int] = (4, 8)
    chat_reacts: bool = False


EXCITED = Pattern("excited", {
    "loud_z": (2.5, 5.5), "pitch_var_z": (1.5, 3.5), "voice_arousal": (1.5, 3.0),
    "motion_z": (1.0, 4.0), "face_excitement": (0.4, 0.9), "sentiment_z": (0.0, 2.0),
    "hype_words": (0.0, 2.0), "excited_margin": (0.0, 0.3)}, chat_reacts=True)
"""A real highlight: the voice (loud, lively, aroused), the picture, the face and the words."""
CAMERA_SHAKE = Pattern("camera_shake", {"motion_z": (3.0, 6.0)})
"""A decoy: the picture moves a lot (a scene cut, a shaky camera) and nothing else happens."""
SMILE = Pattern("smile", {"face_excitement": (0.3, 0.6)})
"""A decoy: the streamer smiles at a message, silently."""
GAME_NOISE = Pattern("game_noise", {"loud_z": (1.0, 2.5), "motion_z": (1.0, 3.0)})
"""A decoy: the game gets loud and busy, the streamer does not react."""
SHIPPED_MIX: tuple[tuple[Pattern, int], ...] = (
    (EXCITED, 10), (CAMERA_SHAKE, 4), (SMILE, 3), (GAME_NOISE, 3))
"""What one 25-minute stream for the shipped model holds."""


@dataclass(frozen=True)
class Planted:
    """A planted moment: its first second, length, pattern, and when chat's burst began (stream
    time; None when chat ignored it or was off)."""

    t: int
    seconds: int
    pattern: str
    chat_at: float | None = None


@dataclass
class _Stream:
    names: tuple[str, ...]
    x: np.ndarray
    present: np.ndarray
    planted: list[Planted] = field(default_factory=list)


def write_stream(data_dir: Path, channel: str, session: str, seconds: int,
                 patterns: Sequence[tuple[Pattern, int]], seed: int, chat: bool = True,
                 wall0: float = WALL0) -> list[Planted]:
    """Write one session: `events/<channel>/<session>/features.csv` and, with `chat`, its chat
    log. `patterns` says how many moments of each pattern to plant. Returns them."""
    rng = np.random.default_rng(seed)
    stream = _calm(seconds, rng)
    kinds = [p for p, count in patterns for _ in range(count)]
    rng.shuffle(kinds)
    slot = (seconds - 90) / max(len(kinds), 1)
    if kinds and slot < 40:
        raise ValueError(f"{len(kinds)} moments do not fit in {seconds} s (40 s each)")
    for i, pattern in enumerate(kinds):
        start = int(60 + i * slot + rng.uniform(0, slot - 40))
        length = int(rng.integers(pattern.seconds[0], pattern.seconds[1] + 1))
        _plant(stream, pattern, start, length, rng)
        chat_at = start + float(rng.uniform(20, 30)) if chat and pattern.chat_reacts else None
        stream.planted.append(Planted(start, length, pattern.name, chat_at))
    _chat_rate(stream, chat, rng)
    _write_features(data_dir / "events" / channel / session / "features.csv", stream, wall0)
    if chat:
        _write_chat(log_path(data_dir, channel, session), stream, seconds, wall0,
                    random.Random(seed))
    return stream.planted


def write_history(data_dir: Path, channel: str, sessions: int, minutes: float,
                  patterns: Sequence[tuple[Pattern, int]], seed: int,
                  chat: bool = True) -> dict[str, list[Planted]]:
    """Several sessions of one channel, a day apart, `s01`, `s02`, ..."""
    return {f"s{n + 1:02d}": write_stream(data_dir, channel, f"s{n + 1:02d}", int(minutes * 60),
                                          patterns, seed + 1000 * n, chat,
                                          WALL0 + 86_400.0 * n)
            for n in range(sessions)}


def truth(data_dir: Path, channel: str, planted: Mapping[str, Sequence[Planted]],
          exciting: str = EXCITED.name) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Every second of these sessions, with every column a model may read, and the truth:
    1 inside a planted moment of the `exciting` pattern, 0 anywhere else (decoys too)."""
    names = feature_names()
    xs, ys = [], []
    for session, moments in planted.items():
        times, _, x = read_features(data_dir / "events" / channel / session / "features.csv",
                                    names)
        y = np.zeros(len(times), dtype=int)
        for m in moments:
            if m.pattern == exciting:
                y[(times >= m.t) & (times < m.t + m.seconds)] = 1
        xs.append(with_context(x, times))
        ys.append(y)
    return np.vstack(xs), np.concatenate(ys), all_columns(names)


def fires(model: LoadedModel, data_dir: Path, channel: str, session: str,
          threshold: float = 0.8, in_a_row: int = 2) -> list[int]:
    """The seconds the fuser's model rule (P at or above `threshold`, `in_a_row` seconds)
    would clip at in a recorded session, scoring it second by second as the fuser does, with
    the seconds before as context and chat off."""
    names = feature_names()
    times, _, x = read_features(data_dir / "events" / channel / session / "features.csv", names)
    recent: deque[dict[str, float | None]] = deque(maxlen=CONTEXT_S)
    run = InARow(in_a_row)
    found = []
    for t, row in zip(times.tolist(), x, strict=True):
        features: dict[str, float | None] = dict(zip(names, row.tolist(), strict=True))
        if "chat_rate_z" in features:
            features["chat_rate_z"] = None
        first = run.update(t, model.probability(features, recent) >= threshold)
        recent.append(features)
        if first is not None:
            found.append(first)
    return found


def caught(moment: Planted, clips: Sequence[int]) -> bool:
    """Did a clip start on this moment (from a second before it to 3 s after its end)?"""
    return any(moment.t - 1 <= t <= moment.t + moment.seconds + 3 for t in clips)


def tally(planted: Sequence[Planted], clips: Sequence[int]) -> dict[str, str]:
    """Per pattern, how many of its moments a clip caught ("3/4"), and how many clips caught
    no planted moment at all (key "elsewhere")."""
    out = {}
    for name in dict.fromkeys(p.pattern for p in planted):
        mine = [p for p in planted if p.pattern == name]
        out[name] = f"{sum(caught(p, clips) for p in mine)}/{len(mine)}"
    out["elsewhere"] = str(sum(not any(caught(p, [t]) for p in planted) for t in clips))
    return out


def _calm(seconds: int, rng: np.random.Generator) -> _Stream:
    names = feature_names()
    x = np.zeros((seconds, len(names)))
    present = np.zeros((seconds, len(names)), dtype=bool)
    for j, name in enumerate(names):
        if name in Z_NOISE:
            noise = rng.normal(0, Z_NOISE[name], seconds)
            for t in range(1, seconds):  # each second leans on the one before
                noise[t] += 0.5 * noise[t - 1]
            x[:, j], present[:, j] = noise * 0.87, True
        elif name == "face_excitement":
            x[:, j], present[:, j] = np.clip(-0.2 + rng.normal(0, 0.15, seconds), -1, 1), True
    words = rng.random(seconds) < 0.3  # someone speaks in about a third of the seconds
    for name, values in (("sentiment_z", rng.normal(0, 1, seconds)),
                         ("hype_words", (rng.random(seconds) < 0.03).astype(float)),
                         ("excited_margin", rng.normal(-0.1, 0.12, seconds))):
        if name in names:
            j = names.index(name)
            x[:, j], present[:, j] = np.where(words, values, 0.0), words
    return _Stream(names, x, present)


def _plant(stream: _Stream, pattern: Pattern, start: int, length: int,
           rng: np.random.Generator) -> None:
    end = min(start + length, len(stream.x))
    for name, (low, high) in pattern.lifts.items():
        if name not in stream.names:
            continue
        j = stream.names.index(name)
        for t in range(start, end):
            lift = float(rng.uniform(low, high))
            if name in WORD_FEATURES:
                if rng.random() < 0.4:  # words come in some of the moment's seconds
                    value = float(round(lift)) if name == "hype_words" else lift
                    stream.x[t, j], stream.present[t, j] = value, True
            elif name == "face_excitement":
                stream.x[t, j] = min(1.0, stream.x[t, j] + lift)
            else:
                stream.x[t, j] += lift


def _chat_rate(stream: _Stream, chat: bool, rng: np.random.Generator) -> None:
    """The chat feature, as the fuser would record it: high in the seconds whose next 10 s hold
    a burst; empty when chat is off."""
    if "chat_rate_z" not in stream.names or not chat:
        return
    j = stream.names.index("chat_rate_z")
    rate = rng.normal(0, 0.5, len(stream.x))
    for moment in stream.planted:
        if moment.chat_at is not None:
            lo = max(0, int(moment.chat_at) - 10)
            rate[lo:int(moment.chat_at) + 10] = rng.uniform(6, 10)
    stream.x[:, j], stream.present[:, j] = rate, True


def _write_features(path: Path, stream: _Stream, wall0: float) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(("time", "wall", *stream.names))
        for t in range(len(stream.x)):
            cells = [f"{v:.4f}" if ok else "" for v, ok in
                     zip(stream.x[t], stream.present[t], strict=True)]
            writer.writerow([t, f"{wall0 + t:.3f}", *cells])


def _write_chat(path: Path, stream: _Stream, seconds: int, wall0: float,
                rng: random.Random) -> None:
    """Calm chat (about one message in two seconds, varied) and a hyped burst of many people
    wherever chat reacts."""
    lines: list[tuple[float, str, str]] = []
    t = 0.0
    while True:
        t += rng.expovariate(0.6)
        if t >= seconds:
            break
        lines.append((wall0 + t, f"viewer{rng.randrange(300)}", rng.choice(CALM_WORDS)))
    for n, moment in enumerate(stream.planted):
        if moment.chat_at is None:
            continue
        count, over = rng.randint(30, 60), rng.uniform(8, 14)
        for i in range(count):
            lines.append((wall0 + moment.chat_at + over * i / count, f"fan{n}_{i}",
                          rng.choice(HYPE_WORDS)))
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w") as handle:
        for ts, user, text in sorted(lines):
            handle.write(f"{ts:.3f} {user}: {text}\n")
