"""The pure parts of streaming speech-to-text, on plain data: no model, no audio."""

from __future__ import annotations

import numpy as np
import pytest

from services.asr.chunks import audio_runs, caption
from services.asr.streaming import (
    Agreement,
    Phrase,
    TimedWord,
    Update,
    ends_sentence,
    in_speech,
    norm,
    said_in_speech,
    trim_point,
)
from services.asr.vad import WINDOW_S, SpeechTracker
from services.asr.wer import wer
from services.asr.whisper_backend import join_pieces
from shared.contracts import AudioChunk


def words(text: str, start: float = 0.0, each: float = 0.4) -> list[TimedWord]:
    """Words of `text`, one after another, `each` seconds long."""
    return [TimedWord(w, start + i * each, start + (i + 1) * each)
            for i, w in enumerate(text.split())]


def texts(found: list[TimedWord]) -> str:
    return " ".join(w.text for w in found)


# ---- LocalAgreement ------------------------------------------------------------------------


def test_a_word_is_committed_only_when_two_passes_agree() -> None:
    agree = Agreement()
    assert agree.update(words("oh my cod")) == []  # one pass: nothing is sure yet
    assert texts(agree.tail) == "oh my cod"
    committed = agree.update(words("oh my god that"))
    assert texts(committed) == "oh my"  # "cod" vs "god": they disagree from there on
    assert texts(agree.tail) == "god that"
    assert texts(agree.update(words("oh my god that was"))) == "god that"
    assert texts(agree.tail) == "was"


def test_committed_words_heard_again_are_not_committed_twice() -> None:
    agree = Agreement()
    agree.update(words("let me check"))
    assert texts(agree.update(words("let me check the"))) == "let me check"
    # The next pass hears the same words with slightly other times, and one more word.
    again = [TimedWord(w.text, w.start + 0.05, w.end + 0.05) for w in words("let me check the")]
    again.append(TimedWord("settings", 1.65, 2.0))
    assert texts(agree.update(again)) == "the"
    assert texts(agree.tail) == "settings"


def test_repeated_words_after_a_cut_buffer_are_dropped_by_their_ngram() -> None:
    agree = Agreement()
    agree.update(words("push the objective"))
    agree.update(words("push the objective now"))  # commits "push the objective", ends at 1.2
    # After the buffer was cut, a pass starts with the last committed words, shifted late.
    late = words("the objective now please", start=1.15)
    # "the objective" is not committed again; "now" was the last tail and agrees now.
    assert texts(agree.update(late)) == "now"
    assert texts(agree.tail) == "please"


def test_agreement_ignores_case_and_punctuation_and_keeps_the_newest_spelling() -> None:
    agree = Agreement()
    agree.update(words("the settings menu."))
    committed = agree.update(words("The settings menu, please"))
    assert texts(committed) == "The settings menu,"


def test_finish_commits_the_tail_and_drop_before_forgets_cut_audio() -> None:
    agree = Agreement()
    agree.update(words("thanks for the follow"))
    agree.drop_before(0.5)
    assert texts(agree.tail) == "the follow"
    assert texts(agree.finish()) == "the follow"
    assert agree.tail == []
    assert agree.committed_end == pytest.approx(1.6)


def test_punctuation_only_words_are_dropped() -> None:
    agree = Agreement()
    agree.update([TimedWord(" -", 0, 0.1), TimedWord(" hello", 0.1, 0.5)])
    assert texts(agree.tail) == "hello"  # spaces stripped too


# ---- Phrases and the buffer ----------------------------------------------------------------


def test_phrase_gives_out_words_up_to_the_last_sentence_end() -> None:
    phrase = Phrase()
    phrase.add(words("wait. did you see that? that was"))
    assert texts(phrase.take_sentences()) == "wait. did you see that?"
    assert texts(phrase.words) == "that was"
    assert phrase.take_sentences() == []
    assert texts(phrase.take_all()) == "that was"
    assert phrase.words == []


def test_a_word_near_the_end_of_a_short_buffer_waits_for_a_pass_that_heard_past_it() -> None:
    """Two passes over the first second both hear "I'll last"; a third with more audio hears
    "Unless". Words the earlier pass heard too close to its end are not trusted yet."""
    agree = Agreement()
    agree.update(words("I'll last to", start=0.3), heard_until=1.0)
    assert agree.update(words("I'll less to be rather", start=0.3), heard_until=2.5) == []
    committed = agree.update(words("Unless to be rather cold", start=0.3), heard_until=3.5)
    assert committed == [], "the passes disagree on the first word"
    # The last pass heard 1 s past "cold" (ends 2.3 s): all five are sure now.
    assert texts(agree.update(words("Unless to be rather cold hearted", start=0.3),
                              heard_until=4.5)) == "Unless to be rather cold"


def test_two_passes_that_start_at_other_words_commit_only_what_they_agree_on() -> None:
    agree = Agreement()
    agree.update(words("And Mr. John"), heard_until=2.0)
    assert agree.update(words("Mr. John Dashwood had"), heard_until=3.0) == []
    assert texts(agree.tail) == "Mr. John Dashwood had"


def test_short_forms_and_initials_do_not_end_a_sentence() -> None:
    for word in ("Mr.", "mrs.", "Dr.", "St.", "e.g.", "J."):
        assert not ends_sentence(word), word
    for word in ("Americans.", "not!", "really?", "I."):
        assert ends_sentence(word), word
    phrase = Phrase()
    phrase.add(words("And Mr. John Dashwood had"))
    assert phrase.take_sentences() == []


def test_a_word_only_in_the_padding_after_speech_is_not_made_final() -> None:
    agree = Agreement()
    speech = [(0.3, 2.98)]
    agree.update([*words("himself.", start=2.3, each=0.7),
                  TimedWord("Okay.", 3.04, 3.24)])
    finished = agree.finish(lambda w: said_in_speech(w, speech))
    assert texts(finished) == "himself."


def test_word_pieces_join_the_word_before_them() -> None:
    heard = [TimedWord(" cold", 1.0, 1.3), TimedWord("-hearted", 1.3, 1.8),
             TimedWord(" and", 1.8, 2.0)]
    assert [(w.text, w.start, w.end) for w in join_pieces(heard)] == [
        (" cold-hearted", 1.0, 1.8), (" and", 1.8, 2.0)]


def test_trim_point_keeps_a_short_buffer_and_cuts_after_committed_words() -> None:
    done = words("one two three", start=10.0)  # ends at 11.2
    assert trim_point(done, start=10.0, end=15.0, window_s=12, keep_s=6) == 10.0  # short enough
    assert trim_point(done, start=10.0, end=23.0, window_s=12, keep_s=6) == pytest.approx(11.2)
    # Nothing committed for too long: cut hard, keeping keep_s seconds.
    assert trim_point([], start=10.0, end=30.0, window_s=12, keep_s=6) == pytest.approx(24.0)


def test_words_far_from_detected_speech_are_dropped() -> None:
    found = [TimedWord("hello", 1.0, 1.4), TimedWord("thank", 5.0, 5.3), TimedWord("you", 5.3, 5.6)]
    kept = in_speech(found, speech=[(0.9, 1.5)], pad_s=0.3)
    assert texts(kept) == "hello"
    assert in_speech(found, speech=[], pad_s=0.3) == []


# ---- Voice activity ------------------------------------------------------------------------


def test_tracker_finds_a_speech_stretch_and_the_pause_after_it() -> None:
    tracker = SpeechTracker(threshold=0.5)
    tracker.feed(0.0, [0.1] * 10)
    assert tracker.last_voice is None and not tracker.talking
    tracker.feed(10 * WINDOW_S, [0.9] * 20)
    assert tracker.talking
    tracker.feed(30 * WINDOW_S, [0.05] * 20)
    assert not tracker.talking
    assert tracker.speech == [pytest.approx((10 * WINDOW_S, 30 * WINDOW_S))]
    assert tracker.last_voice == pytest.approx(30 * WINDOW_S)


def test_tracker_ignores_a_click_and_holds_through_a_small_dip() -> None:
    tracker = SpeechTracker(threshold=0.5, min_speech_s=0.1)
    tracker.feed(0.0, [0.9, 0.1, 0.1, 0.1])  # one window (32 ms): too short for speech
    assert tracker.speech == [] and tracker.last_voice is None
    tracker.feed(1.0, [0.9, 0.9, 0.4, 0.4, 0.9, 0.9, 0.1])  # 0.4 is above the lower threshold
    assert len(tracker.speech) == 1
    assert tracker.speech[0] == pytest.approx((1.0, 1.0 + 6 * WINDOW_S))


def test_tracker_merges_close_stretches_and_forgets_old_ones() -> None:
    tracker = SpeechTracker(threshold=0.5, merge_gap_s=0.3)
    tracker.feed(0.0, [0.9] * 5 + [0.0] * 5 + [0.9] * 5 + [0.0])  # gap 0.16 s: one stretch
    assert len(tracker.speech) == 1
    tracker.feed(2.0, [0.9] * 5 + [0.0])  # far away: a second stretch
    assert len(tracker.speech) == 2
    tracker.forget_before(1.0)
    assert tracker.speech == [pytest.approx((2.0, 2.0 + 5 * WINDOW_S))]


# ---- Chunks and captions -------------------------------------------------------------------


def chunk(t: float, session: str = "s1", n: int = 8000) -> tuple[AudioChunk, bytes]:
    message = AudioChunk(channel="ch", session=session, t=t, dur=n / 16000, wall=1000 + t,
                         samples=n)
    return message, np.full(n, 1000, dtype="<i2").tobytes()


def test_audio_runs_join_following_chunks_and_split_at_gaps_and_sessions() -> None:
    runs = audio_runs([chunk(0.0), chunk(0.5), chunk(1.0), chunk(3.0), chunk(0.0, "s2")])
    assert [(r.session, r.t, len(r.audio)) for r in runs] == [
        ("s1", 0.0, 24000), ("s1", 3.0, 8000), ("s2", 0.0, 8000)]
    assert runs[0].audio.dtype == np.float32
    assert runs[0].audio[0] == pytest.approx(1000 / 32768)


def test_a_caption_carries_the_words_and_their_stream_times() -> None:
    update = Update(True, tuple(words("oh my god", start=2.0)))
    message = caption(update, "ch", "s1", wall=1234.5)
    assert message.final and message.text == "oh my god"
    assert message.t == pytest.approx(2.0) and message.dur == pytest.approx(1.2)
    assert [(w.text, w.start) for w in message.words] == [
        ("oh", 2.0), ("my", pytest.approx(2.4)), ("god", pytest.approx(2.8))]


# ---- Word error rate -----------------------------------------------------------------------


def test_wer_parts_hyphenated_words_and_writes_out_short_forms() -> None:
    assert wer("unless to be rather cold hearted", "Unless to be rather cold-hearted.") == 0.0
    assert wer("and mister john dashwood", "And Mr. John Dashwood") == 0.0


def test_wer_counts_substitutions_deletions_and_insertions() -> None:
    assert wer("let me check the settings", "Let me check the settings.") == 0.0
    assert wer("let me check the settings", "let me check settings") == pytest.approx(0.2)
    assert wer("one two", "one two three four") == pytest.approx(1.0)
    assert wer("a b c d", "a x c d") == pytest.approx(0.25)
    assert wer("", "") == 0.0 and wer("", "noise") == 1.0
    assert norm("Don't!") == "don't"
