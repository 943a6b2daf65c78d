"""Made-up voices with known answers, for the voice tests: numpy signals, no recordings.

A voice here is a sum of harmonics of a pitch that moves (a contour), shaped into syllables
with short gaps and longer pauses between phrases. Calm and shouted speech differ where real
speech does: a shout is louder, higher, moves its pitch more, is brighter (its harmonics
fall off more slowly) and its syllables start harder and come faster.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

SR = 16_000
FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class Voice:
    """How one way of speaking sounds."""

    f0: float  # pitch in Hz
    swing_st: float  # how far the pitch contour moves, semitones either side
    level_db: float  # RMS level while speaking, dBFS
    rolloff: float  # harmonic k has amplitude k ** -rolloff: higher is duller
    syllables_per_s: float
    attack_s: float  # how fast a syllable starts
    pause_every_s: float  # a phrase ends (a pause) about this often
    pause_s: float


CALM = Voice(f0=110.0, swing_st=1.5, level_db=-30.0, rolloff=2.2, syllables_per_s=3.5,
             attack_s=0.05, pause_every_s=3.0, pause_s=0.8)
SHOUT = Voice(f0=210.0, swing_st=4.0, level_db=-14.0, rolloff=1.0, syllables_per_s=5.0,
              attack_s=0.01, pause_every_s=10.0, pause_s=0.2)


def speak(voice: Voice, seconds: float, seed: int = 0) -> FloatArray:
    """`seconds` of the voice: float samples at 16 kHz."""
    rng = np.random.default_rng(seed)
    n = int(seconds * SR)
    t = np.arange(n) / SR
    drift = np.cumsum(rng.normal(0.0, 0.02, n)) / np.sqrt(SR)  # a slow random wander
    contour = voice.swing_st * np.sin(2 * np.pi * 0.6 * t + rng.uniform(0, 6.3)) + drift * 10
    f0 = voice.f0 * 2.0 ** (contour / 12.0)
    phase = 2 * np.pi * np.cumsum(f0) / SR
    wave = np.zeros(n)
    for k in range(1, int(5000 / voice.f0)):
        wave += np.where(k * f0 < SR / 2 - 200, k ** -voice.rolloff * np.sin(k * phase), 0.0)
    envelope = _syllables(voice, n, rng)
    speech = wave * envelope
    speaking = envelope > 0.5
    rms = np.sqrt(np.mean(np.square(speech[speaking]))) if speaking.any() else 1.0
    out = speech * (10 ** (voice.level_db / 20) / rms)
    return out + rng.normal(0.0, 10 ** (-70 / 20), n)  # a faint room hiss


def _syllables(voice: Voice, n: int, rng: np.random.Generator) -> FloatArray:
    """An on/off shape: syllables with small gaps, and a pause after each phrase."""
    env = np.zeros(n)
    at = 0.1
    next_pause = voice.pause_every_s * rng.uniform(0.7, 1.3)
    while at * SR < n:
        length = rng.uniform(0.6, 1.0) / voice.syllables_per_s
        start, stop = int(at * SR), min(n, int((at + length) * SR))
        ramp = np.minimum(1.0, np.arange(stop - start) / (voice.attack_s * SR))
        fall = np.minimum(1.0, (stop - start - np.arange(stop - start)) / (0.03 * SR))
        env[start:stop] = np.minimum(ramp, fall)
        at += length + rng.uniform(0.15, 0.35) / voice.syllables_per_s
        if at >= next_pause:
            at += voice.pause_s * rng.uniform(0.8, 1.2)
            next_pause = at + voice.pause_every_s * rng.uniform(0.7, 1.3)
    return env


def pcm(samples: FloatArray) -> bytes:
    """Float samples as the s16le PCM that ingest sends."""
    return bytes(np.round(np.clip(samples, -1.0, 32767 / 32768) * 32768).astype("<i2").tobytes())
