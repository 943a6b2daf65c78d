"""What one chat message says, in the few ways that matter for spikes.

Chat that reacts to a moment looks alike in every language: short messages, the same message
from many people ("7777", "KEKW", a copy-paste), emotes, laughter and hype words, and people
asking for a clip. `read` boils a message down to those cues:

- `key`: the start of the message in lower case with its repeats folded (a word made of one
  or two letters over and over is those letters once: "777777" -> "7", "hahaha" -> "ha"; a
  word said again and again is said once: "LUL LUL LUL" -> "lu"), so two people typing the
  same reaction give the same key;
- `size`: how long the folded message is (a wall of "7" is one character of meaning);
- `emote`: it holds an emote (see `emotes`);
- `cheer`: laughter or hype in any language (KEKW, LUL, 草, www, jajaja, 哈哈, 7777, 8888,
  "+1", "!!!", POG, 牛逼, ...);
- `clip`: someone asks for a clip ("clip it", "clip that"), which is strong evidence.

Speed matters (a saved log is read at well over 100 000 messages a second), so the word lists
are plain alternations of literal text, which Python's `re` scans quickly, and a reading is
cached by text, since chat repeats itself a lot.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from .emotes import CHANNEL_EMOTE, global_emotes

CHEER_WORDS = frozenset([
    "w", "ww", "gg", "ggs", "ggwp", "ez", "wow", "woah", "omg", "wtf", "pog", "pogu",
    "poggers", "pogchamp", "kekw", "kek", "lul", "lulw", "omegalul", "lol", "lmao", "lmfao",
    "xd", "xdd", "xddd", "kreygasm", "hype", "letsgo", "sheesh", "clutch", "insane", "holy",
    "goat", "rsrs", "mdr", "ptdr", "xswl", "huehue", "vamos", "vamo", "golazo", "nossa",
    "caraca", "krass", "jajaja", "jajajaja",
])
"""Whole words (lower case, end punctuation taken off) that laugh or cheer."""

CHEER_ASCII = (
    "haha|hehe|hihi|jaja|jeje|wkwk|kkkk|hhhh|lol|lmao|kek|lul|xd|pog|lets go|let's go|letsgo"
    "|omg|no way|777|666|888|555|2333|!!!|???|rofl|holy|insane|clutch|sheesh|kreygasm|=))"
)
"""Laughter and hype inside ASCII text (lower case)."""

CHEER_OTHER = (
    "草|笑|哈哈|呵呵|嘻嘻|嘿嘿|ㅋㅋ|ㅎㅎ|ｗｗ|хаха|ахах|хах|ههه|😂|🤣|😆|😹|💀|牛逼|牛b|厉害|厲害"
    "|强|強|神|猛|帅|帥|赞|讚|漂亮|天啊|卧槽|臥槽|我靠|握草|好球|太扯|哇|靠北|幹|すご|やば|ナイス"
    "|きた|キタ|우와|대박|미쳤|ура|жесть|имба|🔥|💯|😱|😮|🤯|👏|！！！|？？？|７７７|８８８"
)
"""Laughter and hype in other scripts (Chinese, Japanese, Korean, Russian, Arabic, emoji)."""

CLIP_ASKS = "clip it|clip that|clip this|clipit|clipped|!clip|クリップ|剪辑|剪輯|切片|клип"
"""Someone asks for a clip."""

PLUS_ONE = frozenset({"+1", "＋１", "+ 1", "＋1", "+１"})

_ASCII = re.compile("|".join(re.escape(p) for p in CHEER_ASCII.split("|")))
_OTHER = re.compile("|".join(re.escape(p) for p in CHEER_OTHER.split("|")))
_CLIP = re.compile("|".join(re.escape(p) for p in CLIP_ASKS.split("|")))
_PUNCT = ".,!?:;\"'()[]~*"
KEY_CHARS = 32
"""Only this much of a message makes its key: enough to tell messages apart, and a long
copy-paste stays cheap to fold."""
READ_CHARS = 64
"""Only this much of a message is searched for cues: a reaction says so early."""
CACHE_SIZE = 50_000


class Reading(NamedTuple):
    """One message, boiled down (see the module's notes)."""

    key: str
    size: int
    emote: bool
    cheer: bool
    clip: bool


READINGS: dict[str, Reading] = {}
"""Readings by text, so that chat's many repeats are read once (cleared when it is full)."""


def read(text: str) -> Reading:
    """Boil a message down to its cues (cached by text)."""
    found = READINGS.get(text)
    if found is None:
        if len(READINGS) >= CACHE_SIZE:
            READINGS.clear()
        found = READINGS[text] = _read(text)
    return found


def _read(text: str) -> Reading:
    head = text[:READ_CHARS]
    lower = head.lower()
    known = global_emotes()
    folded: list[str] = []
    cheer = emote = False
    last = ""
    for word in head.split():
        if not emote and (word in known or (
                word[0].islower() and not (word.isalpha() and word.islower())
                and CHANNEL_EMOTE.fullmatch(word) is not None)):
            emote = True
        word = word.lower()
        if not cheer and (word.strip(_PUNCT) in CHEER_WORDS
                          or (word[0] in "wｗ" and _all_w(word))):
            cheer = True
        if len(set(word)) <= 2:  # "7777" is "7", "hahaha" is "ha"
            word = "".join(dict.fromkeys(word))
        if word != last:  # "LUL LUL LUL" is one "LUL"
            folded.append(word)
            last = word
    key = " ".join(folded)[:KEY_CHARS]
    ascii_only = head.isascii()
    cheer = (cheer or _ASCII.search(lower) is not None
             or (not ascii_only and _OTHER.search(head) is not None)
             or lower.strip() in PLUS_ONE or _shouts(head))
    clip = ("clip" in lower or not ascii_only) and _CLIP.search(lower) is not None
    return Reading(key, len(key), emote, cheer, clip)


def _all_w(word: str) -> bool:
    """"www": laughter in Japanese chat."""
    return len(word) > 1 and not word.strip("wｗ")


def _shouts(text: str) -> bool:
    """All in capitals, with at least four letters ("LETS GOOO", "NO WAY")."""
    if not text.isupper():  # quick: some letter is not a capital, or there is none
        return False
    letters = [c for c in text if c.isascii() and c.isalpha()]
    return len(letters) >= 4 and all(c.isupper() for c in letters)


def is_hype(text: str, emotes: int = 0) -> bool:
    """True for a message that laughs, cheers, asks for a clip or holds an emote."""
    found = read(text)
    return emotes > 0 or found.cheer or found.emote or found.clip
