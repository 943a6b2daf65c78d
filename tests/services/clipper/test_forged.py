"""Forged segment messages: a segment path outside the recordings folder (written plainly,
through `..`, or through a link) is never read, and the job says so without telling anything
about the file (not its size, not that it is there)."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import pytest
from redis.asyncio import Redis

from services.clipper.cut import CutError, SegmentFile, check_segment
from services.clipper.roots import recordings_root
from shared.bus import Bus
from shared.recording import buffer_dir
from shared.settings import Settings
from shared.streams import DEAD_LETTER_STREAM, SEGMENTS, clip_job_key, pins_key
from tests.services.clipper.media import (
    Recorded,
    ask_clip,
    clips,
    progress_of,
    publish_segments,
    running_clipper,
    segment_message,
    set_state,
    video_frames,
    wait_finished,
)

PASSWD = Path("/etc/passwd")


def outside_copy(rec: Recorded, folder: Path) -> Path:
    """A real, whole segment file outside the data dir: were it read, it would join well."""
    folder.mkdir(parents=True, exist_ok=True)
    copy = folder / rec.path.name
    shutil.copyfile(rec.path, copy)
    return copy


def refusal(path: Path, root: Path, size: int = 0) -> str:
    with pytest.raises(CutError) as refused:
        check_segment(SegmentFile(path=path, seq=3, size=size), root)
    return str(refused.value)


def test_only_files_inside_the_recordings_folder_are_read(
    recorded: list[Recorded], settings: Settings, tmp_path: Path
) -> None:
    root = recordings_root(settings.data_dir)
    folder = recorded[0].path.parent
    assert folder.is_relative_to(root)  # the layout ingest uses is inside the root
    assert buffer_dir(settings.data_dir, "any", "s9").is_relative_to(root)
    secret = outside_copy(recorded[3], tmp_path / "secret")
    size = str(secret.stat().st_size)
    ups = "/".join([".."] * len(folder.relative_to(tmp_path).parts))
    (folder / "link_in.ts").symlink_to(recorded[3].path)
    (folder / "link_out.ts").symlink_to(secret)
    (folder / "loop.ts").symlink_to(folder / "loop.ts")

    # Inside: read, and FFmpeg is handed the real path (links followed).
    assert check_segment(SegmentFile(recorded[3].path, 3, recorded[3].size), root) \
        == recorded[3].path.resolve()
    assert check_segment(SegmentFile(folder / "link_in.ts", 3), root) \
        == recorded[3].path.resolve()
    # Outside, in every form: refused before the file is looked at.
    forged = [secret, PASSWD, Path(f"{folder}/{ups}/secret/{secret.name}"),
              folder / "link_out.ts", folder / "loop.ts", root, Path("/"), Path("a\0b.ts"),
              Path("../../etc/passwd"), tmp_path / "secret" / "absent.ts"]
    for path in forged:
        said = refusal(path, root, size=1234)
        assert "is outside the recordings folder, so it was not read" in said, said
        assert size not in said and "bytes" not in said and "is missing" not in said, said
        assert str(PASSWD.stat().st_size) not in said and "root:" not in said, said
    # A missing file inside the root says so (that tells nothing about any other file).
    assert "is missing" in refusal(folder / "gone.ts", root)
    # A folder inside the root is no segment.
    (folder / "sub").mkdir()
    assert "is not a plain file" in refusal(folder / "sub", root)


async def test_a_forged_segment_fails_or_is_left_out_and_the_clipper_goes_on(
    bus: Bus, redis_client: Redis, clip_settings: Settings, recorded: list[Recorded],
    tmp_path: Path,
) -> None:
    wall0 = time.time() - 20
    secret = tmp_path / "secret"
    copies = [outside_copy(rec, secret) for rec in recorded[:10]]
    folder = recorded[0].path.parent
    ups = "/".join([".."] * len(folder.relative_to(tmp_path).parts))
    (folder / "link_out.ts").symlink_to(copies[6])
    for channel in ("passwd", "copies", "mixed", "good"):
        await set_state(bus, channel, "live")
    for rec, copy in zip(recorded[:10], copies, strict=True):
        await bus.publish(SEGMENTS, segment_message(rec, "passwd", wall0, path=PASSWD),
                          channel="passwd")
        await bus.publish(SEGMENTS, segment_message(rec, "copies", wall0, path=copy),
                          channel="copies")
        path = {5: Path(f"{folder}/{ups}/secret/{copy.name}"),
                6: folder / "link_out.ts"}.get(rec.seq, rec.path)
        await bus.publish(SEGMENTS, segment_message(rec, "mixed", wall0, path=path),
                          channel="mixed")
    await publish_segments(bus, "good", recorded[:10], wall0)
    untouched = {c: (c.stat().st_mtime_ns, c.stat().st_size) for c in copies}

    async with running_clipper(clip_settings) as service:
        for channel in ("passwd", "copies", "mixed"):
            await ask_clip(bus, channel, f"job-{channel}", t=12.0, pre=4.0, post=4.0)
        finished = {c: await wait_finished(bus, f"job-{c}") for c in ("passwd", "copies", "mixed")}
        await ask_clip(bus, "good", "job-good", t=12.0, pre=4.0, post=4.0)
        good = await wait_finished(bus, "job-good")
        assert not service.done()

    # Every segment forged: the job fails at once with the reason, and is done with.
    sizes = {str(PASSWD.stat().st_size), str(copies[4].stat().st_size)}
    for channel in ("passwd", "copies"):
        failed = finished[channel]
        assert failed.status == "failed", failed
        assert "no segment can be used" in failed.detail
        assert failed.detail.count("is outside the recordings folder, so it was not read") == 4
        assert "bytes" not in failed.detail and "root:" not in failed.detail, failed.detail
        assert not any(size in failed.detail for size in sizes), failed.detail
        assert await redis_client.get(clip_job_key(f"job-{channel}")) == b"failed"
        assert [p.status for p in await progress_of(bus, f"job-{channel}")][-1] == "failed"
        assert await redis_client.zcard(pins_key(channel)) == 0
    # Two forged segments among good ones: the clip is cut from the rest and says why.
    made = {clip.job_id: clip for clip in await clips(bus)}
    assert finished["mixed"].status == "done" and good.status == "done"
    mixed = made["job-mixed"]
    assert mixed.partial and Path(mixed.video).is_file()
    for seq in (5, 6):
        assert f"left out segment {seq} (" in mixed.note, mixed.note
    assert mixed.note.count("is outside the recordings folder") == 2, mixed.note
    whole = video_frames(made["job-good"])
    assert whole - 130 < video_frames(mixed) < whole - 110  # 4 s at 30 frames/s left out
    assert not made["job-good"].partial
    assert set(made) == {"job-mixed", "job-good"}
    assert await redis_client.xlen(DEAD_LETTER_STREAM) == 0
    # Nothing outside the data dir was touched.
    assert {c: (c.stat().st_mtime_ns, c.stat().st_size) for c in copies} == untouched
    assert sorted(os.listdir(secret)) == sorted(c.name for c in copies)
