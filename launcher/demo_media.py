"""The demo stream: three minutes of a calm stream with one exciting moment, made on the spot.

Made with FFmpeg and espeak-ng, so it needs no download:
- picture: FFmpeg's test pattern; during the moment the view pans fast (a burst of motion);
- sound: quiet room noise and calm talk; at the moment a loud crowd roars and the streamer
  shouts "oh my god that was insane, what a clutch";
- chat: a message every few seconds, and a burst of hype a few seconds after the moment.

The same media without the moment (`excited=False`) is the "nothing happens" control.
"""

from __future__ import annotations

import random
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

Progress = Callable[[float], None]
"""Told how much of the demo is made, from 0 to 1."""
SPEECH_SHARE = 0.1
"""The part of the work that making speech takes; mixing the video is the rest."""

DURATION_S = 180
MOMENT_S = 90.0
"""Where the exciting moment starts, in seconds of media time."""
MOMENT_LEN_S = 6.0
CHAT_REACTION_S = 4.0
"""Viewers type a few seconds after they see the moment."""

CALM_LINES = ["okay so let me check the settings menu", "alright we go to the next area now",
              "let me see what we have in the inventory", "I think we need more wood here",
              "thanks for the follow, welcome in", "so this part is a bit slow, bear with me"]
TALK_EVERY_S = 7.0
"""The streamer talks calmly most of the time, so talking alone is not news."""
SHOUT = "oh my god that was insane, what a clutch!"
CROWD_AMPLITUDE = 0.45
"""The roar under the shout. Louder (0.9) buried the words for the tiny speech model in some
runs ("oh my god, that's what I'm saying, what a flush"), and with them the voice's vote."""
NOISE_SEEDS = (7, 11)
"""The room's and the crowd's noise, fixed: the same demo every time it is made."""
CALM_CHAT = ["hi everyone", "what game is this", "nice", "lol", "how long have you been live",
             "gg", "hello from spain", "this song is good"]
HYPE_CHAT = ["POGGERS", "OMG CLUTCH", "KEKW", "W", "LETS GOOO!!!", "PogChamp PogChamp",
             "INSANE", "NO WAY!!!", "OMEGALUL", "HOLY"]


@dataclass(frozen=True)
class DemoMedia:
    """The demo's files: a video with sound, and the chat as `<seconds> <user>: <message>`."""

    video: Path
    chat: Path
    moment: float | None


def make_demo(folder: Path, excited: bool = True, progress: Progress | None = None) -> DemoMedia:
    """Make the demo media in `folder` (or reuse it when it is already there). `progress`
    hears how far it is, since the first time takes a while."""
    name = "demo" if excited else "demo_calm"
    video, chat = folder / f"{name}.mp4", folder / f"{name}_chat.txt"
    if not video.exists():
        folder.mkdir(parents=True, exist_ok=True)
        _make_video(folder, video, excited, progress or (lambda done: None))
    if not chat.exists():
        chat.write_text(chat_script(excited))
    return DemoMedia(video, chat, MOMENT_S if excited else None)


def chat_script(excited: bool, seed: int = 7) -> str:
    """Chat lines with their media time: one every ~5 s, and a burst after the moment."""
    rng = random.Random(seed)
    lines: list[tuple[float, str, str]] = []
    t = 2.0
    while t < DURATION_S:
        lines.append((t, f"viewer{rng.randint(1, 40)}", rng.choice(CALM_CHAT)))
        t += rng.uniform(4.0, 6.0)
    if excited:
        start = MOMENT_S + CHAT_REACTION_S
        for i in range(45):
            lines.append((start + i * 0.1, f"fan{i}", rng.choice(HYPE_CHAT)))
    return "".join(f"{t:.2f} {user}: {text}\n" for t, user, text in sorted(lines))


def _speak(text: str, path: Path, speed: int = 160, pitch: int = 50, amp: int = 100) -> None:
    subprocess.run(["espeak-ng", "-s", str(speed), "-p", str(pitch), "-a", str(amp), "-w",
                    str(path), text], check=True, capture_output=True)


def _make_video(folder: Path, out: Path, excited: bool, progress: Progress) -> None:
    speech: list[tuple[float, Path, float]] = []
    for i, text in enumerate(CALM_LINES):
        _speak(text, folder / f"calm_{i}.wav")
        progress(SPEECH_SHARE * (i + 1) / len(CALM_LINES))
    at, i = 3.0, 0
    while at < DURATION_S - 5:
        if not MOMENT_S - 5 < at < MOMENT_S + MOMENT_LEN_S + 3:
            speech.append((at, folder / f"calm_{i % len(CALM_LINES)}.wav", 0.5))
            i += 1
        at += TALK_EVERY_S
    if excited:
        shout = folder / "shout.wav"
        _speak(SHOUT, shout, speed=185, pitch=85, amp=200)
        speech.append((MOMENT_S + 0.5, shout, 2.0))
    inputs = ["-f", "lavfi", "-i", f"testsrc2=size=1280x360:rate=30:duration={DURATION_S}",
              "-f", "lavfi", "-i",
              f"anoisesrc=color=pink:amplitude=0.03:sample_rate=48000:duration={DURATION_S}"
              f":seed={NOISE_SEEDS[0]}"]
    for _, path, _ in speech:
        inputs += ["-i", str(path)]
    pan = (f"if(between(t,{MOMENT_S},{MOMENT_S + MOMENT_LEN_S}),"
           f"mod((t-{MOMENT_S})*900,640),0)") if excited else "0"
    parts = [f"[0:v]crop=640:360:x='{pan}':y=0[v]", "[1:a]anull[room]"]
    mix = ["[room]"]
    if excited:
        inputs += ["-f", "lavfi", "-i", f"anoisesrc=color=brown:amplitude={CROWD_AMPLITUDE}"
                   f":sample_rate=48000:duration={MOMENT_LEN_S}:seed={NOISE_SEEDS[1]}"]
        crowd = len(speech) + 2
        parts.append(f"[{crowd}:a]adelay={int(MOMENT_S * 1000)}:all=1[crowd]")
        mix.append("[crowd]")
    for i, (at, _, gain) in enumerate(speech):
        parts.append(f"[{i + 2}:a]aresample=48000,volume={gain},"
                     f"adelay={int(at * 1000)}:all=1[s{i}]")
        mix.append(f"[s{i}]")
    parts.append(f"{''.join(mix)}amix=inputs={len(mix)}:duration=first:normalize=0[a]")
    partial = out.with_suffix(".part.mp4")  # A stopped first run must not leave half a demo.
    _ffmpeg_with_progress(
        ["ffmpeg", "-hide_banner", "-loglevel", "error", "-nostats", "-progress", "pipe:1", "-y",
         *inputs, "-filter_complex", ";".join(parts), "-map", "[v]", "-map", "[a]",
         "-c:v", "libx264", "-preset", "ultrafast", "-g", "60", "-keyint_min", "60",
         "-sc_threshold", "0", "-c:a", "aac", "-b:a", "96k", "-t", str(DURATION_S),
         "-movflags", "+faststart", str(partial)],
        lambda seconds: progress(SPEECH_SHARE + (1 - SPEECH_SHARE) * seconds / DURATION_S))
    partial.rename(out)


def _ffmpeg_with_progress(args: list[str], progress: Callable[[float], None]) -> None:
    """Run FFmpeg and pass on how many seconds of output it has written so far."""
    with subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True) as proc:
        assert proc.stdout is not None and proc.stderr is not None
        for line in proc.stdout:
            key, _, value = line.strip().partition("=")
            if key == "out_time_us" and value.isdigit():
                progress(min(float(DURATION_S), int(value) / 1e6))
        errors = proc.stderr.read()
    if proc.returncode != 0:
        raise subprocess.CalledProcessError(proc.returncode, args, stderr=errors)
