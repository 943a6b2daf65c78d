"""The commit logic of streaming speech-to-text, on plain data.

The recogniser hears a rolling buffer of audio again and again, every second or so. Each pass
gives a hypothesis: a list of words with start and end times on the stream clock. The words at the
end of the buffer are often wrong (the speaker is still in the middle of them), so we only trust
a word once two passes in a row agree on it (LocalAgreement-2, as in whisper_streaming).

- `Agreement` holds the words already committed and the unstable tail of the last pass.
- `Phrase` gathers committed words until a sentence ends, then hands them out as one final
  caption.
- `trim_point` says where the rolling buffer may be cut so it stays short.

Nothing here knows about audio, models, Redis or asyncio.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

SENTENCE_END = (".", "?", "!")
SHORT_FORMS = frozenset({"mr.", "mrs.", "ms.", "dr.", "st.", "jr.", "sr.", "vs.", "etc.",
                         "e.g.", "i.e.", "prof.", "mt.", "no."})
"""Words that end in a full stop but do not end a sentence."""
NGRAM_MAX = 5  # Longest run of words we look for when a pass repeats words already committed.
EARLY_SLACK_S = 0.1  # A new word may start this much before the last committed end.
CONTEXT_S = 1.0  # A word is trusted once a pass heard this much audio after it.
SPEECH_SLACK_S = 0.3  # A word may start this much before the voice detector heard speech.


@dataclass(frozen=True)
class TimedWord:
    """One word and when it was said, in seconds of stream time."""

    text: str
    start: float
    end: float


@dataclass(frozen=True)
class Update:
    """What a recogniser has to say after some audio: the words of the phrase heard so far.

    An interim update may still change, and the next update replaces it. A final one is a
    finished phrase and will not change.
    """

    final: bool
    words: tuple[TimedWord, ...]

    @property
    def text(self) -> str:
        return " ".join(w.text for w in self.words)


def norm(text: str) -> str:
    """A word as we compare it: lower case, no punctuation or spaces."""
    return re.sub(r"[^\w']+", "", text.lower())


def clean(words: Iterable[TimedWord]) -> list[TimedWord]:
    """Strip spaces around each word and drop words that are only punctuation."""
    found = []
    for word in words:
        text = word.text.strip()
        if norm(text):
            found.append(TimedWord(text, word.start, word.end))
    return found


class Agreement:
    """LocalAgreement-2: a word is committed when two passes in a row agree on it."""

    def __init__(self) -> None:
        self.committed_end = 0.0  # stream time where the last committed word ends
        self.recent: list[TimedWord] = []  # the last few committed words, to spot repeats
        self.tail: list[TimedWord] = []  # the last pass's words that are not committed yet
        self.tail_heard_until = math.inf  # where the audio of the last pass ended

    def update(self, hypothesis: Sequence[TimedWord],
               heard_until: float = math.inf) -> list[TimedWord]:
        """Take a new pass's words, from audio that ended at `heard_until`. Returns the words
        committed by it (maybe none). Both passes must agree on a word, and the earlier one
        must have heard `CONTEXT_S` of audio after it: a word near the end of a buffer is a
        guess (a 1 s buffer of "Unless to be" is heard as "I'll last to be" twice)."""
        new = self._fresh(hypothesis)
        agreed = 0
        for mine, before in zip(new, self.tail, strict=False):
            if norm(mine.text) != norm(before.text) or \
                    before.end > self.tail_heard_until - CONTEXT_S:
                break
            agreed += 1
        # Keep the newest pass's spelling: it heard more of what followed each word.
        commit, self.tail = new[:agreed], new[agreed:]
        self.tail_heard_until = heard_until
        self._remember(commit)
        return commit

    def finish(self, keep: Callable[[TimedWord], bool] | None = None) -> list[TimedWord]:
        """The speaker stopped: commit the tail as it is, less the words `keep` turns down
        (one pass heard them and no second one can agree any more). Returns those words."""
        commit = [w for w in self.tail if keep is None or keep(w)]
        self.tail = []
        self._remember(commit)
        return commit

    def drop_before(self, t: float) -> None:
        """Forget tail words that start before `t` (that audio was cut from the buffer)."""
        self.tail = [w for w in self.tail if w.start >= t]

    def _fresh(self, hypothesis: Sequence[TimedWord]) -> list[TimedWord]:
        """The words of a pass that come after what is already committed."""
        new = [w for w in clean(hypothesis) if w.start > self.committed_end - EARLY_SLACK_S]
        if new and self.recent and abs(new[0].start - self.committed_end) < 1.0:
            # The pass may hear the last committed words again with slightly other times.
            for n in range(min(NGRAM_MAX, len(self.recent), len(new)), 0, -1):
                done = [norm(w.text) for w in self.recent[-n:]]
                if done == [norm(w.text) for w in new[:n]]:
                    return new[n:]
        return new

    def _remember(self, commit: list[TimedWord]) -> None:
        if commit:
            self.recent = (self.recent + commit)[-NGRAM_MAX:]
            self.committed_end = commit[-1].end


class Phrase:
    """Committed words of the phrase being spoken, until they become a final caption."""

    def __init__(self) -> None:
        self.words: list[TimedWord] = []

    def add(self, words: Iterable[TimedWord]) -> None:
        self.words.extend(words)

    def take_sentences(self) -> list[TimedWord]:
        """Take every committed word up to the last one that ends a sentence (maybe none)."""
        for i in range(len(self.words) - 1, -1, -1):
            if ends_sentence(self.words[i].text):
                done, self.words = self.words[: i + 1], self.words[i + 1 :]
                return done
        return []

    def take_all(self) -> list[TimedWord]:
        done, self.words = self.words, []
        return done


def ends_sentence(text: str) -> bool:
    """True for a word that closes a sentence: a full stop, "?" or "!", but not a short form
    ("Mr.") or an initial ("J."; "I." may end one)."""
    word = text.strip()
    if not word.endswith(SENTENCE_END):
        return False
    return word.lower() not in SHORT_FORMS and not re.fullmatch(r"[A-HJ-Z]\.", word)


def said_in_speech(word: TimedWord, speech: Sequence[tuple[float, float]]) -> bool:
    """True when the word starts inside a stretch the voice detector heard as speech (not in
    the padding after it, where Whisper may invent a word like "Okay.")."""
    return any(s - SPEECH_SLACK_S <= word.start < e for s, e in speech)


def trim_point(
    committed: Sequence[TimedWord], start: float, end: float, window_s: float, keep_s: float
) -> float:
    """Where to cut a rolling buffer that covers `start .. end` so it stays near `window_s`.

    Cut at the end of the last committed word when we can (that audio is done with). If the
    buffer is still too long (nothing was committed for a while), cut hard so that `keep_s`
    seconds are left. Returns the new start, never before `start`.
    """
    if end - start <= window_s:
        return start
    cut = committed[-1].end if committed else start
    if end - cut > window_s:
        cut = end - keep_s
    return max(start, min(cut, end))


def in_speech(
    words: Iterable[TimedWord], speech: Sequence[tuple[float, float]], pad_s: float
) -> list[TimedWord]:
    """Keep only words that touch a stretch the voice detector heard as speech.

    Whisper sometimes invents words over silence at the end of a buffer; a word far from any
    speech is one of those.
    """
    return [
        w for w in words
        if any(w.end > s - pad_s and w.start < e + pad_s for s, e in speech)
    ]
