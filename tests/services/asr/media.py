"""Test sound for the asr tests and bench, made on the spot with espeak-ng and sox.

Everything is 16 kHz mono s16 (numpy int16), like the ingest service's audio chunks.
"""

from __future__ import annotations

import asyncio
import subprocess
import time
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from shared.bus import Bus
from shared.contracts import AudioChunk
from shared.streams import AUDIO

RATE = 16_000
CHUNK_S = 0.5
Pcm = npt.NDArray[np.int16]

SENTENCES = [
    "oh my god that was an insane clutch",
    "let me check the settings menu",
    "we need to push the objective right now",
    "thanks for the follow everyone",
]


def _sox_raw(
    source: Sequence[str], effects: Sequence[str] = (), stdin: bytes | None = None
) -> Pcm:
    """Run sox on `source` with `effects` and read its output as 16 kHz mono s16."""
    out_format = ["-r", str(RATE), "-c", "1", "-b", "16", "-e", "signed", "-t", "raw", "-"]
    out = subprocess.run(
        ["sox", *source, *out_format, *effects], input=stdin, capture_output=True, check=True,
    ).stdout
    return np.frombuffer(out, dtype="<i2").copy()


def speech(text: str, voice: str = "en", speed: int = 150) -> Pcm:
    """espeak-ng saying `text`."""
    wav = subprocess.run(
        ["espeak-ng", "-v", voice, "-s", str(speed), "--stdout", text],
        capture_output=True, check=True,
    ).stdout
    return _sox_raw(["-t", "wav", "-"], stdin=wav)


def silence(seconds: float) -> Pcm:
    return np.zeros(int(seconds * RATE), dtype=np.int16)


def sentences(texts: Sequence[str], gap_s: float = 1.0, voice: str = "en") -> Pcm:
    """The sentences one after another with `gap_s` of silence after each."""
    return np.concatenate([np.concatenate([speech(t, voice), silence(gap_s)]) for t in texts])


def long_speech(seconds: float) -> Pcm:
    """Speech with short pauses, about `seconds` long (the test sentences again and again)."""
    parts: list[Pcm] = []
    total = 0
    i = 0
    while total < seconds * RATE:
        part = np.concatenate([speech(SENTENCES[i % len(SENTENCES)]), silence(0.3)])
        parts.append(part)
        total += len(part)
        i += 1
    return np.concatenate(parts)[: int(seconds * RATE)]


def noise(seconds: float, color: str = "whitenoise", volume: float = 0.3) -> Pcm:
    return _sox_raw(["-r", str(RATE), "-n"], ["synth", str(seconds), color, "vol", str(volume)])


def chords(seconds: float) -> Pcm:
    """Music-like sound: plucked and sine chords that change every second."""
    steps = [("pluck", (261.6, 329.6, 392.0)), ("sine", (293.7, 370.0, 440.0)),
             ("pluck", (196.0, 246.9, 293.7)), ("sine", (220.0, 261.6, 329.6))]
    parts = []
    for i in range(int(np.ceil(seconds))):
        kind, notes = steps[i % len(steps)]
        effects = ["synth", "1"]
        for f in notes:
            effects += [kind, str(f)]
        parts.append(_sox_raw(["-r", "48000", "-n"], [*effects, "remix", "-", "vol", "0.4"]))
    return np.concatenate(parts)[: int(seconds * RATE)]


def as_float(pcm: Pcm) -> npt.NDArray[np.float32]:
    return pcm.astype(np.float32) / 32768.0


def chunks(pcm: Pcm) -> list[tuple[float, Pcm]]:
    """Cut into 0.5 s pieces: (stream t, samples)."""
    step = int(CHUNK_S * RATE)
    return [(i / RATE, pcm[i : i + step]) for i in range(0, len(pcm), step)]


async def publish_audio(
    bus: Bus, channel: str, session: str, pcm: Pcm, live: bool, wall0: float | None = None,
    t0: float = 0.0,
) -> float:
    """Publish the audio as AudioChunks, the first at stream time `t0`. `live`: each chunk once
    its half second has passed, like a real capture (chunk k at wall0 + (k+1) x 0.5 s). Returns
    wall0, the wall time of stream time 0."""
    wall0 = time.time() - t0 if wall0 is None else wall0
    for start, piece in chunks(pcm):
        t = t0 + start
        dur = len(piece) / RATE
        if live:
            await asyncio.sleep(max(0.0, wall0 + t + dur - time.time()))
        chunk = AudioChunk(channel=channel, session=session, t=t, dur=dur, wall=wall0 + t,
                           samples=len(piece))
        await bus.publish(AUDIO, chunk, channel=channel, blobs={"pcm": piece.tobytes()})
    return wall0
