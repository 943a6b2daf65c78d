"""Voice activity: which stretches of the stream hold speech.

Silero VAD (the ONNX model that ships inside faster-whisper, run by onnxruntime, no torch) gives a
speech probability for every 32 ms window. `SpeechTracker` turns those probabilities into speech
stretches with hysteresis (start above `threshold`, stop below a lower one), so a single loud click
does not count and a short dip inside a word does not split it. `StreamingVad` feeds audio of any
length to the model and the tracker, carrying the leftover samples to the next call.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

SAMPLE_RATE = 16_000
WINDOW = 512  # samples per probability (silero at 16 kHz)
WINDOW_S = WINDOW / SAMPLE_RATE

Audio = npt.NDArray[np.float32]
ProbsFn = Callable[[Audio], npt.NDArray[np.float32]]


@dataclass
class SpeechTracker:
    """Speech stretches from per-window speech probabilities (pure: plain numbers in and out)."""

    threshold: float = 0.5
    min_speech_s: float = 0.1  # a stretch shorter than this is noise, not speech
    merge_gap_s: float = 0.3  # stretches closer than this become one
    speech: list[tuple[float, float]] = field(default_factory=list)  # confirmed stretches
    _start: float | None = None  # start of the stretch we are in, if any
    _end: float = 0.0  # end of the last window above the lower threshold

    @property
    def neg_threshold(self) -> float:
        return max(self.threshold - 0.15, 0.01)

    @property
    def talking(self) -> bool:
        """True while the last windows were speech (long enough to count)."""
        return self._start is not None and self._end - self._start >= self.min_speech_s

    @property
    def last_voice(self) -> float | None:
        """Stream time where speech was last heard, or None if none was heard."""
        return self.speech[-1][1] if self.speech else None

    def feed(self, t: float, probs: npt.ArrayLike, window_s: float = WINDOW_S) -> None:
        """Take the probabilities of windows that start at `t`, one window after another."""
        for i, p in enumerate(np.asarray(probs, dtype=np.float64).reshape(-1)):
            w_start = t + i * window_s
            if self._start is None:
                if p >= self.threshold:
                    self._start, self._end = w_start, w_start + window_s
            elif p >= self.neg_threshold:
                self._end = w_start + window_s
            else:
                self._close()
        if self._start is not None and self._end - self._start >= self.min_speech_s:
            self._confirm(self._start, self._end)

    def forget_before(self, t: float) -> None:
        """Drop stretches that end before `t`, and cut the one that spans it."""
        self.speech = [(max(s, t), e) for s, e in self.speech if e > t]
        if self._start is not None:
            self._start = max(self._start, t)

    def reset(self) -> None:
        self.speech.clear()
        self._start = None

    def _close(self) -> None:
        start, end = self._start, self._end
        self._start = None
        if start is not None and end - start >= self.min_speech_s:
            self._confirm(start, end)

    def _confirm(self, start: float, end: float) -> None:
        """Add or extend a speech stretch."""
        if self.speech and start - self.speech[-1][1] <= self.merge_gap_s:
            start = min(start, self.speech[-1][0])
            self.speech[-1] = (start, max(end, self.speech[-1][1]))
        else:
            self.speech.append((start, end))


def silero_probs() -> ProbsFn:
    """The speech probability of each 512-sample window, from faster-whisper's silero model."""
    from faster_whisper.vad import get_vad_model

    model = get_vad_model()

    def probs(audio: Audio) -> npt.NDArray[np.float32]:
        return np.asarray(model(audio), dtype=np.float32).reshape(-1)

    return probs


class StreamingVad:
    """Runs the speech model on audio as it comes, whatever the length of each piece."""

    def __init__(self, probs: ProbsFn, tracker: SpeechTracker) -> None:
        self.probs = probs
        self.tracker = tracker
        self._rest: Audio = np.zeros(0, dtype=np.float32)
        self._rest_t = 0.0

    def feed(self, t: float, audio: Audio) -> None:
        """Take audio that starts at stream time `t` (right after the last piece)."""
        if not len(self._rest):
            self._rest_t = t
        joined = np.concatenate([self._rest, audio]) if len(self._rest) else audio
        whole = len(joined) // WINDOW * WINDOW
        if whole:
            self.tracker.feed(self._rest_t, self.probs(np.ascontiguousarray(joined[:whole])))
        self._rest = joined[whole:].copy()
        self._rest_t += whole / SAMPLE_RATE

    def reset(self) -> None:
        self._rest = np.zeros(0, dtype=np.float32)
        self.tracker.reset()
