"""Ingest killed mid-stream (SIGKILL) and started again, as the supervisor does: the session goes
on with one clock, the lost time is published as a gap, and a clip across the gap is cut."""

from __future__ import annotations

import asyncio
import itertools
import json
import signal
import subprocess
import time
from pathlib import Path

import pytest

from launcher.live_hls import LiveHls
from shared.bus import Bus
from shared.contracts import Gap, Segment
from shared.settings import Settings
from shared.streams import CHANNEL_STATES, CLIPS, GAPS, HEARTBEAT_PATTERN
from tests.services.clipper.media import ask_clip, ffprobe, running_clipper, wait_finished
from tests.services.ingest.support import (
    audio,
    check_contiguous,
    command,
    ingest_ffmpegs,
    messages,
    runs,
    segments,
    state_of,
    wait_until,
)
from tests.support import PYTHON, child_env

CHANNEL = "rst"


def _start(settings: Settings, log: Path) -> subprocess.Popen[bytes]:
    """One ingest worker as a real process, as `clip-live run` starts it."""
    assert settings.redis_url
    env = child_env(
        CLIP_LIVE_REDIS_URL=settings.redis_url, CLIP_LIVE_DATA_DIR=str(settings.data_dir),
        CLIP_LIVE_LEASE_TTL_S="2", CLIP_LIVE_STALL_TIMEOUT_S="3", CLIP_LIVE_RECONNECT_MIN_S="0.3",
        CLIP_LIVE_RECONNECT_MAX_S="1", CLIP_LIVE_HEARTBEAT_INTERVAL_S="0.5",
        CLIP_LIVE_HEARTBEAT_TTL_S="3",
    )
    with log.open("ab") as out:
        return subprocess.Popen([PYTHON, "-m", "services.ingest"], env=env, cwd=log.parent,
                                stdin=subprocess.DEVNULL, stdout=out, stderr=out)


def _stop(proc: subprocess.Popen[bytes]) -> int:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
    try:
        return proc.wait(15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        raise


async def _recorded_up_to(bus: Bus, t: float) -> bool:
    return any(s.t + s.dur >= t for s in await segments(bus, CHANNEL))


@pytest.mark.timeout(180)
async def test_a_killed_ingest_goes_on_with_the_session_and_a_clip_spans_the_gap(
    live_hls: LiveHls, settings: Settings, bus: Bus, tmp_path: Path
) -> None:
    log = tmp_path / "ingest.log"
    first = _start(settings, log)
    second: subprocess.Popen[bytes] | None = None
    try:
        async def alive() -> bool:
            return bool([k async for k in bus.redis.scan_iter(match=HEARTBEAT_PATTERN)])

        await wait_until(alive, 20, "the ingest worker")
        await command(bus, CHANNEL, "start", live_hls.url)
        await wait_until(lambda: _recorded_up_to(bus, 10.0), 40, "10 s recorded")
        killed = time.time()
        first.send_signal(signal.SIGKILL)
        first.wait(5)
        old_audio, old_segs = await audio(bus, CHANNEL), await segments(bus, CHANNEL)
        await wait_until(lambda: not ingest_ffmpegs(settings.data_dir), 10,
                         "the killed worker's FFmpeg to end")
        await asyncio.sleep(1.0)  # The supervisor waits a little before a restart.
        restarted = time.time()
        second = _start(settings, log)

        gap = await wait_until(lambda: _ingest_gap(bus), 30, "a gap message")
        await wait_until(lambda: _recorded_up_to(bus, gap.t + gap.dur + 6.0), 30,
                         "6 s recorded after the gap")
        clip_settings = settings.model_copy(update={"clip_wait_extra_s": 5.0})
        async with running_clipper(clip_settings):
            await ask_clip(bus, CHANNEL, "across-gap", t=gap.t, pre=6.0, post=gap.dur + 4.0)
            done = await wait_finished(bus, "across-gap", 60)
        state = await state_of(bus, CHANNEL)
    finally:
        if first.poll() is None:
            first.kill()
        code = _stop(second) if second else None
    assert code == 0, log.read_text()[-3000:]
    assert not ingest_ffmpegs(settings.data_dir)

    # The same session goes on, and says so while it waits for media.
    assert state is not None and state.state == "live"
    said = [d.message for d in await bus.read(CHANNEL_STATES, count=10_000)]
    assert {s.session for s in said} == {state.session}
    assert any(s.state == "reconnecting" and "ingest restarted" in s.detail for s in said)

    # One gap, from where the recording stopped to where it went on, as long as the wall gap.
    gaps = await messages(bus, GAPS, CHANNEL)
    assert gaps == [gap] and gap.session == state.session
    assert gap.by == "ingest" and gap.cause == "restart" and "ingest restarted" in gap.reason
    chunks = await audio(bus, CHANNEL)
    assert {c.session for c in chunks} == {state.session}
    before, after = runs(chunks)  # audio never overlaps or goes back (checked by `runs`)
    check_contiguous(before)
    check_contiguous(after)
    assert before == old_audio
    old_end = before[-1].t + before[-1].dur
    assert old_end - 1e-6 <= gap.t <= old_end + 2.5  # + a segment the killed one left behind
    assert after[0].t == pytest.approx(gap.t + gap.dur, abs=1e-3)
    wall_gap = after[0].wall - before[-1].wall
    assert gap.dur == pytest.approx(wall_gap, abs=1.5)
    assert gap.dur >= restarted - killed

    # Segments: one session, numbers never used twice, times go on without overlap.
    segs = await segments(bus, CHANNEL)
    _check_segments(segs, gap)
    assert segs[: len(old_segs)] == old_segs
    assert min(s.seq for s in segs if s.t >= gap.t) > max(s.seq for s in old_segs)

    # The clip across the gap was cut from both sides, and says where the gap was.
    assert done.status == "done", done.detail
    [clip] = [d.message for d in await bus.read(CLIPS, count=100)]
    assert clip.partial and "hole in the recording" in clip.note, clip.note
    used = json.loads(Path(clip.metadata).read_text())["segments"]
    assert any(u["t"] < gap.t for u in used) and any(u["t"] >= gap.t + gap.dur for u in used)
    probe = ffprobe(Path(clip.video))
    assert {s["codec_type"] for s in probe["streams"]} == {"video", "audio"}
    assert float(probe["format"]["duration"]) >= 6.0 + 4.0 - 1.0


async def _ingest_gap(bus: Bus) -> Gap | None:
    gaps = [g for g in await messages(bus, GAPS, CHANNEL) if g.by == "ingest"]
    return gaps[0] if gaps else None


def _check_segments(segs: list[Segment], gap: Gap) -> None:
    assert len({s.session for s in segs}) == 1
    seqs = [s.seq for s in segs]
    assert seqs == sorted(set(seqs)), f"segment numbers go back or repeat: {seqs}"
    for a, b in itertools.pairwise(segs):
        assert b.t >= a.t + a.dur - 1e-3, f"segments overlap: {a} -> {b}"
    assert max(s.t + s.dur for s in segs if s.t < gap.t) <= gap.t + 1e-3
    assert min(s.t for s in segs if s.t >= gap.t) >= gap.t + gap.dur - 1e-3
