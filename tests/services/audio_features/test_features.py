"""Tests for the pure audio feature math, on made-up signals with known answers."""

from __future__ import annotations

import dataclasses
import math
import re
import shutil
import subprocess
import time
from pathlib import Path

import librosa
import numpy as np
import numpy.typing as npt
import pytest
import soundfile as sf

from services.audio_features.features import (
    SAMPLE_RATE,
    AudioFeatures,
    extract,
    onset_envelope,
    warm_up,
)

SR = SAMPLE_RATE


def tone(freq: float, seconds: float = 0.5, peak: float = 0.5) -> npt.NDArray[np.float32]:
    """A plain sine wave."""
    t = np.arange(int(seconds * SR)) / SR
    return (peak * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def all_finite(feats: AudioFeatures) -> bool:
    """Every number is finite; the voice numbers may be None (no voice)."""
    return all(v is None or math.isfinite(v) for v in dataclasses.astuple(feats))


def test_warm_up_runs() -> None:
    warm_up()


def test_tone_pitch() -> None:
    feats = extract(tone(220.0))
    assert feats.f0_mean == pytest.approx(220.0, abs=3.0)
    assert feats.voiced_ratio > 0.9


def test_glide_has_more_pitch_variance_than_steady_tone() -> None:
    t = np.arange(SR) / SR
    phase = 2 * np.pi * np.cumsum(np.linspace(150.0, 300.0, t.size)) / SR
    glide = extract((0.5 * np.sin(phase)).astype(np.float32))
    steady = extract(tone(220.0, seconds=1.0))
    assert glide.f0_var is not None and steady.f0_var is not None and glide.f0_mean is not None
    assert steady.f0_var < 0.1  # semitones^2
    assert glide.f0_var > 1.0
    assert glide.f0_var > 10 * steady.f0_var
    assert 150.0 < glide.f0_mean < 300.0


def test_silence_has_no_pitch() -> None:
    """Silence has no pitch: None, never 0.0, for every voice number."""
    feats = extract(np.zeros(8000, dtype=np.float32))
    assert feats.voiced_ratio == 0.0
    assert feats.loud_db <= -60.0
    assert feats.f0_mean is None and feats.f0_var is None
    assert feats.f0_lo is None and feats.f0_hi is None
    assert feats.speech_db is None and feats.speech_centroid is None and feats.tilt_db is None


def test_white_noise_is_not_a_voice() -> None:
    """The pitch tracker finds a "pitch" in about a third of white-noise frames; the
    periodicity check throws those out."""
    noise = np.random.default_rng(5).normal(0.0, 0.05, 8000).astype(np.float32)
    feats = extract(noise)
    assert feats.voiced_ratio < 0.05


@pytest.mark.parametrize("as_int16", [False, True], ids=["float32", "int16"])
def test_minus_20_dbfs_sine_level_matches_ffmpeg(tmp_path: Path, as_int16: bool) -> None:
    ffmpeg = shutil.which("ffmpeg")
    assert ffmpeg is not None, "ffmpeg must be installed for this test"
    sig = tone(1000.0, seconds=1.0, peak=10 ** (-20 / 20))
    data: npt.NDArray[np.generic] = np.round(sig * 32768).astype(np.int16) if as_int16 else sig
    feats = extract(data)
    assert feats.loud_db == pytest.approx(-23.01, abs=0.5)
    assert feats.peak_db == pytest.approx(-20.0, abs=0.1)

    wav = tmp_path / "sine.wav"
    sf.write(wav, data, SR, subtype="PCM_16" if as_int16 else "FLOAT")
    proc = subprocess.run(
        [ffmpeg, "-hide_banner", "-nostats", "-i", str(wav), "-af", "astats", "-f", "null", "-"],
        capture_output=True, text=True, check=True,
    )
    overall = proc.stderr.split("Overall", 1)[1]
    match = re.search(r"RMS level dB:\s*(-?[\d.]+)", overall)
    assert match is not None, proc.stderr
    assert feats.loud_db == pytest.approx(float(match.group(1)), abs=0.5)


def test_noise_is_brighter_than_low_tone() -> None:
    noise = np.random.default_rng(1).normal(0.0, 0.2, 8000).astype(np.float32)
    assert extract(noise).spectral_centroid > 4 * extract(tone(200.0)).spectral_centroid


def test_click_train_onsets() -> None:
    clicks = [0.25, 0.75, 1.25, 1.75]
    sig = np.random.default_rng(2).normal(0.0, 1e-3, 2 * SR)
    for c in clicks:
        i = int(c * SR)
        sig[i:i + 16] += 0.8 * np.hanning(16)
    times, env = onset_envelope(sig.astype(np.float32))
    assert times.shape == env.shape
    assert np.all(np.diff(times) > 0)
    # The four strongest local peaks are the clicks, each within 30 ms.
    peaks = [i for i in range(1, env.size - 1) if env[i] >= env[i - 1] and env[i] > env[i + 1]]
    top = sorted(sorted(peaks, key=lambda i: env[i])[-4:])
    assert len(top) == 4
    for i, c in zip(top, clicks, strict=True):
        assert abs(times[i] - c) <= 0.03
    feats = extract(sig)
    assert feats.onset_max > 5 * feats.onset_mean


def test_espeak_vowel_a_first_formant(tmp_path: Path) -> None:
    espeak = shutil.which("espeak-ng")
    assert espeak is not None, "espeak-ng must be installed for this test"
    wav = tmp_path / "a.wav"
    subprocess.run([espeak, "-s", "80", "-w", str(wav), "[[A:]]"], check=True)  # sustained /a/
    raw, rate = sf.read(wav, dtype="float32")
    feats = extract(librosa.resample(raw, orig_sr=rate, target_sr=SR))
    assert feats.voiced_ratio > 0.2
    assert 500.0 <= feats.f1 <= 1000.0
    assert feats.f1 < feats.f2 < feats.f3
    assert feats.f0_mean is not None and 70.0 < feats.f0_mean < 200.0


def test_int16_and_float_agree() -> None:
    sig = tone(330.0, peak=0.25)
    a = extract(sig)
    b = extract(np.round(sig * 32768).astype(np.int16))
    assert a.loud_db == pytest.approx(b.loud_db, abs=0.01)
    assert a.f0_mean == pytest.approx(b.f0_mean, abs=0.5)


_SQUARE = np.sign(np.sin(2 * np.pi * 200 * np.arange(8000) / SR))
_WITH_NAN = tone(200.0).copy()
_WITH_NAN[::7] = np.nan


@pytest.mark.parametrize(
    "samples",
    [
        np.zeros(8000, dtype=np.float32),
        np.zeros(8000, dtype=np.int16),
        _SQUARE.astype(np.float32),
        (_SQUARE * 32767).astype(np.int16),
        np.full(8000, -32768, dtype=np.int16),
        (3.0 * _SQUARE).astype(np.float32),
        np.random.default_rng(3).normal(0.0, 0.5, 8000).astype(np.float32),
        np.full(8000, np.nan, dtype=np.float32),
        _WITH_NAN,
        np.array([np.inf, -np.inf, np.nan] * 100, dtype=np.float64),
        np.array([0.5], dtype=np.float32),
        np.array([0], dtype=np.int16),
        np.array([], dtype=np.float32),
        np.full(8000, 1e-12, dtype=np.float64),
    ],
    ids=["zeros", "zeros16", "clipped", "clipped16", "dc16", "overdriven", "noise", "all-nan",
         "some-nan", "inf", "one-sample", "one-int16", "empty", "tiny"],
)
def test_bad_input_gives_finite_features(samples: npt.NDArray[np.generic]) -> None:
    feats = extract(samples)
    assert all_finite(feats)
    assert 0.0 <= feats.voiced_ratio <= 1.0
    assert 0.0 <= feats.clipped_ratio <= 1.0
    assert feats.loud_db >= -120.0
    times, env = onset_envelope(samples)
    assert np.all(np.isfinite(times)) and np.all(np.isfinite(env))


def test_clipping_is_counted() -> None:
    assert extract(_SQUARE.astype(np.float32)).clipped_ratio > 0.99
    assert extract((_SQUARE * 32767).astype(np.int16)).clipped_ratio > 0.99
    assert extract(tone(200.0)).clipped_ratio == 0.0


def test_print_cost_per_stream_second() -> None:
    """Not a pass/fail check: prints CPU ms per second of audio (run with -s)."""
    warm_up()
    rng = np.random.default_rng(4)
    chunks = [(0.1 * rng.normal(size=8000) + tone(150.0 + 10 * i)).astype(np.float32)
              for i in range(20)]
    start = time.process_time()
    for chunk in chunks:
        extract(chunk)
    cpu_ms = (time.process_time() - start) * 1000.0 / (len(chunks) * 0.5)
    print(f"\naudio features: {cpu_ms:.1f} CPU ms per stream-second (0.5 s chunks)")
