"""The streaming Whisper transcriber with the real tiny.en model, fed as fast as it can go."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from faster_whisper import WhisperModel

from services.asr.backends import WhisperEngine
from services.asr.streaming import TimedWord, Update
from services.asr.vad import Audio, SpeechTracker, StreamingVad, silero_probs
from services.asr.wer import wer
from services.asr.whisper_backend import WhisperBackend
from services.asr.whisper_stream import StreamConfig, WhisperStreamer
from tests.services.asr import media
from tests.support import dev_data


def streamer(model: WhisperBackend, **config: float) -> WhisperStreamer:
    """A streamer whose clock stands still: a pass takes no time on it, so where the passes
    fall depends on the audio alone, not on how busy the machine is (a slow pass making the
    next one wait has a test of its own, on a made-up clock)."""
    vad = StreamingVad(silero_probs(), SpeechTracker())
    return WhisperStreamer(model.transcribe, vad, StreamConfig(**config), clock=lambda: 0.0)


def feed(s: WhisperStreamer, pcm: media.Pcm) -> list[Update]:
    """Feed 0.5 s pieces one after another (no waiting), then flush."""
    out: list[Update] = []
    for t, piece in media.chunks(pcm):
        out += s.accept(t, media.as_float(piece))
    return out + s.flush()


QUIET: dict[str, Callable[[float], media.Pcm]] = {
    "silence": media.silence,
    "white noise": lambda s: media.noise(s, "whitenoise", 0.3),
    "pink noise": lambda s: media.noise(s, "pinknoise", 0.5),
    "chords": media.chords,
}


@pytest.mark.timeout(120)
@pytest.mark.parametrize("kind", list(QUIET))
def test_no_words_come_out_of_silence_noise_or_music(tiny_en: WhisperBackend, kind: str) -> None:
    s = streamer(tiny_en)
    updates = feed(s, QUIET[kind](60.0))
    heard = [u.text for u in updates]
    print(f"{kind}: {s.passes} Whisper passes over 60 s, words: {heard}")
    assert heard == []


@pytest.mark.timeout(120)
def test_sentences_come_out_as_interim_words_then_finals(tiny_en: WhisperBackend) -> None:
    pcm = media.sentences(media.SENTENCES[:2], gap_s=1.0)
    s = streamer(tiny_en)
    updates = feed(s, pcm)
    finals = [u for u in updates if u.final]
    for u in updates:
        print("final  " if u.final else "interim", f"{u.words[0].start:5.2f}", u.text)
    assert any(not u.final for u in updates)
    # Interim words come before the final of their phrase.
    assert not updates[0].final
    # One final per sentence (each is followed by a pause), in order, with growing times.
    assert len(finals) == 2
    said = " ".join(u.text for u in finals)
    assert wer(" ".join(media.SENTENCES[:2]), said) <= 0.35
    times = [w.start for u in finals for w in u.words]
    assert times == sorted(times)
    assert times[0] >= 0 and finals[-1].words[-1].end <= len(pcm) / media.RATE
    assert finals[1].words[0].start > finals[0].words[-1].end


@pytest.mark.timeout(120)
@pytest.mark.parametrize("burst_s", [1.5, 2.0])
def test_a_pause_inside_a_burst_of_audio_still_ends_its_phrase(
    tiny_en: WhisperBackend, burst_s: float
) -> None:
    """Live audio often comes a whole HLS segment at a time. The 1 s pauses between the
    sentences fall inside such bursts, and each sentence still gets a final of its own."""
    pcm = np.concatenate([media.sentences(media.SENTENCES, gap_s=1.0), media.silence(1.0)])
    s = streamer(tiny_en)
    step = round(burst_s * media.RATE)
    updates: list[Update] = []
    for start in range(0, len(pcm), step):
        updates += s.accept(start / media.RATE, media.as_float(pcm[start:start + step]))
    finals = [u.text for u in updates + s.flush() if u.final]
    print(f"bursts of {burst_s} s: {s.passes} passes, finals {finals}")
    assert len(finals) == len(media.SENTENCES)
    assert wer(" ".join(media.SENTENCES), " ".join(finals)) <= 0.35


@pytest.mark.timeout(120)
def test_audio_far_behind_is_dropped_so_the_lag_stays_bounded(tiny_en: WhisperBackend) -> None:
    """60 s of speech arrive at once (the worker was stalled): only the newest max_lag_s are
    heard, the rest is counted as dropped, and the transcriber goes on with live audio."""
    pcm = media.long_speech(60.0)
    s = streamer(tiny_en, max_lag_s=4.0)
    updates = s.accept(0.0, media.as_float(pcm))
    assert s.dropped_s == pytest.approx(56.0, abs=0.01)
    assert s.end == pytest.approx(60.0, abs=0.01)
    assert all(w.start >= 56.0 - 0.5 for u in updates for w in u.words)
    # Live audio goes on right after it (a sentence that the dropped audio did not end with:
    # the same words twice in one buffer can make Whisper loop, and the loop is dropped).
    more = media.speech(media.SENTENCES[2])
    updates = []
    for t, piece in media.chunks(np.concatenate([more, media.silence(1.0)])):
        updates += s.accept(60.0 + t, media.as_float(piece))
    finals = [u for u in updates if u.final]
    print("after the drop:", [u.text for u in finals], "passes:", s.passes)
    assert finals and finals[-1].words[-1].end > 60.0
    assert s.dropped_s == pytest.approx(56.0, abs=0.01)  # nothing more was dropped


@pytest.mark.timeout(120)
def test_a_pass_held_back_by_a_slow_one_runs_on_the_clock_between_bursts(
    tiny_en: WhisperBackend,
) -> None:
    """Audio comes in 2 s bursts and each pass takes 1.3 s (on a made-up clock), so the next
    pass waits 2.6 s. The second burst's words come out once that wait is over on the clock,
    not when the third burst comes."""
    now = [100.0]  # the clock does not start at 0

    def slow(audio: Audio) -> list[TimedWord]:
        words = tiny_en.transcribe(audio)
        now[0] += 1.3
        return words

    vad = StreamingVad(silero_probs(), SpeechTracker())
    s = WhisperStreamer(slow, vad, StreamConfig(), clock=lambda: now[0])
    pcm = media.as_float(media.long_speech(6.0))
    burst, half = 2 * media.RATE, media.RATE // 2
    s.accept(0.0, pcm[:half])  # too little for a pass: held, due one step after the start
    assert s.passes == 0 and s.due_in() == pytest.approx(1.0)
    s.accept(0.5, pcm[half:burst])
    assert s.passes == 1 and s.step == pytest.approx(2.6)
    assert s.due_in() is None  # all the audio was heard: nothing waits
    now[0] = 102.0
    assert s.accept(2.0, pcm[burst:2 * burst]) == []  # held back: 2.0 s of audio < 2.6 s
    assert s.due_in() == pytest.approx(1.9)
    now[0] = 103.0
    assert s.poll() == [] and s.passes == 1  # not due yet
    now[0] = 103.9
    updates = s.poll()
    assert s.passes == 2
    assert max(w.end for u in updates for w in u.words) > 2.0  # the second burst's words
    assert s.due_in() is None and s.poll() == []


@pytest.mark.timeout(120)
@pytest.mark.parametrize("kind", ["white noise", "chords"])
def test_whisper_checks_drop_invented_text_even_without_the_voice_gate(
    tiny_en: WhisperBackend, kind: str
) -> None:
    """Straight into Whisper, noise and music make it loop ('. . .', 'o o o'); the
    compression-ratio, log-probability and no-speech checks throw that away."""
    assert tiny_en.transcribe(media.as_float(QUIET[kind](10.0))) == []


def _read(path: Path) -> media.Pcm:
    return media._sox_raw([str(path)])


@pytest.mark.timeout(300)
def test_streaming_words_match_the_same_model_on_the_whole_file(
        tiny_en: WhisperBackend) -> None:
    """Real read speech (LibriVox, and JFK's "ask not"): first words kept, "Mr." does not split
    the phrase, a quiet "ask not" is not lost, hyphenated words stay whole, and the streaming
    word error rate is within 2 points of one pass over each whole file. (With a pass every
    second, the passes over 2.5 and 3.5 s of "And Mr. John Dashwood" both leave out its "And",
    so it is lost there; passes a little further apart keep it.)"""
    folder = dev_data("asr")
    clips = sorted((folder / "librivox").glob("*.wav"))
    said = {c: c.with_suffix(".txt").read_text().strip() for c in clips}
    said[folder / "jfk.flac"] = ("and so my fellow americans ask not what your country can do "
                                 "for you ask what you can do for your country")
    whole = WhisperBackend("tiny.en", window_s=30.0)
    streamed, once = [], []
    for clip in said:
        pcm = _read(clip)
        finals = [u.text for u in feed(streamer(tiny_en), pcm) if u.final]
        streamed.append(" ".join(finals))
        once.append(" ".join(w.text for w in whole.transcribe(media.as_float(pcm))))
        print(f"{clip.name}: {finals}")
    reference = " ".join(said.values())
    stream_wer, whole_wer = wer(reference, " ".join(streamed)), wer(reference, " ".join(once))
    print(f"WER streaming {stream_wer:.3f}, whole file {whole_wer:.3f}")
    assert stream_wer <= whole_wer + 0.02
    joined = " ".join(streamed)
    assert "Ask not" in joined or "ask not" in joined
    assert "cold-hearted" in joined
    assert streamed[-1].startswith("And so my fellow"), "a phrase's first word is kept"
    assert "Mr. John Dashwood had then" in joined, "the full stop of 'Mr.' ends no phrase"


@pytest.mark.timeout(120)
def test_a_pass_encodes_its_window_once_and_keeps_every_word(
        tiny_en: WhisperBackend, monkeypatch: pytest.MonkeyPatch) -> None:
    """faster-whisper alone starts a second window at the last word it heard and encodes the
    short rest again; a pass of ours stops after the first window and loses no word by it."""
    encodes = []
    original = WhisperModel.encode
    monkeypatch.setattr(WhisperModel, "encode",
                        lambda model, features: encodes.append(1) or original(model, features))
    pcm = media.sentences(media.SENTENCES[:2], gap_s=0.5)
    audio = np.concatenate([np.zeros(8000, np.float32), media.as_float(pcm)])
    ours = tiny_en.transcribe(audio)
    assert len(encodes) == 1
    tiny_en.model.one_window = False
    try:
        theirs = tiny_en.transcribe(audio)
    finally:
        tiny_en.model.one_window = True
    assert len(encodes) == 3, "without the stop, a second window is encoded"
    assert [w.text for w in ours] == [w.text for w in theirs[:len(ours)]]
    assert wer(" ".join(media.SENTENCES[:2]), " ".join(w.text for w in ours)) <= 0.35


@pytest.mark.timeout(120)
def test_each_pass_thread_hears_on_a_copy_of_the_model_of_its_own() -> None:
    """Channels are heard side by side: a model runs one pass at a time, so each pass thread
    gets a copy of its own (the first thread the one loaded at start)."""
    import threading
    from concurrent.futures import ThreadPoolExecutor

    from services.asr.backends import load_engine
    from shared.settings import Settings

    engine = load_engine(Settings(asr_model="tiny.en"))
    assert isinstance(engine, WhisperEngine)
    audio = media.as_float(media.speech(media.SENTENCES[0]))
    used: dict[str, set[int]] = {}
    gate = threading.Barrier(2)

    def one_pass(_: int) -> str:
        gate.wait(10)  # both threads exist before either hears: each takes its own copy
        words = engine.transcribe(audio)
        used.setdefault(threading.current_thread().name, set()).add(id(engine._mine.backend))
        return " ".join(w.text for w in words)

    with ThreadPoolExecutor(2) as pool:
        heard = list(pool.map(one_pass, range(4)))
    assert all("clutch" in h for h in heard), heard
    assert len(engine.copies) == 2 and engine.copies[0] is engine.backend
    copies = [found for found in used.values()]
    assert len(copies) == 2 and all(len(c) == 1 for c in copies), "a copy per thread"
    assert copies[0] != copies[1]
