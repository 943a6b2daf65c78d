"""Whisper through faster-whisper (CTranslate2): one pass over a short buffer -> timed words.

Settings that matter here: int8 on CPU, float16 on CUDA; one CPU thread by default (the machine has
two cores and other workers need one); English; greedy decoding at temperature 0 only (no
fallback passes, so a pass costs about the same every time); `condition_on_previous_text=False`.

We do not believe every word Whisper writes. A pass's segment is dropped when
- `compression_ratio` > 2.4 (the same words over and over: a loop),
- `avg_logprob` < -1.0 (the model was guessing),
- `no_speech_prob` > 0.6 (the model itself thinks nobody talks).
A pass also stops after `TOKENS_PER_S` tokens per second of window, so a loop costs little.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from typing import Any

import numpy as np
from faster_whisper import WhisperModel
from faster_whisper.transcribe import Segment

from services.asr import models
from services.asr.streaming import TimedWord
from services.asr.vad import SAMPLE_RATE, Audio

MAX_COMPRESSION = 2.4
MIN_AVG_LOGPROB = -1.0
MAX_NO_SPEECH = 0.6
TOKENS_PER_S = 10  # fast speech is ~6 tokens a second: more than this is a loop, stop early
FIT_STEP_S = 2.0
REST_S = 1.0  # a window whose words end this long before its audio stopped early
REST_LEAD_S = 0.5  # silence before the rest (Whisper drops a word at the very first sample)
MIN_WINDOW_S = 8.0


def fitted_window(seconds: float, longest: float) -> float:
    """The encoder window for a pass over `seconds` of audio: the audio, rounded up to whole
    steps of 2 s, at least 8 s and at most `longest`. The encoder's cost grows with its window,
    so a short buffer costs less (about 40 % less CPU on our speech); below 8 s Whisper began to
    miss words at the ends of phrases on the read-speech data."""
    fitted = FIT_STEP_S * float(np.ceil(seconds / FIT_STEP_S))
    return min(longest, max(MIN_WINDOW_S, fitted))


class WindowDone(Exception):
    """Raised to stop faster-whisper after its first window (see `WindowedWhisper`)."""


class WindowedWhisper(WhisperModel):
    """A WhisperModel whose encoder sees `window_s` seconds instead of 30, once per pass.

    faster-whisper pads every input to 30 s of features before the encoder. Our rolling buffer is
    never longer than the window, so the rest is only padding: cutting it makes the encoder 4-5
    times cheaper (0.31 s -> 0.06 s for tiny.en on one thread), with the same words in our tests.

    With word times on, faster-whisper then starts a second window at the last word's end and
    hears the few tenths of a second after it again: a whole second encode and decode for what
    the next pass hears anyway (about 30 % of a pass). With `one_window` set, a second encode
    raises `WindowDone`, which `WhisperBackend.transcribe` catches after the first window's
    segments came out.
    """

    window_frames = 3000
    one_window = False
    _encoded = False

    def set_window(self, window_s: float) -> None:
        fe = self.feature_extractor
        self.window_frames = min(3000, round(window_s * fe.sampling_rate / fe.hop_length))
        fe.chunk_length = int(np.ceil(window_s))
        fe.n_samples = int(window_s * fe.sampling_rate)
        fe.nb_max_frames = self.window_frames

    def start_pass(self) -> None:
        """Call before each transcribe: the next encode is the pass's first."""
        self._encoded = False

    def encode(self, features: np.ndarray) -> Any:
        if self.one_window and self._encoded:
            raise WindowDone
        self._encoded = True
        return super().encode(features[..., : self.window_frames])


def pick_device(device: str, compute_type: str) -> tuple[str, str]:
    """Resolve "auto": CUDA when CTranslate2 sees a GPU, else CPU; int8 on CPU, float16 on CUDA."""
    if device == "auto":
        import ctranslate2

        device = "cuda" if ctranslate2.get_cuda_device_count() > 0 else "cpu"
    if compute_type == "auto":
        compute_type = "float16" if device == "cuda" else "int8"
    return device, compute_type


class WhisperBackend:
    """Loads one Whisper model and transcribes short buffers of 16 kHz mono float audio."""

    def __init__(
        self,
        model: str = "tiny.en",
        device: str = "cpu",
        compute_type: str = "auto",
        cpu_threads: int = 1,
        window_s: float = 12.0,
        language: str = "en",
    ) -> None:
        logging.getLogger("faster_whisper").setLevel(logging.WARNING)  # a line every pass
        self.device, self.compute_type = pick_device(device, compute_type)
        common: dict[str, Any] = {
            "device": self.device, "compute_type": self.compute_type,
            "cpu_threads": cpu_threads, "num_workers": 1,
        }
        if model == "tiny.en":
            self.model = WindowedWhisper(str(models.tiny_en_path()), **common)
        elif model == "base":
            self.model = WindowedWhisper("whisper-base", files=models.base_files(), **common)
        else:
            raise ValueError(f"unknown Whisper model {model!r}: use tiny.en or base")
        self.model.set_window(window_s)
        self.model.one_window = window_s < 30.0  # a whole-file model reads window after window
        self.window_s = window_s
        self.name = model
        self.language = language
        self.max_new_tokens = int(window_s * TOKENS_PER_S)

    def transcribe(self, audio: Audio) -> list[TimedWord]:
        """The words heard in `audio`, with times in seconds from its first sample. If the
        window's words end `REST_S` or more before the audio does, Whisper stopped early (a
        roar after a shout can end its text): the rest is heard in a window of its own, as
        faster-whisper's next window would have."""
        words = self._one_window(audio)
        if not words or not self.model.one_window:
            return words
        heard = words[-1].end
        if len(audio) / SAMPLE_RATE - heard < REST_S:
            return words
        start = round(heard * SAMPLE_RATE)
        lead = np.zeros(round(REST_LEAD_S * SAMPLE_RATE), dtype=np.float32)
        shift = start / SAMPLE_RATE - REST_LEAD_S
        rest = self._one_window(np.concatenate([lead, audio[start:]]))
        return words + [TimedWord(w.text, max(heard, w.start + shift), max(heard, w.end + shift))
                        for w in rest]

    def _one_window(self, audio: Audio) -> list[TimedWord]:
        """The words of one window over `audio` (see `WindowedWhisper`)."""
        self.model.set_window(fitted_window(len(audio) / SAMPLE_RATE, self.window_s))
        self.model.start_pass()
        segments, _ = self.model.transcribe(
            audio,
            language=self.language,
            beam_size=1,
            temperature=0.0,
            word_timestamps=True,
            without_timestamps=True,
            condition_on_previous_text=False,
            max_new_tokens=self.max_new_tokens,
            vad_filter=False,  # we run the voice detector ourselves, on the stream
            no_speech_threshold=MAX_NO_SPEECH,
            log_prob_threshold=MIN_AVG_LOGPROB,
            compression_ratio_threshold=MAX_COMPRESSION,
        )
        words: list[TimedWord] = []
        for seg in first_window(segments):
            if (
                seg.compression_ratio > MAX_COMPRESSION
                or seg.avg_logprob < MIN_AVG_LOGPROB
                or seg.no_speech_prob > MAX_NO_SPEECH
            ):
                continue
            words.extend(TimedWord(w.word, float(w.start), float(w.end)) for w in seg.words or [])
        return join_pieces(words)


def first_window(segments: Iterable[Segment]) -> Iterator[Segment]:
    """The segments of the pass's first window (see `WindowedWhisper`)."""
    try:
        yield from segments
    except WindowDone:
        return


def join_pieces(words: list[TimedWord]) -> list[TimedWord]:
    """Glue word pieces to the word before them. Whisper starts every new word with a space;
    a piece without one ("-hearted" after " cold") belongs to the word before it."""
    out: list[TimedWord] = []
    for word in words:
        if out and word.text and not word.text[0].isspace():
            last = out[-1]
            out[-1] = TimedWord(last.text + word.text, last.start, word.end)
        else:
            out.append(word)
    return out
