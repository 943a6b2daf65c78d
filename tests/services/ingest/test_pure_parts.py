"""The pure parts of ingest on plain data: chunker, segment list, ring buffer, clock, reasons."""

from __future__ import annotations

from pathlib import Path

import pytest

from services.ingest.chunker import Chunker
from services.ingest.clock import RetryPolicy, StreamClock, backoff_s
from services.ingest.reasons import ffmpeg_reason, short_reason
from services.ingest.ring_buffer import (
    Stored,
    append_index,
    highest_seq_on_disk,
    plan_sweep,
    read_index,
    to_delete,
)
from services.ingest.segment_list import ListReader, parse_line, seq_of

# ---- Chunker ------------------------------------------------------------------------------------


def test_chunks_are_half_a_second_and_follow_each_other() -> None:
    chunker = Chunker(start_t=10.0)
    out = []
    data = bytes(range(256)) * 1000  # 256000 bytes = 8 s of 16 kHz s16 mono
    for i in range(0, len(data), 7001):  # odd-sized pieces, like a pipe gives
        out += chunker.feed(data[i:i + 7001])
    assert [c.samples for c in out] == [8000] * 16
    assert [c.t for c in out] == [10.0 + 0.5 * k for k in range(16)]
    assert all(c.dur == 0.5 for c in out)
    assert b"".join(c.pcm for c in out) == data
    assert chunker.end_t == 18.0
    assert chunker.flush() is None


def test_the_last_chunk_may_be_short_and_keeps_whole_samples() -> None:
    chunker = Chunker()
    assert len(chunker.feed(b"\x01" * 16001)) == 1
    assert chunker.flush() is None  # one odd byte left: not a whole sample
    chunker.feed(b"\x01" * 3001)
    last = chunker.flush()
    assert last is not None
    assert (last.t, last.samples, len(last.pcm)) == (0.5, 1500, 3000)
    assert last.dur == pytest.approx(1500 / 16000)


# ---- Segment list -------------------------------------------------------------------------------


def test_segment_list_lines_may_arrive_in_pieces() -> None:
    reader = ListReader()
    assert reader.feed("seg_000000.ts,0.000000,2.0") == []
    first = reader.feed("21333\nseg_000001.ts,2.021333,4.021333\nseg_0000")
    assert [(e.seq, e.start, e.end) for e in first] == [(0, 0.0, 2.021333), (1, 2.021333, 4.021333)]
    assert first[0].dur == pytest.approx(2.021333)
    assert [e.name for e in reader.feed("02.ts,4.021333,6.0\n")] == ["seg_000002.ts"]


def test_broken_segment_lines_are_skipped() -> None:
    assert parse_line("") is None
    assert parse_line("seg_000001.ts,abc,2") is None
    assert parse_line("seg.ts,1,2") is None
    assert seq_of("seg_000123.ts") == 123


# ---- Ring buffer --------------------------------------------------------------------------------


def _segments(n: int, dur: float = 2.0) -> list[Stored]:
    return [Stored(i, i * dur, dur, f"seg_{i:06d}.ts") for i in range(n)]


def test_only_segments_older_than_the_retention_go() -> None:
    segs = _segments(10)  # 0..20 s
    gone = to_delete(segs, retention_s=6.0, pin=None)
    assert [s.seq for s in gone] == [0, 1, 2, 3, 4, 5, 6]  # ends <= 14 go; 14..20 stay
    assert to_delete([], 6.0, None) == []


def test_a_pin_keeps_every_segment_that_ends_after_it() -> None:
    segs = _segments(10)
    assert [s.seq for s in to_delete(segs, 6.0, pin=5.0)] == [0, 1]  # seg 2 (4..6) is needed
    assert [s.seq for s in to_delete(segs, 6.0, pin=19.0)] == [0, 1, 2, 3, 4, 5, 6]


def test_the_index_file_round_trips(tmp_path: Path) -> None:
    for seg in _segments(3):
        append_index(tmp_path, seg)
    (tmp_path / "segments.csv").open("a").write("broken line\n")
    assert read_index(tmp_path) == _segments(3)
    assert read_index(tmp_path / "nowhere") == []
    for name in ("seg_000004.ts", "seg_000012.ts", "other.ts"):
        (tmp_path / name).touch()
    assert highest_seq_on_disk(tmp_path) == 12


def test_sweep_keeps_current_sessions_and_pinned_channels() -> None:
    on_disk = {"a": ["s1", "s2"], "b": ["s3"], "c": ["s4"]}
    gone = plan_sweep(on_disk, keep={"a": "s2"}, pinned=["c"])
    assert gone == [("a", "s1"), ("b", "s3")]


# ---- Clock and retries --------------------------------------------------------------------------


def test_the_clock_jumps_over_a_reconnect_by_the_wall_clock_gap() -> None:
    clock = StreamClock()
    start, gap = clock.start_connection(now_wall=1000.0)
    assert (start, gap) == (0.0, None)
    clock.saw_media(16.02, wall=1016.0)
    start, gap = clock.start_connection(now_wall=1024.5)
    assert start == 24.52
    assert gap is not None and (gap.t, gap.dur) == (16.02, pytest.approx(8.5))


def test_backoff_doubles_up_to_a_cap() -> None:
    assert [backoff_s(n, 1.0, 5.0) for n in (1, 2, 3, 4, 5)] == [1.0, 2.0, 4.0, 5.0, 5.0]


def test_retry_policy() -> None:
    policy = RetryPolicy(min_s=1, max_s=8, max_failures=3, give_up_s=300)
    never = {"worked": False, "since_media_s": 0.0}
    assert policy.decide(failures_in_a_row=1, **never).action == "retry"
    assert policy.decide(failures_in_a_row=3, **never).action == "fail"
    assert policy.decide(failures_in_a_row=1, permanent=True, **never).action == "fail"
    # A source that worked keeps trying however many tries fail, until give_up_s.
    assert policy.decide(worked=True, failures_in_a_row=50, since_media_s=299).wait_s == 8
    assert policy.decide(worked=True, failures_in_a_row=50, since_media_s=300).action == "end"
    # A file that played to its end is over.
    assert policy.decide(worked=True, failures_in_a_row=0, since_media_s=0,
                         live_source=False).action == "end"


# ---- Reasons ------------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "reason"), [
    ("Unable to open URL: http://127.0.0.1:1/x.m3u8 (404 Client Error: File not found for url: "
     "http://127.0.0.1:1/x.m3u8)", "HTTP 404 File not found"),
    ("HTTPConnectionPool(host='127.0.0.1', port=1): Max retries exceeded ... [Errno 111] "
     "Connection refused", "connection refused (nothing is listening there)"),
    ("http://x/y.m3u8: Server returned 404 Not Found", "HTTP 404 Not Found"),
    ("Failed to resolve 'nowhere.invalid'", "unknown host name"),
    ("something odd happened", "something odd happened"),
])
def test_short_reasons(text: str, reason: str) -> None:
    assert short_reason(text) == reason


def test_ffmpeg_reason_prefers_a_known_cause() -> None:
    lines = ["[mpegts @ 0x1] Non-monotonous DTS", "/tmp/x.mp4: Invalid data found when "
             "processing input"]
    assert ffmpeg_reason(lines, 1).startswith("not a media file")
    assert ffmpeg_reason([], 0) == "the stream ended"
    assert ffmpeg_reason([], 1) == "FFmpeg failed with exit code 1"
