"""Numbers that describe a short piece of sound.

This module is pure signal math: numpy samples go in, a small frozen
``AudioFeatures`` record comes out. It knows nothing about Redis or asyncio,
so it is easy to test with made-up signals whose answers we already know.

Input is mono audio at 16 kHz (other rates work too), either float samples
where 1.0 is full scale, or int16 samples where 32768 is full scale.
Every number we return is finite or None, whatever comes in: silence, clipping,
noise, a single sample, or NaN values (NaN and inf are read as 0). None means
"there is no voice to measure" (see `voice`): a chunk without a voiced frame
has no pitch, never a pitch of 0.

Set ``OPENBLAS_NUM_THREADS=1`` in the worker: the LPC root finding uses
numpy's linear algebra, and spinning BLAS threads waste CPU.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import librosa
import numpy as np
import numpy.typing as npt

with warnings.catch_warnings():  # pyworld reads its version through the old pkg_resources.
    warnings.simplefilter("ignore", UserWarning)
    import pyworld  # requirements.txt pins setuptools<81, which still has pkg_resources

from services.audio_features.voice import frame_mask, pitch_stats, speech_measures, voiced_mask

SAMPLE_RATE = 16_000
SILENCE_DB = -120.0  # quietest level we report, instead of -inf
F0_FLOOR_HZ = 60.0  # lowest pitch we look for
F0_CEIL_HZ = 800.0  # highest pitch we look for
FRAME_PERIOD_MS = 5.0  # one pitch value every 5 ms
N_FFT = 512  # 32 ms spectrum window at 16 kHz
HOP = 160  # 10 ms between spectrum frames at 16 kHz
N_MELS = 40  # mel bands for the onset envelope (128 leaves empty bands at n_fft 512)
MIN_LEN = N_FFT  # shorter inputs are padded with silence up to this
PRE_EMPHASIS = 0.97  # tilts the spectrum up so LPC sees the upper formants
FORMANT_WIN_S = 0.025  # 25 ms LPC window
MAX_FORMANT_FRAMES = 25  # at most this many voiced frames go through LPC
FORMANT_MIN_HZ = 90.0
FORMANT_MAX_BW_HZ = 400.0
_FULL_SCALE = 32767.0 / 32768.0  # an int16 sample at the rail, read as float

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class AudioFeatures:
    """What one chunk of sound is like.

    loud_db: RMS level in dBFS, like FFmpeg astats "RMS level dB" (-120 for silence).
    peak_db: loudest single sample in dBFS (-120 for silence).
    f0_mean: average pitch in Hz over voiced frames (None when nothing is voiced).
    f0_var: how much the pitch moves: variance in semitones squared (None if < 2 voiced frames).
    voiced_ratio: share of 5 ms frames with a voice (a pitch that passes the periodicity
        check), 0..1.
    f1, f2, f3: first three formants in Hz from LPC on voiced frames (0.0 when not found).
    spectral_centroid: "brightness" in Hz, the loudness-weighted mean of librosa's centroid.
    onset_mean, onset_max: mean and max of librosa's onset strength envelope.
    clipped_ratio: share of samples stuck at full scale, 0..1.
    f0_lo, f0_hi: 10th and 90th percentile of the voiced pitch, Hz (None if < 2 voiced frames).
    speech_db: RMS level of the voiced samples only, dBFS (None without a voice).
    speech_centroid: brightness of the voiced frames, Hz (None without a voice).
    tilt_db: energy in 1-5 kHz over energy in 50 Hz-1 kHz of the voiced frames, dB (None
        without a voice). Louder, more excited speech has a flatter tilt (a higher number).
    """

    loud_db: float
    peak_db: float
    f0_mean: float | None
    f0_var: float | None
    voiced_ratio: float
    f1: float
    f2: float
    f3: float
    spectral_centroid: float
    onset_mean: float
    onset_max: float
    clipped_ratio: float
    f0_lo: float | None = None
    f0_hi: float | None = None
    speech_db: float | None = None
    speech_centroid: float | None = None
    tilt_db: float | None = None


def to_float(samples: npt.ArrayLike) -> FloatArray:
    """Turn any mono input into clean float64 samples where 1.0 is full scale.

    int16 is divided by 32768, NaN and inf become 0, and a (samples, channels)
    array is averaged down to one channel. We do this first so that no later
    step ever sees a bad number.
    """
    arr = np.asarray(samples)
    if arr.ndim > 1:
        arr = arr.reshape(arr.shape[0], -1).mean(axis=1)
    if arr.dtype == np.int16:
        out = arr.astype(np.float64) / 32768.0
    elif np.issubdtype(arr.dtype, np.integer):
        out = arr.astype(np.float64) / float(np.iinfo(arr.dtype).max + 1)
    else:
        out = arr.astype(np.float64)
    return np.ascontiguousarray(np.nan_to_num(out.ravel(), nan=0.0, posinf=0.0, neginf=0.0))


def _db(value: float) -> float:
    """Amplitude to decibels, floored at SILENCE_DB so silence is not -inf."""
    if not np.isfinite(value) or value <= 10.0 ** (SILENCE_DB / 20.0):
        return SILENCE_DB
    return float(20.0 * np.log10(value))


def levels(x: FloatArray) -> tuple[float, float, float]:
    """Return (rms dBFS, peak dBFS, clipped share) of float samples.

    RMS is sqrt(mean(x^2)), the same as FFmpeg astats. A sample counts as
    clipped when it sits at full scale (|x| >= 32767/32768).
    """
    if x.size == 0:
        return SILENCE_DB, SILENCE_DB, 0.0
    rms = float(np.sqrt(np.mean(np.square(x))))
    peak = float(np.max(np.abs(x)))
    clipped = float(np.mean(np.abs(x) >= _FULL_SCALE))
    return _db(rms), _db(peak), clipped


def pitch_track(x: FloatArray, sr: int = SAMPLE_RATE) -> tuple[FloatArray, FloatArray]:
    """Find the pitch every 5 ms with WORLD's DIO, refined by StoneMask.

    Returns (times in s, f0 in Hz); f0 is 0.0 where the frame is unvoiced.
    DIO is fast (about 6 ms per second of audio) and good enough for
    "is the voice going up or down".
    """
    padded = _pad(x)
    f0, times = pyworld.dio(padded, sr, f0_floor=F0_FLOOR_HZ, f0_ceil=F0_CEIL_HZ,
                            frame_period=FRAME_PERIOD_MS)
    f0 = pyworld.stonemask(padded, f0, times, sr)
    f0 = np.nan_to_num(np.asarray(f0, dtype=np.float64), nan=0.0, posinf=0.0, neginf=0.0)
    keep = times < max(x.size / sr, 1e-9)  # drop frames that lie in the padding
    return np.asarray(times, dtype=np.float64)[keep], np.where(f0 > 0.0, f0, 0.0)[keep]


def lpc_formants(frame: FloatArray, sr: int = SAMPLE_RATE) -> list[float]:
    """Formant frequencies (Hz, ascending) of one windowed, pre-emphasised frame.

    We fit an all-pole (LPC) model of order 2 + sr/1000 and read formants from
    its roots: each root above the real axis is a resonance with a frequency
    (its angle) and a bandwidth (how close it sits to the unit circle). Only
    sharp resonances (bandwidth < 400 Hz) above 90 Hz count as formants.
    """
    order = 2 + sr // 1000
    if frame.size <= order or not np.any(frame):
        return []
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            a = librosa.lpc(frame, order=order)
        roots = np.roots(a)
    except (FloatingPointError, np.linalg.LinAlgError, ValueError):
        return []
    roots = roots[np.imag(roots) > 0.0]
    freqs = np.angle(roots) * sr / (2.0 * np.pi)
    bws = -(sr / np.pi) * np.log(np.maximum(np.abs(roots), 1e-12))
    good = (freqs > FORMANT_MIN_HZ) & (bws < FORMANT_MAX_BW_HZ) & np.isfinite(freqs)
    return sorted(float(f) for f in freqs[good])


def formants(x: FloatArray, voiced_times: FloatArray,
             sr: int = SAMPLE_RATE) -> tuple[float, float, float]:
    """Median F1, F2, F3 (Hz) over up to 25 voiced frames; 0.0 where none found.

    Steps: pre-emphasis (x[n] - 0.97 x[n-1]), a 25 ms Hamming window around
    each voiced frame time, then ``lpc_formants``. The median ignores the odd
    frame where LPC grabbed a harmonic instead of a formant.
    """
    if voiced_times.size == 0 or x.size < 2:
        return 0.0, 0.0, 0.0
    emph = np.append(x[0], x[1:] - PRE_EMPHASIS * x[:-1])
    win = int(FORMANT_WIN_S * sr)
    window = np.hamming(win)
    step = max(1, int(np.ceil(voiced_times.size / MAX_FORMANT_FRAMES)))
    found: list[list[float]] = [[], [], []]
    for t in voiced_times[::step]:
        start = round(float(t) * sr) - win // 2
        start = min(max(start, 0), max(emph.size - win, 0))
        seg = emph[start:start + win]
        if seg.size < win:
            continue
        for i, f in enumerate(lpc_formants(seg * window, sr)[:3]):
            found[i].append(f)
    f1, f2, f3 = (float(np.median(v)) if v else 0.0 for v in found)
    return f1, f2, f3


def spectrogram(x: FloatArray) -> FloatArray:
    """Magnitude spectrogram (bins x frames): 32 ms windows every 10 ms. Made once per chunk
    and shared by brightness, tilt and onsets."""
    return np.asarray(np.abs(librosa.stft(_pad(x), n_fft=N_FFT, hop_length=HOP)),
                      dtype=np.float64)


def spectral_centroid(spec: FloatArray, sr: int = SAMPLE_RATE) -> float:
    """Brightness in Hz: librosa's per-frame spectral centroid, averaged with
    each frame weighted by its loudness so silent frames do not pull it to 0."""
    weights = spec.sum(axis=0)
    total = float(weights.sum())
    if not np.isfinite(total) or total <= 0.0:
        return 0.0
    cent = librosa.feature.spectral_centroid(S=spec, sr=sr, n_fft=N_FFT, hop_length=HOP)[0]
    value = float(np.sum(np.nan_to_num(cent) * weights) / total)
    return value if np.isfinite(value) else 0.0


def onset_envelope(samples: npt.ArrayLike, sr: int = SAMPLE_RATE) -> tuple[FloatArray, FloatArray]:
    """How suddenly the sound gets louder, every 10 ms.

    Returns (times in s, strength). A clap, a shout or a drum hit shows up as
    a peak at its time. Uses librosa's onset_strength on a 40-band mel
    spectrogram (32 ms windows, 10 ms hop).
    """
    return onsets_from(spectrogram(to_float(samples)), sr)


def onsets_from(spec: FloatArray, sr: int = SAMPLE_RATE) -> tuple[FloatArray, FloatArray]:
    """`onset_envelope`, from a magnitude spectrogram made by `spectrogram`: the same
    40-band log-mel spectrogram that librosa would make from the samples."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        mel = librosa.feature.melspectrogram(S=np.square(spec), sr=sr, n_fft=N_FFT,
                                             n_mels=N_MELS)
        env = librosa.onset.onset_strength(S=librosa.power_to_db(mel), sr=sr, n_fft=N_FFT,
                                           hop_length=HOP)
    env = np.nan_to_num(np.asarray(env, dtype=np.float64), nan=0.0, posinf=0.0, neginf=0.0)
    times = librosa.times_like(env, sr=sr, hop_length=HOP).astype(np.float64)
    return times, env


def extract(samples: npt.ArrayLike, sr: int = SAMPLE_RATE) -> AudioFeatures:
    """Compute every feature of one chunk of mono audio (0.5 s is typical)."""
    x = to_float(samples)
    loud_db, peak_db, clipped = levels(x)
    if x.size == 0:
        return AudioFeatures(loud_db, peak_db, None, None, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0,
                             clipped)
    times, f0 = pitch_track(x, sr)
    voiced = voiced_mask(x, times, f0, sr)
    pitch = pitch_stats(f0[voiced])
    voiced_ratio = float(np.mean(voiced)) if voiced.size else 0.0
    f1, f2, f3 = formants(x, times[voiced], sr)
    spec = spectrogram(x)
    _, env = onsets_from(spec, sr)
    frame_step = FRAME_PERIOD_MS / 1000.0 * sr  # samples between pitch frames
    speech = speech_measures(x, frame_mask(x.size, voiced, frame_step), np.square(spec),
                             frame_mask(spec.shape[1], voiced, frame_step / HOP), sr)
    return AudioFeatures(
        loud_db=loud_db,
        peak_db=peak_db,
        f0_mean=_maybe(pitch.mean_hz),
        f0_var=_maybe(pitch.var_st2),
        voiced_ratio=_finite(voiced_ratio),
        f1=_finite(f1),
        f2=_finite(f2),
        f3=_finite(f3),
        spectral_centroid=_finite(spectral_centroid(spec, sr)),
        onset_mean=_finite(float(np.mean(env)) if env.size else 0.0),
        onset_max=_finite(float(np.max(env)) if env.size else 0.0),
        clipped_ratio=_finite(clipped),
        f0_lo=_maybe(pitch.lo_hz),
        f0_hi=_maybe(pitch.hi_hz),
        speech_db=_maybe(speech.level_db),
        speech_centroid=_maybe(speech.centroid_hz),
        tilt_db=_maybe(speech.tilt_db),
    )


def warm_up() -> None:
    """Run one small analysis so the slow first-call setup happens now.

    librosa's first call (and numba compiling LPC) costs over a second;
    services call this at start so the first real chunk is not late.
    """
    t = np.arange(SAMPLE_RATE // 4) / SAMPLE_RATE
    tone = 0.3 * np.sign(np.sin(2.0 * np.pi * 150.0 * t)) * np.exp(-3.0 * t)
    extract(tone.astype(np.float32))


def _pad(x: FloatArray) -> FloatArray:
    """Pad very short input with silence so the FFT-based tools have a full window."""
    if x.size >= MIN_LEN:
        return x
    return np.concatenate([x, np.zeros(MIN_LEN - x.size)])


def _finite(value: float) -> float:
    """Belt and braces: any NaN or inf that slipped through becomes 0.0."""
    return float(value) if np.isfinite(value) else 0.0


def _maybe(value: float | None) -> float | None:
    """Like `_finite`, for a number that may be absent: NaN or inf becomes None."""
    return float(value) if value is not None and np.isfinite(value) else None
