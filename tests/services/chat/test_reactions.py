"""Reading one message: laughter and hype in many languages, emotes by name or by shape,
asking for a clip, and the folded key that makes two people's same reaction one repeat."""

from __future__ import annotations

import pytest

from services.chat.emotes import global_emotes, is_emote
from services.chat.reactions import is_hype, read

CHEERS = ["KEKW", "LUL", "OMEGALUL", "lol", "LMAO", "草", "wwwww", "ｗｗｗ", "jajajaja",
          "kkkkkk", "哈哈哈哈", "笑死", "ㅋㅋㅋㅋ", "хахаха", "7777777777", "8888", "666666",
          "+1", "＋１", "W", "PogChamp", "POGGERS", "LETS GOOOO", "no way!!!", "牛逼", "太神了",
          "すごい", "대박", "😂😂", "🔥🔥", "GG", "2333333", "5555"]
PLAIN = ["what game is this", "hello chat", "how long is the stream", "is this a rerun",
         "今天吃什麼", "where is he going", "ok", "87", "www.example.com"]


@pytest.mark.parametrize("text", CHEERS)
def test_laughter_and_hype_in_many_languages(text: str) -> None:
    assert read(text).cheer, text
    assert is_hype(text)


@pytest.mark.parametrize("text", PLAIN)
def test_plain_chat_is_no_cheer(text: str) -> None:
    assert not read(text).cheer, text


def test_emotes_by_name_and_by_a_channel_emote_shape() -> None:
    names = global_emotes()
    assert {"Kappa", "PogChamp", "LUL", "BibleThump", "FeelsBadMan", "KEKW", "monkaS",
            "OMEGALUL", "EZ", "Clap"} <= names
    assert len(names) > 300 and not any(n.startswith("#") or " " in n for n in names)
    for word in ["godtoneGOD", "xqcL", "jian444", "lirikN", "Kappa"]:
        assert is_emote(word), word
    for word in ["hello", "iPhone", "Hello", "e04", "7777", "ok"]:
        assert not is_emote(word), word
    assert read("godtoneGOD godtoneGOD").emote and not read("godtone is here").emote
    assert is_hype("just words", emotes=1)  # Twitch's own emote tag counts too


@pytest.mark.parametrize("text", ["clip it", "CLIP THAT!!", "someone clip this", "!clip",
                                  "剪辑一下"])
def test_asking_for_a_clip(text: str) -> None:
    assert read(text).clip, text


def test_the_same_reaction_folds_to_one_key() -> None:
    assert read("7777777").key == read("77777777777777").key == "7"
    assert read("hahaha").key == read("hahahahaha").key
    assert read("LUL LUL LUL").key == read("LUL").key
    assert read("哈哈哈").key == read("哈哈哈哈哈").key == "哈"
    assert read("what game is this").key == "what game is this"
    assert read("what game is this").size == 17 and read("77777777").size == 1
