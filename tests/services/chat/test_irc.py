"""IRC lines in Twitch's dialect: tags, escapes, emotes, actions, notices, bad lines."""

from __future__ import annotations

import pytest

from services.chat.irc import (
    ChatMessage,
    ChatNotice,
    Emote,
    IrcParseError,
    escape_tag,
    format_line,
    parse_line,
    to_event,
    twitch_login,
    unescape_tag,
)

PRIVMSG = (
    "@badge-info=subscriber/8;badges=subscriber/6,premium/1;color=#1E90FF;"
    "display-name=Ronni;emotes=25:0-4,12-16/1902:6-10;id=b34ccfc7-4977-403a-8a94-33c6bac34fb8;"
    "mod=0;room-id=1337;subscriber=1;tmi-sent-ts=1507246572675;turbo=1;user-id=1337;"
    "user-type=global_mod :ronni!ronni@ronni.tmi.twitch.tv PRIVMSG #ronni :Kappa Keepo Kappa\r\n"
)


def test_a_twitch_privmsg_comes_apart() -> None:
    msg = parse_line(PRIVMSG)
    assert msg.command == "PRIVMSG"
    assert msg.params == ["#ronni", "Kappa Keepo Kappa"]
    assert msg.nick == "ronni"
    assert msg.tags["tmi-sent-ts"] == "1507246572675"
    assert msg.tags["user-type"] == "global_mod"

    event = to_event(msg, fallback_ts=0.0)
    assert isinstance(event, ChatMessage)
    assert event.channel == "ronni"
    assert event.user == "ronni" and event.display_name == "Ronni"
    assert event.ts == pytest.approx(1507246572.675)
    assert event.badges == {"subscriber": "6", "premium": "1"}
    assert event.emotes == [Emote("25", 0, 4), Emote("25", 12, 16), Emote("1902", 6, 10)]
    assert event.emote_names() == ["Kappa", "Keepo", "Kappa"]
    assert not event.action


def test_tag_escapes() -> None:
    assert unescape_tag(r"a\sb\:c\\d\re\nf") == "a b;c\\d\re\nf"
    assert unescape_tag("plain") == "plain"
    assert unescape_tag(r"unknown\x") == "unknownx"  # an unknown escape keeps its letter
    assert unescape_tag("trailing\\") == "trailing"  # a lone final backslash goes
    for text in ["a b;c\\d\r\ne", "", ";;;", "\\s", "emoji 🎉 ok"]:
        assert unescape_tag(escape_tag(text)) == text
    msg = parse_line(r"@system-msg=5\sraiders\sfrom\sX\shave\sjoined!;empty=;bare :tmi.twitch.tv "
                     "USERNOTICE #chan")
    assert msg.tags == {"system-msg": "5 raiders from X have joined!", "empty": "", "bare": ""}


def test_an_action_is_a_me_message() -> None:
    line = ("@tmi-sent-ts=1700000000000 :bob!bob@bob.tmi.twitch.tv PRIVMSG #chan "
            ":\x01ACTION waves at chat\x01")
    event = to_event(parse_line(line), fallback_ts=0.0)
    assert isinstance(event, ChatMessage)
    assert event.action and event.text == "waves at chat"
    assert event.ts == 1_700_000_000.0


def test_raids_and_gifts_suppress_spikes_subs_do_not() -> None:
    raid = parse_line(
        r"@login=bigraider;msg-id=raid;msg-param-viewerCount=1200;"
        r"system-msg=1200\sraiders\sfrom\sBigRaider\shave\sjoined!;tmi-sent-ts=1700000001500 "
        ":tmi.twitch.tv USERNOTICE #chan")
    event = to_event(raid, fallback_ts=0.0)
    assert isinstance(event, ChatNotice)
    assert event.kind == "raid" and event.user == "bigraider" and event.suppresses
    assert event.params["viewerCount"] == "1200"
    assert event.text == "1200 raiders from BigRaider have joined!"
    assert event.ts == 1_700_000_001.5
    for kind, suppresses in [("subgift", True), ("submysterygift", True), ("sub", False),
                             ("resub", False)]:
        notice = to_event(parse_line(f"@msg-id={kind};login=x :tmi.twitch.tv USERNOTICE #c"), 5.0)
        assert isinstance(notice, ChatNotice)
        assert notice.suppresses is suppresses
        assert notice.ts == 5.0  # no tmi-sent-ts: the fallback time


def test_the_irc_channel_comes_from_a_twitch_url() -> None:
    assert twitch_login("https://www.twitch.tv/Some_Streamer") == "some_streamer"
    assert twitch_login("twitch.tv/foo?referrer=raid") == "foo"
    assert twitch_login("https://m.twitch.tv/foo/") == "foo"
    assert twitch_login("https://www.twitch.tv/videos/123456") is None
    assert twitch_login("https://example.com/live.m3u8") is None
    assert twitch_login("/media/x.mp4") is None


def test_other_lines_are_not_chat() -> None:
    assert to_event(parse_line("PING :tmi.twitch.tv"), 0.0) is None
    assert parse_line("PING :tmi.twitch.tv").trailing == "tmi.twitch.tv"
    welcome = parse_line(":tmi.twitch.tv 001 justinfan123 :Welcome, GLHF!")
    assert welcome.command == "001" and welcome.params == ["justinfan123", "Welcome, GLHF!"]
    assert to_event(welcome, 0.0) is None
    assert to_event(parse_line(":tmi.twitch.tv RECONNECT"), 0.0) is None


def test_format_then_parse_gives_the_same_line() -> None:
    line = format_line("PRIVMSG", "#chan", ":) hi there", tags={"a": "x y;z"},
                       prefix="bob!bob@bob.tmi.twitch.tv")
    assert line.endswith("\r\n")
    msg = parse_line(line)
    assert msg.command == "PRIVMSG"
    assert msg.params == ["#chan", ":) hi there"]
    assert msg.tags == {"a": "x y;z"}
    assert format_line("CAP", "REQ", "twitch.tv/tags twitch.tv/commands") == \
        "CAP REQ :twitch.tv/tags twitch.tv/commands\r\n"
    assert format_line("NICK", "justinfan1") == "NICK justinfan1\r\n"
    with pytest.raises(ValueError):
        format_line("PRIVMSG", "#chan", "two\r\nlines")


@pytest.mark.parametrize("bad", [
    "", "   ", "\r\n", "@tags-and-nothing-else", ":prefix-only", "@a=b :prefix-only",
    "@=value :x PRIVMSG #c :hi", "!!! what", "12 three-digit-only", "PRIV_MSG #c :x",
    "PRIVMSG #c :nul\0inside",
])
def test_malformed_lines_raise_a_parse_error(bad: str) -> None:
    with pytest.raises(IrcParseError):
        parse_line(bad)
