"""Spikes in saved chat logs: both formats, planted bursts found and nothing else, a byte-order
mark, bad input skipped with a log line, and `clip-live chat-spikes` with --json and --top."""

from __future__ import annotations

import json
import logging
import subprocess
from pathlib import Path

import pytest

from services.chat.chatlog import LogEntry, message_line, notice_line, parse_log_line
from services.chat.irc import ChatMessage, ChatNotice
from services.chat.offline import (
    ChatLogError,
    Spike,
    find_spikes,
    format_spikes,
    read_chat_log,
)
from shared.settings import Settings
from tests.services.chat.irc_server import Line
from tests.services.chat.synth import long_log, write_json, write_plain
from tests.support import PYTHON, REPO

START = 1_700_000_000.0
BURSTS = [300.0, 720.0, 1500.0]  # seconds into the log: 40 hyped messages in 10 s
RAIDS = [1080.0]  # a raid, then such a burst: not a spike
CLUSTERS = [480.0, 1300.0]  # five quick messages in 2 s: not a spike
CLI = [PYTHON, str(REPO / "clip_live.py"), "chat-spikes"]


@pytest.fixture(scope="module")
def planted() -> list[Line]:
    return long_log(seed=7, minutes=30, bursts=BURSTS, raids=RAIDS, clusters=CLUSTERS,
                    start=START)


def check_found(spikes: list[Spike], zero: float) -> None:
    """The planted bursts and nothing else; `zero` is the log clock's time at START."""
    assert len(spikes) == len(BURSTS), spikes
    for spike, burst in zip(spikes, BURSTS, strict=True):
        assert burst <= spike.start - zero <= burst + 1.0, (spike, burst)
        assert spike.start <= spike.peak <= spike.end <= spike.start + 11
        assert spike.moment == spike.start - Settings().chat_reaction_lag_s
        assert spike.messages >= 40 and spike.strength >= Settings().chat_spike_z


def test_plain_log(planted: list[Line], tmp_path: Path) -> None:
    path = tmp_path / "session.log"
    write_plain(planted, path)
    spikes = find_spikes(path, Settings())
    check_found(spikes, START)  # plain logs keep their Unix times
    text = format_spikes(spikes, read_chat_log(path), path)
    assert text.startswith(f"3 chat spike(s) in {path}")
    assert "2023-11-14" in text  # the UTC date of the planted times


def test_twitchdownloader_json(planted: list[Line], tmp_path: Path) -> None:
    path = tmp_path / "chat.json"
    write_json(planted, path, start=START)
    spikes = find_spikes(path, Settings())
    check_found(spikes, 0.0)  # JSON times are seconds into the video
    assert "0:05:0" in format_spikes(spikes, read_chat_log(path))  # the first, at 5 minutes


@pytest.mark.parametrize("kind", ["plain", "json"])
def test_a_byte_order_mark_is_harmless(planted: list[Line], tmp_path: Path, kind: str,
                                       caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "chat.txt"
    if kind == "plain":
        write_plain(planted, path)
    else:
        write_json(planted, path, start=START)
    without = read_chat_log(path)
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    with caplog.at_level(logging.WARNING, logger="clip_live.chat.offline"):
        marked = read_chat_log(path)
    assert marked.entries == without.entries  # the first line is kept, as it was
    assert marked.entries[0].user == without.entries[0].user and marked.skipped == 0
    assert "skipped" not in caplog.text
    check_found(find_spikes(path, Settings()), START if kind == "plain" else 0.0)


def test_no_spikes_in_calm_chat(tmp_path: Path) -> None:
    path = tmp_path / "calm.log"
    write_plain(long_log(seed=1, minutes=10, bursts=[], raids=[], clusters=[120.0]), path)
    assert find_spikes(path, Settings()) == []
    assert format_spikes([], read_chat_log(path)) == "no chat spikes"


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
    check_found(spikes, START)
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


def test_the_command_prints_json_and_the_strongest(planted: list[Line], tmp_path: Path) -> None:
    path = tmp_path / "session.log"
    write_plain(planted, path)
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    done = subprocess.run([*CLI, str(path), "--json"], capture_output=True, text=True,
                          timeout=60, check=True)
    shown = json.loads(done.stdout)
    assert shown["clock"] == "unix" and shown["detection_time"] == "start"
    every = shown["spikes"]
    assert [round(s["start"] - START) for s in every] == [round(b) for b in BURSTS]
    for s in every:
        assert s["start"] <= s["peak"] <= s["end"]
        assert s["moment"] == s["start"] - Settings().chat_reaction_lag_s
        assert s["strength"] > 0 and s["messages"] >= 40 and s["chatters"] >= 40
        assert {"lift", "repeats", "emotes", "laugh_hype", "clip_asks",
                "length_vs_normal"} <= set(s["features"])
    top = subprocess.run([*CLI, str(path), "--json", "--top", "2"], capture_output=True,
                         text=True, timeout=60, check=True)
    ranked = json.loads(top.stdout)["spikes"]
    strongest = sorted(every, key=lambda s: -s["strength"])[:2]
    assert [s["start"] for s in ranked] == [s["start"] for s in strongest]
    assert [s["rank"] for s in ranked] == [1, 2]
    table = subprocess.run([*CLI, str(path), "--top", "1"], capture_output=True, text=True,
                           timeout=60, check=True)
    assert table.stdout.startswith(f"1 chat spike(s) in {path}")
    bad = subprocess.run([*CLI, str(path), "--top", "0"], capture_output=True, text=True,
                         timeout=60)
    assert bad.returncode == 2 and "--top" in bad.stderr


def test_a_line_with_a_wrong_time_is_a_break_not_hours_of_silence(
        planted: list[Line], tmp_path: Path) -> None:
    """A stray line from 1970 in front: the log is read at once, and the spikes stay."""
    path = tmp_path / "session.log"
    write_plain([Line(5.0, "stray", "hello from 1970"), *planted], path)
    check_found(find_spikes(path, Settings()), START)
