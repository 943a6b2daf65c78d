"""What a worker that goes on with a session reads from its folder (no Redis, no FFmpeg)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from services.ingest.resume import read_disk, remove_lists
from services.ingest.ring_buffer import Stored, append_index


def _segment(folder: Path, seq: int, mtime: float = 1000.0) -> str:
    name = f"seg_{seq:06d}.ts"
    (folder / name).write_bytes(b"\x47" * 188)
    os.utime(folder / name, (mtime, mtime))
    return name


def test_an_empty_folder_never_ran() -> None:
    disk = read_disk(Path("/nonexistent-folder-for-a-test"))
    assert not disk.ran_before and disk.next_seq == 0 and disk.stored == []


def test_segments_a_killed_worker_left_unpublished_are_recovered(tmp_path: Path) -> None:
    # The killed worker's connection began at stream time 10 (its media time 0) with
    # segment 0, and published segments 0..2.
    for seq in range(3):
        append_index(tmp_path, Stored(seq, 10.0 + 2 * seq, 2.0, _segment(tmp_path, seq)))
    _segment(tmp_path, 3, mtime=1007.0)
    _segment(tmp_path, 4, mtime=1008.0)  # cut off mid-way: no list names it
    (tmp_path / ".list-000000.csv").write_text(
        "seg_000000.ts,0.000000,2.000000\nseg_000001.ts,2.000000,4.000000\n"
        "seg_000002.ts,4.000000,6.000000\nseg_000003.ts,6.000000,7.250000\nseg_000004.ts,7.2")
    disk = read_disk(tmp_path)
    assert [s.seq for s in disk.stored] == [0, 1, 2]
    assert disk.recovered == [(Stored(3, 16.0, 1.25, "seg_000003.ts"), 1007.0)]
    assert disk.next_seq == 5, "the cut-off file's number is never used again"
    assert disk.end == (17.25, 1007.0)
    remove_lists(tmp_path)
    assert not list(tmp_path.glob(".list-*"))


def test_a_list_that_cannot_be_placed_on_the_clock_is_skipped(tmp_path: Path) -> None:
    append_index(tmp_path, Stored(0, 0.0, 2.0, _segment(tmp_path, 0, mtime=1002.0)))
    _segment(tmp_path, 1)
    # A connection none of whose segments was published: where its time 0 is, nobody knows.
    (tmp_path / ".list-000001.csv").write_text("seg_000001.ts,0.000000,2.000000\n")
    disk = read_disk(tmp_path)
    assert disk.recovered == [] and disk.next_seq == 2
    assert disk.end == pytest.approx((2.0, 1002.0))


def test_the_end_is_where_the_last_indexed_segment_stops(tmp_path: Path) -> None:
    for seq in range(4):
        append_index(tmp_path, Stored(seq, 2.0 * seq, 2.0, _segment(tmp_path, seq, 1000 + seq)))
    (tmp_path / "seg_000000.ts").unlink()  # trimmed from the ring buffer
    disk = read_disk(tmp_path)
    assert [s.seq for s in disk.stored] == [1, 2, 3]
    assert disk.end == (8.0, 1003.0) and disk.next_seq == 4 and disk.ran_before
