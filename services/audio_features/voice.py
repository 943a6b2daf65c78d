"""Numbers about the voice in a chunk of sound, taken from its voiced frames only.

A pause, a breath or room noise says nothing about how excited a voice is, so each number
here is measured over the frames where someone is speaking with a pitch, and is None when
there is no such frame. None means "no voice here", never "a voice at 0".

- `voiced_mask`: which pitch frames really hold a voice. The pitch tracker (DIO) also finds
  a "pitch" in plain noise, so a frame counts only when the sound repeats itself at that
  pitch's period (a periodicity check).
- `pitch_stats`: mean, spread and range of the pitch, in Hz and semitones.
- `speech_measures`: loudness, brightness (spectral centroid) and spectral tilt of the voiced
  frames. Excited speech is louder, brighter and has more energy up high (a flatter tilt).

Pure numpy: no Redis, no asyncio.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

PERIODIC_MIN = 0.5
"""A pitch frame is voiced when the sound one pitch period later matches it at least this well
(normalised correlation, 1.0 is a perfect repeat). Noise scores about 0.1, speech 0.5-1.0."""
PERIODIC_WIN_S = 0.025  # the stretch of sound compared with itself one period later
TILT_SPLIT_HZ = 1000.0  # tilt: energy above this ...
TILT_TOP_HZ = 5000.0  # ... and below this, against the energy under TILT_SPLIT_HZ
LOW_CUT_HZ = 50.0  # hum and DC below this are left out of tilt and brightness
SILENCE_DB = -120.0


@dataclass(frozen=True, slots=True)
class PitchStats:
    """The pitch of the voiced frames of one chunk. None: too few voiced frames.

    mean_hz: average pitch. var_st2: variance in semitones squared (how much it moves).
    lo_hz, hi_hz: the 10th and 90th percentile (the range the voice covers).
    """

    mean_hz: float | None = None
    var_st2: float | None = None
    lo_hz: float | None = None
    hi_hz: float | None = None


@dataclass(frozen=True, slots=True)
class SpeechMeasures:
    """Loudness and colour of the voiced frames of one chunk; all None without a voice.

    level_db: RMS level of the voiced samples only, dBFS.
    centroid_hz: power-weighted mean frequency of the voiced frames (brightness).
    tilt_db: energy in 1-5 kHz against energy in 50 Hz-1 kHz, in dB (higher: more effort).
    """

    level_db: float | None = None
    centroid_hz: float | None = None
    tilt_db: float | None = None


def voiced_mask(x: FloatArray, times: FloatArray, f0: FloatArray, sr: int) -> BoolArray:
    """True for each pitch frame that really holds a voice.

    A frame with a pitch from the tracker is kept when 25 ms of sound around it correlates
    with the same stretch one pitch period later (best of the period and one sample either
    side). All frames are checked at once with index arrays, so this stays cheap.
    """
    found = np.asarray(f0 > 0.0)
    picked = np.flatnonzero(found)
    if picked.size == 0 or x.size == 0:
        return np.zeros(f0.shape, dtype=bool)
    win = max(8, int(PERIODIC_WIN_S * sr))
    lags = np.round(sr / f0[picked]).astype(np.int64)
    pad = win + int(lags.max()) + 2
    padded = np.concatenate([np.zeros(pad), x, np.zeros(pad)])
    starts = np.round(times[picked] * sr).astype(np.int64) - win // 2 + pad
    idx = starts[:, None] + np.arange(win)[None, :]
    here = padded[idx]
    here_power = np.sum(here * here, axis=1)
    best = np.full(picked.size, -1.0)
    for shift in (-1, 0, 1):
        later = padded[idx + (lags + shift)[:, None]]
        power = here_power * np.sum(later * later, axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            match = np.sum(here * later, axis=1) / np.sqrt(power)
        best = np.maximum(best, np.nan_to_num(match, nan=-1.0))
    out = np.zeros(f0.shape, dtype=bool)
    out[picked] = best >= PERIODIC_MIN
    return out


def pitch_stats(voiced_f0: FloatArray) -> PitchStats:
    """Mean, variance (semitones squared) and 10th/90th percentile of the voiced pitch.

    No voiced frame: all None. One frame: a mean, but no spread or range.
    """
    if voiced_f0.size == 0:
        return PitchStats()
    mean = float(np.mean(voiced_f0))
    if voiced_f0.size < 2:
        return PitchStats(mean_hz=mean)
    semitones = 12.0 * np.log2(voiced_f0 / 100.0)
    lo, hi = np.percentile(voiced_f0, [10.0, 90.0])
    return PitchStats(mean, float(np.var(semitones)), float(lo), float(hi))


def frame_mask(n: int, voiced: BoolArray, step: float) -> BoolArray:
    """Spread the voicing of frames `step` units apart (frame i sits at i * step) over `n`
    positions on a finer grid of one unit: each position takes its nearest frame."""
    if voiced.size == 0 or n <= 0:
        return np.zeros(max(n, 0), dtype=bool)
    nearest = np.minimum(np.round(np.arange(n) / step).astype(np.int64), voiced.size - 1)
    return np.asarray(voiced[nearest], dtype=bool)


def speech_measures(x: FloatArray, samples_voiced: BoolArray, power: FloatArray,
                    frames_voiced: BoolArray, sr: int) -> SpeechMeasures:
    """Loudness, brightness and tilt of the voiced part of a chunk.

    `power` is the power spectrogram (bins x frames) and `frames_voiced` says which of its
    frames are voiced; `samples_voiced` marks the voiced samples of `x` for the level.
    """
    if not samples_voiced.any() or not frames_voiced.any():
        return SpeechMeasures()
    mean_square = float(np.mean(np.square(x[samples_voiced])))
    level = 10.0 * np.log10(mean_square) if mean_square > 0.0 else SILENCE_DB
    freqs = np.linspace(0.0, sr / 2.0, power.shape[0])
    spectrum = power[:, frames_voiced].sum(axis=1)
    spectrum = np.where(freqs >= LOW_CUT_HZ, spectrum, 0.0)
    total = float(spectrum.sum())
    if not np.isfinite(total) or total <= 0.0:
        return SpeechMeasures(level_db=max(level, SILENCE_DB))
    centroid = float(np.dot(freqs, spectrum) / total)
    low = float(spectrum[freqs < TILT_SPLIT_HZ].sum())
    high = float(spectrum[(freqs >= TILT_SPLIT_HZ) & (freqs < min(TILT_TOP_HZ, sr / 2.0))].sum())
    tilt = 10.0 * np.log10(high / low) if high > 0.0 and low > 0.0 else None
    return SpeechMeasures(level_db=max(level, SILENCE_DB), centroid_hz=centroid,
                          tilt_db=None if tilt is None or not np.isfinite(tilt) else float(tilt))
