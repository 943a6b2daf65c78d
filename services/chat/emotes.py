"""Emote names: the global sets every viewer has (shipped as `emotes.txt`), and the shape of
a channel's own emotes.

Chat logs keep an emote as its name typed as a word ("Kappa", "godtoneGOD"). Live, Twitch also
says which words are emotes (the IRC `emotes` tag); offline there is only the text. A word is
an emote when it is on the list, or when it has a channel emote's shape: the channel's prefix
in lower case, then a capital letter or a digit ("godtoneGOD", "xqcL", "jian777").
"""

from __future__ import annotations

import importlib.resources
import re
from functools import cache

CHANNEL_EMOTE = re.compile(r"[a-z]{3,10}[A-Z0-9][A-Za-z0-9]{0,24}")
"""A channel emote: a lower-case prefix of 3-10 letters, then a capital or a digit."""


@cache
def global_emotes() -> frozenset[str]:
    """The emote names in `emotes.txt` (blank lines and `#` comments left out)."""
    text = importlib.resources.files(__package__).joinpath("emotes.txt").read_text("utf-8")
    return frozenset(line.strip() for line in text.splitlines()
                     if line.strip() and not line.startswith("#"))


def is_emote(word: str) -> bool:
    """True when `word` is a known emote name or has a channel emote's shape."""
    return word in global_emotes() or CHANNEL_EMOTE.fullmatch(word) is not None


def count_emotes(words: list[str]) -> int:
    """How many of `words` are emotes."""
    known = global_emotes()
    return sum(1 for w in words if w in known or CHANNEL_EMOTE.fullmatch(w) is not None)
