"""Find hype words in a caption, even when they are stretched or a little off.

People stretch hype words when they shout them, and speech-to-text writes them that way:
"OMGGG", "insaaane", "clutchhh", "let's gooooo". So before we compare, each word is squeezed:
a run of 3 or more of the same letter becomes 1 letter (and, as a second try, 2 letters, for
words like "goo" or "yess"). "insaaane" -> "insane" or "insaane".

Then a squeezed word (or a few words in a row, for entries like "oh my god") matches an entry
when:

* it is the same as the entry, or
* the entry is long enough (5+ letters) and rapidfuzz's ratio (0-100) between the two is at
  least the threshold. Short entries need an exact match, or "ace" would match "face" and
  "sick" would match "stick".

With the default threshold of 85, "insurance" (80 against "insane"), "clutter" (62 against
"clutch") and "omelette" stay out.

Pure code: strings in, strings out.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from rapidfuzz import fuzz, process

MIN_FUZZY_LEN = 5
"""Entries shorter than this (spaces not counted) must match exactly."""

MAX_WORD_LEN = 40
"""A 'word' longer than this is noise (no hype word is that long): skip it."""

_RUN3 = re.compile(r"(\w)\1{2,}")
_WORD = re.compile(r"[^\W_]+")


def words(text: str) -> list[str]:
    """Lower-case words of `text`. Apostrophes are dropped first, so "let's" is "lets"."""
    plain = text.lower().replace("'", "").replace("\u2019", "")
    return _WORD.findall(plain)


def squeeze(word: str, keep: int = 1) -> str:
    """Shorten every run of 3+ same letters to `keep` letters: squeeze("omggg") == "omg"."""
    return _RUN3.sub(lambda m: m.group(1) * keep, word)


def _key(entry: str) -> str:
    """How an entry is compared: its words, squeezed, joined by single spaces."""
    return " ".join(squeeze(w) for w in words(entry))


@dataclass
class HypeMatcher:
    """Matches words against a fixed list of hype entries. Build it once, use it often."""

    entries: Iterable[str]
    threshold: float = 85.0
    # key -> the entry as written in the settings, per number of words in the key.
    _exact: dict[int, dict[str, str]] = field(init=False, default_factory=dict)
    _fuzzy: dict[int, dict[str, str]] = field(init=False, default_factory=dict)
    longest: int = field(init=False, default=0)

    def __post_init__(self) -> None:
        for entry in self.entries:
            key = _key(entry)
            if not key:
                continue
            forms = [key]
            if " " in key:  # "lets go" may also be heard as one word: "letsgo".
                forms.append(key.replace(" ", ""))
            for form in forms:
                size = form.count(" ") + 1
                self._exact.setdefault(size, {}).setdefault(form, entry)
                if len(form.replace(" ", "")) >= MIN_FUZZY_LEN:
                    self._fuzzy.setdefault(size, {}).setdefault(form, entry)
        self.longest = max(self._exact, default=0)

    def find(self, text: str) -> list[str]:
        """The hype entries heard in `text`, in order, once per time they were said.

        At each word we try the longest entries first, so "oh my god" wins over "omg"-like
        single words, and words used by one match are not used again.
        """
        tokens = [w for w in words(text) if len(w) <= MAX_WORD_LEN]
        found: list[str] = []
        i = 0
        while i < len(tokens):
            for size in range(min(self.longest, len(tokens) - i), 0, -1):
                hit = self._match(tokens[i : i + size], size)
                if hit is not None:
                    found.append(hit)
                    i += size
                    break
            else:
                i += 1
        return found

    def _match(self, window: list[str], size: int) -> str | None:
        """The entry that `window` (a few words) matches, or None."""
        exact = self._exact.get(size, {})
        fuzzy = self._fuzzy.get(size, {})
        best: tuple[float, str] | None = None
        for keep in (1, 2):
            text = " ".join(squeeze(w, keep) for w in window)
            if text in exact:
                return exact[text]
            if not fuzzy:
                continue
            hit = process.extractOne(text, fuzzy.keys(), scorer=fuzz.ratio,
                                     score_cutoff=self.threshold)
            if hit is not None and (best is None or hit[1] > best[0]):
                best = (hit[1], fuzzy[hit[0]])
        return best[1] if best else None
