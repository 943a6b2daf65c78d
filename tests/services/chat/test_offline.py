"""`find_spikes` on saved chat logs: both formats, planted bursts found, nothing else; bad input
skipped with a log line."""

from __future__ import annotations

import json
import logging
import math
from pathlib import Path

import pytest

from services.chat.chatlog import LogEntry, message_line, notice_line, parse_log_line
from services.chat.irc import ChatMessage, ChatNotice
from services.chat.offline import ChatLogError, Spike, find_spikes, format_spikes
from shared.settings import Settings
from tests.services.chat.irc_server import Line
from tests.services.chat.synth import long_log, write_json, write_plain

START = 1_700_000_000.0
BURSTS = [300.0, 720.0, 1500.0]  # seconds into the log
RAIDS = [1080.0]  # a raid, then a burst: not a spike
CLUSTERS = [480.0, 1300.0]  # three quick messages: not a spike


@pytest.fixture(scope="module")
def planted() -> list[Line]:
    return long_log(seed=7, minutes=30, bursts=BURSTS, raids=RAIDS, clusters=CLUSTERS,
                    start=START)


def check_found(spikes: list[Spike], offset_of_start: float) -> None:
    found = [s.offset + offset_of_start for s in spikes]
    assert len(found) == len(BURSTS), found
    for at, burst in zip(found, BURSTS, strict=True):
        assert burst <= at <= burst + 2.0, (at, burst)
    assert all(s.strength >= Settings().chat_spike_z for s in spikes)
    assert all(s.messages >= 30 for s in spikes)


def test_plain_log(planted: list[Line], tmp_path: Path) -> None:
    path = tmp_path / "session.log"
    write_plain(planted, path)
    spikes = find_spikes(path, Settings())
    # Offsets count from the first whole second of a plain log.
    check_found(spikes, math.floor(planted[0].ts) - START)
    assert all(s.wall is not None and START < s.wall < START + 1800 for s in spikes)
    text = format_spikes(spikes, path)
    assert text.startswith(f"3 chat spike(s) in {path}")
    assert "2023-11-14" in text  # the UTC date of the planted times


def test_twitchdownloader_json(planted: list[Line], tmp_path: Path) -> None:
    path = tmp_path / "chat.json"
    write_json(planted, path, start=START)
    spikes = find_spikes(path, Settings())
    check_found(spikes, 0.0)  # JSON times are seconds into the video already
    assert all(s.wall is None for s in spikes)
    assert "0:05:0" in format_spikes(spikes)  # the first burst, at 5 minutes


def test_no_spikes_in_calm_chat(tmp_path: Path) -> None:
    path = tmp_path / "calm.log"
    write_plain(long_log(seed=1, minutes=10, bursts=[], raids=[], clusters=[120.0]), path)
    assert find_spikes(path, Settings()) == []
    assert format_spikes([]) == "no chat spikes"


def test_bad_lines_are_skipped_with_a_log_line(
        planted: list[Line], tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "messy.log"
    write_plain(planted, path)
    good = path.read_text().splitlines()
    messy = [*good[:100], "garbage without a time", "17000 no colon here", "\x00\x01",
             *good[100:]]
    path.write_text("\n".join(messy) + "\n")
    with caplog.at_level(logging.WARNING, logger="clip_live.chat.offline"):
        spikes = find_spikes(path, Settings())
    check_found(spikes, math.floor(planted[0].ts) - START)
    assert "not a chat line, skipped" in caplog.text
    assert "skipped 3 line(s)" in caplog.text


def test_broken_json_comments_are_skipped(tmp_path: Path,
                                         caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "chat.json"
    comments = [{"content_offset_seconds": 1.0, "commenter": {"name": "a"},
                 "message": {"body": "hi"}},
                {"content_offset_seconds": "soon", "commenter": {"name": "b"},
                 "message": {"body": "x"}},
                {"commenter": {"name": "c"}, "message": {"body": "no time"}},
                "not even an object",
                {"content_offset_seconds": 2.0, "commenter": {"display_name": "D"},
                 "message": {"body": "ok"}}]
    path.write_text(json.dumps({"comments": comments}))
    with caplog.at_level(logging.WARNING, logger="clip_live.chat.offline"):
        assert find_spikes(path, Settings()) == []
    assert "skipped 3 line(s)" in caplog.text


@pytest.mark.parametrize("content", ["", "just words\nmore words\n", "{not json",
                                     '{"video": {}}', "[1, 2]"])
def test_unreadable_files_raise_a_clear_error(tmp_path: Path, content: str) -> None:
    path = tmp_path / "x.log"
    path.write_text(content)
    with pytest.raises(ChatLogError, match=str(path)):
        find_spikes(path, Settings())
    with pytest.raises(ChatLogError, match="cannot read"):
        find_spikes(tmp_path / "missing.log", Settings())


def test_the_service_writes_what_the_reader_reads() -> None:
    msg = ChatMessage(channel="c", user="bob", display_name="Bob", text="two\nlines: yes",
                      ts=1_700_000_000.1234)
    assert message_line(msg) == "1700000000.123 bob: two lines: yes\n"
    assert parse_log_line(message_line(msg)) == LogEntry(1_700_000_000.123, "bob",
                                                        "two lines: yes")
    action = ChatMessage(channel="c", user="bob", display_name="Bob", text="waves", ts=5.0,
                         action=True)
    assert parse_log_line(message_line(action)) == LogEntry(5.0, "bob", "/me waves")
    raid = ChatNotice(channel="c", kind="raid", user="raider", text="120 raiders", ts=6.5)
    assert notice_line(raid) == "6.500 * raid raider\n"
    assert parse_log_line(notice_line(raid)) == LogEntry(6.5, "raider", notice="raid")
