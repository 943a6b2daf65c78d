"""`clip-live eval asr FOLDER`: how well streaming speech to text hears, against one pass of
the same model over each whole file.

Input: FOLDER holds audio files (anything FFmpeg reads), each with its exact text beside it
in a `.txt` file of the same name (`talk.wav` and `talk.txt`). Files with no text are left out.

Each file goes through the live path: FFmpeg to 16 kHz mono PCM as ingest makes it, then the
engine the settings pick (`asr_backend`, `asr_model`), fed 0.5 s at a time into one streaming
recogniser per file, as the asr worker feeds a channel, then closed. Only final captions
count. The same model then hears each whole file in one go (30 s windows): the floor that
streaming is measured against. Scores: word error rate of both (hyphens part words, short
forms like "Mr." count as said), and how long after a word ended its final caption came, in
stream time (the audio it needed to hear first).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np

from launcher.eval.voice import CHUNK_S, SAMPLE_RATE, EvalError, decode
from services.asr.backends import Engine, load_engine
from services.asr.wer import wer, words_of
from services.asr.whisper_backend import WhisperBackend
from shared.settings import Settings

AUDIO_SUFFIXES = (".wav", ".flac", ".mp3", ".ogg", ".m4a", ".opus", ".webm", ".mp4")


def labelled_files(folder: Path) -> list[tuple[Path, str]]:
    """Each audio file of the folder that has a `.txt` beside it, with that text."""
    if not folder.is_dir():
        raise EvalError(f"no folder {folder}")
    found = [(path, path.with_suffix(".txt").read_text(errors="replace").strip())
             for path in sorted(folder.iterdir())
             if path.suffix.lower() in AUDIO_SUFFIXES and path.with_suffix(".txt").is_file()]
    if not found:
        raise EvalError(f"{folder}: no audio file with its text beside it (talk.wav + talk.txt)")
    return found


def streamed(engine: Engine, settings: Settings, audio: np.ndarray) -> tuple[str, list[float]]:
    """The final captions of one file heard as a live stream, and for each word of them how
    long after its end (stream time) its caption came."""
    recognizer = engine.new_stream(settings)
    step = int(CHUNK_S * SAMPLE_RATE)
    finals: list[str] = []
    late: list[float] = []
    for start in range(0, len(audio), step):
        heard_until = min(len(audio), start + step) / SAMPLE_RATE
        for update in recognizer.accept(start / SAMPLE_RATE, audio[start:start + step]):
            if update.final:
                finals.append(update.text)
                late += [max(0.0, heard_until - w.end) for w in update.words]
    finals += [u.text for u in recognizer.flush() if u.final]
    return " ".join(finals), late


def evaluate(folder: Path, settings: Settings) -> dict[str, Any]:
    """Streaming and whole-file word error rates over the folder, and final caption lateness."""
    files = labelled_files(folder)
    engine = load_engine(settings)
    whole = (WhisperBackend(settings.asr_model, device=settings.asr_device,
                            compute_type=settings.asr_compute_type,
                            cpu_threads=settings.asr_cpu_threads, window_s=30.0)
             if settings.asr_backend == "whisper" else None)
    rows, said, heard_live, heard_once, late = [], [], [], [], []
    cpu_live = cpu_once = seconds = 0.0
    for path, text in files:
        audio = np.frombuffer(decode(path, settings.ffmpeg_path), dtype="<i2")
        audio = audio.astype(np.float32) / 32768.0
        seconds += len(audio) / SAMPLE_RATE
        started = time.process_time()
        live, lateness = streamed(engine, settings, audio)
        cpu_live += time.process_time() - started
        once = ""
        if whole is not None:
            started = time.process_time()
            once = " ".join(w.text for at in range(0, len(audio), 30 * SAMPLE_RATE)
                            for w in whole.transcribe(audio[at:at + 30 * SAMPLE_RATE]))
            cpu_once += time.process_time() - started
        said.append(text)
        heard_live.append(live)
        heard_once.append(once)
        late += lateness
        rows.append({"file": path.name, "words": len(words_of(text)),
                     "wer_streaming": round(wer(text, live), 4),
                     "wer_whole_file": round(wer(text, once), 4) if whole else None,
                     "streaming": live, "whole_file": once})
    reference = " ".join(said)
    stream_wer = wer(reference, " ".join(heard_live))
    once_wer = wer(reference, " ".join(heard_once)) if whole is not None else None
    ordered = sorted(late)
    return {
        "kind": "asr", "engine": engine.name, "audio_files": len(rows),
        "seconds": round(seconds, 1),
        "words": sum(r["words"] for r in rows),
        "wer_streaming": round(stream_wer, 4),
        "wer_whole_file": None if once_wer is None else round(once_wer, 4),
        "wer_gap_points": None if once_wer is None else round(100 * (stream_wer - once_wer), 2),
        "final_late_p50_s": _quantile(ordered, 0.5), "final_late_p90_s": _quantile(ordered, 0.9),
        "cpu_ms_per_stream_s": round(1000 * cpu_live / seconds, 1) if seconds else None,
        "whole_file_cpu_ms_per_stream_s": (round(1000 * cpu_once / seconds, 1)
                                           if seconds and whole is not None else None),
        "file_list": rows,
    }


def _quantile(ordered: list[float], q: float) -> float | None:
    if not ordered:
        return None
    return round(ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))], 3)
