"""Streaming Whisper for one channel: a rolling buffer, a voice gate, and commit rules.

How it works, for each piece of audio that comes in:

1. The voice detector hears it. While nobody speaks, the buffer keeps only a short lead-in and
   Whisper does not run at all (no words can be invented over silence, music or noise).
2. While someone speaks, Whisper hears the whole buffer again about every `step_s` seconds, with
   half a second of silence before it (Whisper drops a word that starts at the first sample).
   Words that two passes in a row agree on, and that the earlier pass heard a second of audio
   past, are committed (`streaming.Agreement`). Each pass publishes an interim update:
   committed words of the phrase plus the unstable tail.
3. When a committed word ends a sentence ("Mr." does not), or the voice stops for `pause_s`, the
   phrase becomes a final update and the buffer is cut after it. At a pause, words that only
   one pass heard are kept if they start in speech, not in the padding after it. When a pass
   finds no word in what the voice detector called speech, that audio is kept for a while, so
   the next pass hears it again with the words that follow.

Latency stays bounded:
- a slow pass makes the next one wait longer (`load_factor` x its time, up to `max_step_s`);
  a pass held back that way is due on the clock, not only when more audio comes (`due_in`,
  `poll`): audio comes in bursts, and the next burst may be 2 s away,
- the buffer never grows past `window_s` (the phrase is closed early and the buffer cut),
- audio that arrives more than `max_lag_s` behind at once is dropped (counted in `dropped_s`).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from services.asr.streaming import (
    Agreement,
    Phrase,
    TimedWord,
    Update,
    clean,
    in_speech,
    said_in_speech,
    trim_point,
)
from services.asr.vad import SAMPLE_RATE, Audio, StreamingVad

Transcribe = Callable[[Audio], list[TimedWord]]
"""One recogniser pass: audio in, words out, times from the audio's first sample."""

PIECE_S = 0.5
"""A burst of audio is taken this much at a time, to find the pauses inside it."""
GAP_SLACK_S = 0.05  # a jump in stream time smaller than this is rounding, not a gap
HOLD_S = 3.0
"""Audio kept after a pass found no word in what the voice detector called speech (a quiet or
short word: "ask not"): the next pass hears it again with the words that follow."""
LEAD_S = 0.5
"""Silence put before the buffer for each pass: Whisper tends to drop a word that starts right at
the first sample (a cut buffer starts just before the next word)."""


@dataclass(frozen=True)
class StreamConfig:
    """Knobs of the streaming transcriber (the service fills them from the settings)."""

    step_s: float = 1.0  # re-transcribe about this often, in stream seconds
    max_step_s: float = 3.0  # never wait longer than this between passes
    load_factor: float = 2.0  # wait at least this many times the last pass's time
    window_s: float = 12.0  # longest buffer Whisper hears
    max_lag_s: float = 4.0  # audio more than this behind is dropped
    pause_s: float = 0.6  # this much quiet after speech ends a phrase
    preroll_s: float = 0.5  # audio kept before speech starts
    pad_s: float = 0.3  # how far a word may lie outside the detected speech


class WhisperStreamer:
    """The streaming transcriber of one channel. Not thread safe: one caller at a time."""

    def __init__(
        self,
        transcribe: Transcribe,
        vad: StreamingVad,
        config: StreamConfig | None = None,
        clock: Callable[[], float] = time.perf_counter,
    ) -> None:
        self.transcribe = transcribe
        self.vad = vad
        self.config = config or StreamConfig()
        self.clock = clock
        self.step = self.config.step_s
        self.dropped_s = 0.0  # audio skipped because we were too far behind
        self.passes = 0  # Whisper passes run
        self.held = False  # new audio waits for a pass that `step` held back
        self.last_pass_wall = 0.0  # the clock when the last pass ended
        self._started = False
        self.audio: Audio = np.zeros(0, dtype=np.float32)  # the rolling buffer
        self.t0 = 0.0  # stream time of its first sample
        self.last_pass_end = 0.0  # where the buffer ended at the last pass
        self.agreement = Agreement()
        self.phrase = Phrase()
        self.last_interim = ""
        self.tried_voice = -math.inf  # voice up to here was heard by a pass that found no word

    # ---- The Recognizer interface ------------------------------------------------------------

    @property
    def end(self) -> float:
        """Stream time right after the newest audio we have."""
        return self.t0 + len(self.audio) / SAMPLE_RATE

    @property
    def pending(self) -> bool:
        """True when some words or speech have not been published as final yet."""
        return bool(self.phrase.words or self.agreement.tail or self.vad.tracker.speech)

    def accept(self, t: float, audio: Audio) -> list[Update]:
        """Take audio that starts at stream time `t`. Returns the updates it leads to."""
        out: list[Update] = []
        audio = np.asarray(audio, dtype=np.float32)
        if not self._started:
            self._started = True
            self._reset(t)
        elif t > self.end + GAP_SLACK_S:  # a gap in the stream: close what we heard
            out += self.flush()
            self._reset(t)
        elif t < self.end - GAP_SLACK_S:  # heard part of it already: keep the new part only
            skip = round((self.end - t) * SAMPLE_RATE)
            audio, t = audio[skip:], self.end
        if not len(audio):
            return out
        too_much = len(audio) / SAMPLE_RATE - self.config.max_lag_s
        if too_much > 0:  # we are far behind: drop the oldest audio, keep the newest
            out += self._finish(run_pass=False)
            cut = round(too_much * SAMPLE_RATE)
            self.dropped_s += cut / SAMPLE_RATE
            audio, t = audio[cut:], t + cut / SAMPLE_RATE
            self._reset(t)
        # Audio often comes in bursts (a whole HLS segment at once). Take it a piece at a time,
        # so that a pause inside the burst still ends its phrase there; only the last piece may
        # start a new pass, so a burst costs no more passes than one chunk.
        piece = round(PIECE_S * SAMPLE_RATE)
        for start in range(0, len(audio), piece):
            part = audio[start:start + piece]
            self.audio = np.concatenate([self.audio, part]) if len(self.audio) else part.copy()
            self.vad.feed(t + start / SAMPLE_RATE, part)
            if start + piece < len(audio):
                out += self._close_at_pause()
        return out + self._decide()

    def flush(self) -> list[Update]:
        """Close the phrase now (the stream paused or ended)."""
        return self._finish(run_pass=True)

    def due_in(self) -> float | None:
        """Seconds on the clock until a held-back pass is due (0.0: now); None when no pass
        waits. A slow pass makes the next one wait `step` seconds; counted on the clock, the
        wait can end between two bursts of audio."""
        if not self.held:
            return None
        return max(0.0, round(self.last_pass_wall + self.step - self.clock(), 3))

    def poll(self) -> list[Update]:
        """Run the held-back pass if it is due. Returns the updates it leads to."""
        if self.due_in() != 0.0:
            return []
        return self._decide(wall_due=True)

    # ---- Inside ------------------------------------------------------------------------------

    def _reset(self, t: float) -> None:
        self.held = False
        self.last_pass_wall = self.clock()  # no pass yet: a held one waits from now
        self.audio = np.zeros(0, dtype=np.float32)
        self.t0 = t
        self.last_pass_end = t
        self.agreement = Agreement()
        self.phrase = Phrase()
        self.last_interim = ""
        self.tried_voice = -math.inf
        self.vad.reset()

    def _paused(self) -> bool:
        """True when new voice (not only voice a pass found no word in) has been followed
        by `pause_s` of quiet."""
        tracker = self.vad.tracker
        last_voice = tracker.last_voice
        return (last_voice is not None and last_voice > self.tried_voice
                and not tracker.talking and self.end - last_voice >= self.config.pause_s)

    def _close_at_pause(self) -> list[Update]:
        """Inside a burst: close the phrase if the voice has paused, and run nothing else."""
        return self._finish(run_pass=True) if self._paused() else []

    def _decide(self, wall_due: bool = False) -> list[Update]:
        """Run a pass, close the phrase, or wait. `wall_due`: the held pass is due on the
        clock, so do not wait for more stream time."""
        tracker, cfg = self.vad.tracker, self.config
        self.held = False
        last_voice = tracker.last_voice
        if last_voice is None:  # nobody spoke: keep only a lead-in, run nothing
            self._cut(self.end - cfg.preroll_s)
            return []
        if last_voice <= self.tried_voice:  # only voice a pass found no word in: wait
            self._cut(self.end - HOLD_S)
            return []
        if self._paused():
            return self._finish(run_pass=True)
        if self.end - self.last_pass_end < self.step and not wall_due:
            self.held = self.end > self.last_pass_end
            return []
        out = self._keep_short()
        upto = self.end if tracker.talking else last_voice + cfg.pad_s
        self.phrase.add(self.agreement.update(self._run(upto), min(upto, self.end)))
        done = self.phrase.take_sentences()
        if done:
            out.append(self._final(done))
            self._cut(done[-1].end)
        return out + self._interim()

    def _keep_short(self) -> list[Update]:
        """Keep the buffer within the window: close a long phrase early, then cut."""
        cfg = self.config
        window = cfg.window_s - LEAD_S  # each pass hears the lead-in too
        if self.end - self.t0 <= window:
            return []
        out = []
        words = self.phrase.take_all()
        if words:
            out.append(self._final(words))
        cut = trim_point(words, self.t0, self.end, window, keep_s=window / 2)
        self._cut(cut)
        return out

    def _finish(self, run_pass: bool) -> list[Update]:
        """Close the phrase: one last pass if asked (and useful), then commit every word."""
        tracker, cfg = self.vad.tracker, self.config
        self.held = False
        out: list[Update] = []
        if run_pass and tracker.last_voice is not None and len(self.audio):
            out += self._keep_short()
            last_voice = tracker.last_voice or self.end
            upto = last_voice + cfg.pad_s
            self.phrase.add(self.agreement.update(self._run(upto), min(upto, self.end)))
        speech = list(tracker.speech)
        self.phrase.add(self.agreement.finish(lambda w: said_in_speech(w, speech)))
        words = self.phrase.take_all()
        self.last_interim = ""
        if words or tracker.last_voice is None:
            self._cut(self.end - cfg.preroll_s)
        else:  # voice, but no word found in it: keep it, so the next words are heard with it
            self.tried_voice = tracker.last_voice
            self._cut(self.end - HOLD_S)
        return out + ([Update(True, tuple(words))] if words else [])

    def _final(self, words: list[TimedWord]) -> Update:
        self.last_interim = ""
        return Update(True, tuple(words))

    def _interim(self) -> list[Update]:
        words = tuple(self.phrase.words + self.agreement.tail)
        update = Update(False, words)
        if not words or update.text == self.last_interim:
            return []
        self.last_interim = update.text
        return [update]

    def _run(self, upto: float) -> list[TimedWord]:
        """One Whisper pass over the buffer up to stream time `upto`; times on the stream clock."""
        n = round((min(upto, self.end) - self.t0) * SAMPLE_RATE)
        started = self.clock()
        lead = np.zeros(round(LEAD_S * SAMPLE_RATE), dtype=np.float32)
        heard = [TimedWord(w.text, max(0.0, w.start - LEAD_S), max(0.0, w.end - LEAD_S))
                 for w in self.transcribe(np.concatenate([lead, self.audio[:n]]))] if n > 0 else []
        self.last_pass_wall = self.clock()
        took = self.last_pass_wall - started
        cfg = self.config
        self.step = min(max(cfg.step_s, cfg.load_factor * took), cfg.max_step_s)
        self.last_pass_end = self.end
        self.passes += 1
        shifted = [TimedWord(w.text, self.t0 + w.start, self.t0 + w.end) for w in clean(heard)]
        return in_speech(shifted, self.vad.tracker.speech, cfg.pad_s)

    def _cut(self, t: float) -> None:
        """Drop buffer audio before stream time `t`."""
        n = round((min(max(t, self.t0), self.end) - self.t0) * SAMPLE_RATE)
        if n <= 0:
            return
        self.audio = self.audio[n:]
        self.t0 += n / SAMPLE_RATE
        self.vad.tracker.forget_before(self.t0)
        self.agreement.drop_before(self.t0)
