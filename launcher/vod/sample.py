"""A sample VOD with planted moments, for the tests and `make bench`: made on the spot with
FFmpeg and espeak-ng, like the demo stream (`launcher/demo_media.py`), but of any length and
size and with several moments.

- picture: FFmpeg's test pattern; during each moment the view pans fast;
- sound: quiet room noise and calm talk every few seconds; at each moment a crowd roars and the
  streamer shouts (built here as one WAV track with numpy, so a long VOD needs no huge filter);
- chat (`<seconds> <user>: <message>`): a line every few seconds, and a burst of hype a few
  seconds after each moment. Moments listed first are made stronger (louder, more chat).
"""

from __future__ import annotations

import random
import subprocess
import wave
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from launcher.demo_media import CALM_CHAT, CALM_LINES, CHAT_REACTION_S, HYPE_CHAT, SHOUT

RATE = 22_050  # espeak-ng's own rate
MOMENT_LEN_S = 6.0
TALK_EVERY_S = 7.0


@dataclass(frozen=True)
class SampleVod:
    """The files, and where the moments start (seconds into the video)."""

    video: Path
    chat: Path
    moments: tuple[float, ...]


def make_sample_vod(folder: Path, length_s: int = 600, moments: tuple[float, ...] = (),
                    size: str = "1280x720", fps: int = 30, seed: int = 3) -> SampleVod:
    """Make (or reuse) a VOD of `length_s` seconds with a moment at each time in `moments`."""
    moments = moments or (length_s * 0.2, length_s * 0.5, length_s * 0.8)
    name = f"vod_{length_s}s_{size}_{fps}_{'_'.join(f'{m:g}' for m in moments)}"
    video, chat = folder / f"{name}.mp4", folder / f"{name}_chat.txt"
    if not video.exists():
        folder.mkdir(parents=True, exist_ok=True)
        audio = folder / f"{name}.wav"
        _write_wav(audio, _sound(folder, length_s, moments, seed))
        _encode(video, audio, length_s, moments, size, fps)
        audio.unlink()
    if not chat.exists():
        chat.write_text(chat_script(length_s, moments, seed))
    return SampleVod(video, chat, tuple(moments))


def chat_script(length_s: float, moments: tuple[float, ...], seed: int = 3) -> str:
    """A chat line every ~5 s, and a burst after each moment (bigger for earlier-listed ones)."""
    rng = random.Random(seed)
    lines: list[tuple[float, str, str]] = []
    t = 2.0
    while t < length_s:
        lines.append((t, f"viewer{rng.randint(1, 40)}", rng.choice(CALM_CHAT)))
        t += rng.uniform(4.0, 6.0)
    for k, moment in enumerate(moments):
        for i in range(45 - 8 * k):
            lines.append((moment + CHAT_REACTION_S + i * 0.1, f"fan{i}", rng.choice(HYPE_CHAT)))
    return "".join(f"{t:.2f} {user}: {text}\n" for t, user, text in sorted(lines))


Track = npt.NDArray[np.float32]


def _speak(text: str, speed: int = 160, pitch: int = 50, amp: int = 100) -> Track:
    """Speech from espeak-ng, as floats at `RATE`."""
    raw = subprocess.run(["espeak-ng", "-s", str(speed), "-p", str(pitch), "-a", str(amp),
                          "--stdout", text], check=True, capture_output=True).stdout
    data = raw[44:]  # the WAV header espeak-ng writes is 44 bytes
    pcm = np.frombuffer(data[: len(data) // 2 * 2], dtype="<i2").astype(np.float32)
    return (pcm / np.float32(32768)).astype(np.float32)


def _sound(folder: Path, length_s: int, moments: tuple[float, ...],
           seed: int) -> npt.NDArray[np.float32]:
    rng = np.random.default_rng(seed)
    track = (rng.standard_normal(length_s * RATE) * 0.01).astype(np.float32)  # room noise
    calm = [_speak(line) * 0.5 for line in CALM_LINES]
    at, i = 3.0, 0
    while at < length_s - 5:
        if not any(m - 5 < at < m + MOMENT_LEN_S + 3 for m in moments):
            _add(track, calm[i % len(calm)], at)
            i += 1
        at += TALK_EVERY_S
    shout = _speak(SHOUT, speed=185, pitch=85, amp=200) * 2.0
    for k, moment in enumerate(moments):
        crowd = np.cumsum(rng.standard_normal(int(MOMENT_LEN_S * RATE))).astype(np.float32)
        crowd -= np.convolve(crowd, np.ones(200) / 200, mode="same")  # keep the roar, not drift
        crowd *= (0.9 - 0.15 * k) / max(1e-6, float(np.abs(crowd).max()))
        _add(track, crowd, moment)
        _add(track, shout, moment + 0.5)
    return np.clip(track, -1, 1)


def _add(track: npt.NDArray[np.float32], sound: npt.NDArray[np.float32], at: float) -> None:
    start = int(at * RATE)
    end = min(len(track), start + len(sound))
    track[start:end] += sound[: end - start]


def _write_wav(path: Path, track: npt.NDArray[np.float32]) -> None:
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(RATE)
        out.writeframes((track * 32767).astype("<i2").tobytes())


def _encode(video: Path, audio: Path, length_s: int, moments: tuple[float, ...], size: str,
            fps: int) -> None:
    width, height = (int(x) for x in size.split("x"))
    wide = width + width // 4
    pan = "+".join(f"if(between(t,{m:g},{m + MOMENT_LEN_S:g}),mod((t-{m:g})*900,{wide - width}),0)"
                   for m in moments) or "0"
    partial = video.with_suffix(".part.mp4")
    subprocess.run(
        ["ffmpeg", "-hide_banner", "-loglevel", "error", "-y",
         "-f", "lavfi", "-i", f"testsrc2=size={wide}x{height}:rate={fps}:duration={length_s}",
         "-i", str(audio), "-filter_complex", f"[0:v]crop={width}:{height}:x='{pan}':y=0[v]",
         "-map", "[v]", "-map", "1:a", "-c:v", "libx264", "-preset", "ultrafast",
         "-g", str(2 * fps), "-keyint_min", str(2 * fps), "-sc_threshold", "0",
         "-c:a", "aac", "-b:a", "96k", "-ar", "48000", "-t", str(length_s),
         "-movflags", "+faststart", str(partial)], check=True, capture_output=True)
    partial.rename(video)
