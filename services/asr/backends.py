"""The recogniser interface the service talks to, and the two engines behind it.

An engine loads its model once per process; `new_stream()` gives each channel its own streaming
recogniser, which keeps that channel's state (rolling buffer, partial results):

- `accept(t, audio)`: audio (16 kHz mono float) starting at stream time `t` -> updates,
- `flush()`: close the phrase now -> updates,
- `pending`: whether a flush would have something to say,
- `due_in()`: clock seconds until a held-back pass is due (None: none waits), and `poll()` runs it,
- `dropped_s`: audio skipped so far because we fell too far behind.

An update is a phrase's words with stream times, interim (may still change) or final.
"""

from __future__ import annotations

import functools
import math
import threading
from collections.abc import Callable
from typing import Protocol

from services.asr.streaming import TimedWord, Update
from services.asr.vad import Audio, SpeechTracker, StreamingVad, silero_probs
from services.asr.vosk_backend import VoskStreamer, load_vosk_model
from services.asr.whisper_backend import WhisperBackend
from services.asr.whisper_stream import StreamConfig, WhisperStreamer
from shared.settings import Settings


class Recognizer(Protocol):
    """A streaming recogniser for one channel."""

    dropped_s: float

    @property
    def pending(self) -> bool: ...

    def accept(self, t: float, audio: Audio) -> list[Update]: ...

    def flush(self) -> list[Update]: ...

    def due_in(self) -> float | None: ...

    def poll(self) -> list[Update]: ...


class Engine(Protocol):
    """A loaded model that makes recognisers."""

    name: str

    def new_stream(self, settings: Settings) -> Recognizer:
        """A recogniser for one channel, set up by that channel's settings (see
        `shared.channels.channel_settings`)."""
        ...


class WhisperEngine:
    """Whisper plus the silero voice detector, loaded once.

    A Whisper model runs one pass at a time. So that passes of several channels can run side
    by side (one per core), each thread that runs passes gets a copy of the model of its own:
    the one loaded first, then more, made the first time a new thread needs one."""

    def __init__(self, load: Callable[[], WhisperBackend]) -> None:
        self._load = load
        self.backend = load()
        self.probs = silero_probs()
        self.name = (f"whisper {self.backend.name} ({self.backend.device}, "
                     f"{self.backend.compute_type})")
        self.copies = [self.backend]
        self._free = [self.backend]
        self._mine = threading.local()
        self._taking = threading.Lock()

    def new_stream(self, settings: Settings) -> WhisperStreamer:
        vad = StreamingVad(self.probs, SpeechTracker())
        return WhisperStreamer(self.transcribe, vad, stream_config(settings))

    def transcribe(self, audio: Audio) -> list[TimedWord]:
        """One pass, on this thread's own copy of the model."""
        backend: WhisperBackend | None = getattr(self._mine, "backend", None)
        if backend is None:
            with self._taking:
                backend = self._free.pop() if self._free else None
            if backend is None:
                backend = self._load()
                with self._taking:
                    self.copies.append(backend)
            self._mine.backend = backend
        return backend.transcribe(audio)


class VoskEngine:
    """A Vosk model, loaded once."""

    def __init__(self, settings: Settings) -> None:
        path = settings.asr_vosk_model_path
        if path is None:
            raise ValueError("asr_backend=vosk needs asr_vosk_model_path (a Vosk model folder)")
        self.model = load_vosk_model(path)
        self.name = f"vosk {path.name}"

    def new_stream(self, settings: Settings) -> VoskStreamer:
        return VoskStreamer(self.model, math.inf if settings.asr_vod else settings.asr_max_lag_s)


VOD_STEP_S = 6.0
"""In VOD mode the buffer is heard about this often: no one waits for interim words."""


def stream_config(settings: Settings) -> StreamConfig:
    if settings.asr_vod:  # A VOD: nothing is dropped for lag, and fewer passes are run.
        return StreamConfig(step_s=VOD_STEP_S, max_step_s=VOD_STEP_S,
                            window_s=settings.asr_window_s, max_lag_s=math.inf,
                            pause_s=settings.asr_pause_s)
    return StreamConfig(
        step_s=settings.asr_step_s,
        window_s=settings.asr_window_s,
        max_lag_s=settings.asr_max_lag_s,
        pause_s=settings.asr_pause_s,
    )


def load_engine(settings: Settings) -> Engine:
    """Load the engine the settings ask for (slow: call it once, off the event loop)."""
    if settings.asr_backend == "vosk":
        return VoskEngine(settings)
    return WhisperEngine(functools.partial(
        WhisperBackend, settings.asr_model, device=settings.asr_device,
        compute_type=settings.asr_compute_type, cpu_threads=settings.asr_cpu_threads,
        window_s=settings.asr_window_s))
