"""Plain conversions between bus messages and the recogniser: audio chunks in, captions out."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from services.asr.streaming import Update
from services.asr.vad import SAMPLE_RATE, Audio
from shared.contracts import AudioChunk, Caption, Word

GAP_SLACK_S = 0.05


@dataclass(frozen=True)
class AudioRun:
    """Audio of one session with no gap inside, starting at stream time `t`."""

    session: str
    t: float
    audio: Audio


def pcm_to_float(pcm: bytes, rate: int = SAMPLE_RATE) -> Audio:
    """s16le PCM -> float samples at 16 kHz (other rates are resampled, simply)."""
    samples = np.frombuffer(pcm[: len(pcm) // 2 * 2], dtype="<i2").astype(np.float32) / 32768.0
    if rate != SAMPLE_RATE and len(samples):
        n = round(len(samples) * SAMPLE_RATE / rate)
        where = np.linspace(0, len(samples) - 1, n)
        samples = np.interp(where, np.arange(len(samples)), samples).astype(np.float32)
    return samples


def audio_runs(chunks: Sequence[tuple[AudioChunk, bytes]]) -> list[AudioRun]:
    """Join chunks that follow each other into runs; a new session or a gap starts a new run."""
    runs: list[AudioRun] = []
    parts: list[Audio] = []
    session, start, end = "", 0.0, 0.0
    for chunk, pcm in chunks:
        audio = pcm_to_float(pcm, chunk.sample_rate)
        if parts and (chunk.session != session or abs(chunk.t - end) > GAP_SLACK_S):
            runs.append(AudioRun(session, start, np.concatenate(parts)))
            parts = []
        if not parts:
            session, start, end = chunk.session, chunk.t, chunk.t
        parts.append(audio)
        end += len(audio) / SAMPLE_RATE
    if parts:
        runs.append(AudioRun(session, start, np.concatenate(parts)))
    return runs


def caption(update: Update, channel: str, session: str, wall: float) -> Caption:
    """A Caption for an update; `wall` is the Unix time when its first word was captured."""
    t = max(0.0, update.words[0].start)
    return Caption(
        channel=channel, session=session, t=t, dur=max(0.0, update.words[-1].end - t),
        wall=wall, text=update.text, final=update.final,
        words=[Word(text=w.text, start=w.start, end=w.end) for w in update.words],
    )
