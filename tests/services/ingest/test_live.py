"""Ingest against a real live HLS stream on loopback, with real FFmpeg, streamlink and Redis.

One live stream is shared by the whole module (the `live_hls` fixture).
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from pathlib import Path

import pytest

from launcher.live_hls import LiveHls
from shared.bus import Bus
from shared.embedded_redis import free_port
from shared.recording import buffer_dir, pin, unpin
from shared.settings import Settings
from shared.streams import GAPS
from tests.services.ingest.support import (
    audio,
    check_contiguous,
    command,
    ingest_ffmpegs,
    messages,
    probe_duration,
    quick,
    running_ingest,
    runs,
    segments,
    state_of,
    wait_until,
)


@pytest.mark.timeout(60)
async def test_ingest_through_streamlink_records_segments_and_contiguous_audio(
    live_hls: LiveHls, settings: Settings, bus: Bus
) -> None:
    async with running_ingest(quick(settings)):
        await command(bus, "cam", "start", live_hls.url)

        async def six_segments() -> bool:
            return len(await segments(bus, "cam")) >= 6

        await wait_until(six_segments, 30, "6 segments")
        state = await state_of(bus, "cam")
        assert state and state.state == "live" and state.quality == "best"
        await command(bus, "cam", "stop")
        await wait_until(lambda: _no_ffmpeg(settings.data_dir), 10, "FFmpeg to stop")

    chunks = await audio(bus, "cam")
    assert len(runs(chunks)) == 1, "one connection: one unbroken run of audio"
    check_contiguous(chunks)
    assert chunks[0].t == 0.0 and all(c.session == state.session for c in chunks)

    segs = await segments(bus, "cam")
    assert [s.seq for s in segs] == list(range(len(segs)))
    assert segs[0].t == 0.0
    for a, b in itertools.pairwise(segs):
        assert b.t == pytest.approx(a.t + a.dur, abs=1e-3)  # consecutive times add up
    folder = buffer_dir(settings.data_dir, "cam", state.session)
    for seg in segs[:-1]:  # the last one was cut short by the stop
        path = Path(seg.path)
        assert path.parent == folder.resolve() and path.name == f"seg_{seg.seq:06d}.ts"
        assert seg.dur == pytest.approx(2.0, abs=0.05)
        assert probe_duration(path) == pytest.approx(seg.dur, abs=0.1)
        assert seg.size == path.stat().st_size > 10_000
    # Audio and segments are on the same clock: the audio covers the recorded time.
    assert chunks[-1].t + chunks[-1].dur == pytest.approx(segs[-1].t + segs[-1].dur, abs=0.6)
    assert (await state_of(bus, "cam")).state == "stopped"  # type: ignore[union-attr]


@pytest.mark.timeout(60)
async def test_ring_buffer_keeps_retention_plus_pinned_segments(
    live_hls: LiveHls, settings: Settings, bus: Bus
) -> None:
    retention = 6.0
    await pin(bus.redis, "ring", "job-1", 3.0)  # a clip job still needs t >= 3
    async with running_ingest(quick(settings, retention_s=retention)):
        await command(bus, "ring", "start", live_hls.url)
        state = await wait_until(lambda: state_of(bus, "ring"), 5, "a session")
        folder = buffer_dir(settings.data_dir, "ring", state.session)

        def on_disk() -> list[int]:
            return sorted(int(p.stem[4:]) for p in folder.glob("seg_*.ts"))

        async def published(n: int) -> list[float] | None:
            segs = await segments(bus, "ring")
            return [s.t + s.dur for s in segs] if len(segs) >= n else None

        ends = await wait_until(lambda: published(8), 30, "8 segments")
        await asyncio.sleep(0.5)  # let the trim after the newest segment finish
        # Pinned from t=3: segment 1 (2..4 s) and later stay, though older than the retention.
        assert on_disk()[0] == 1 and ends[-1] - retention > 4.0
        await unpin(bus.redis, "ring", "job-1")
        count = len(ends)
        ends = await wait_until(lambda: published(count + 2), 15, "2 more segments")
        await asyncio.sleep(0.5)
        # Unpinned: only the last `retention` seconds (plus the one being written) stay.
        kept = on_disk()
        segs = {s.seq: s for s in await segments(bus, "ring")}
        listed = [k for k in kept if k in segs]
        span = segs[listed[-1]].t + segs[listed[-1]].dur - segs[listed[0]].t
        assert span <= retention + 2.1, (kept, span)
        assert len(kept) <= retention / 2 + 2
    assert not ingest_ffmpegs(settings.data_dir)


@pytest.mark.timeout(90)
async def test_a_network_drop_is_a_gap_and_the_clock_goes_on(
    live_hls: LiveHls, settings: Settings, bus: Bus
) -> None:
    async with running_ingest(quick(settings, stall_timeout_s=2.0)):
        await command(bus, "drop", "start", live_hls.url)

        async def segs_at_least(n: int) -> bool:
            return len(await segments(bus, "drop")) >= n

        await wait_until(lambda: segs_at_least(3), 30, "3 segments")
        live_hls.stop_server()
        try:
            state = await wait_until(_state_is(bus, "drop", "reconnecting"), 15, "reconnecting")
            assert "127.0.0.1" in state.detail
            await asyncio.sleep(10)
        finally:
            live_hls.start_server()
        before = len(await segments(bus, "drop"))
        await wait_until(_state_is(bus, "drop", "live"), 30, "live again")
        await wait_until(lambda: segs_at_least(before + 3), 30, "3 segments after the drop")

    gaps = await messages(bus, GAPS, "drop")
    assert len(gaps) == 1 and gaps[0].dur >= 8.0, gaps
    gap = gaps[0]
    assert "reconnected after" in gap.reason
    connections = runs(await audio(bus, "drop"))
    assert len(connections) == 2
    for run in connections:
        check_contiguous(run)
    first, second = connections
    audio_end = first[-1].t + first[-1].dur
    assert audio_end - 1e-6 <= gap.t <= audio_end + 0.1  # the gap starts where media stopped
    assert second[0].t == pytest.approx(gap.t + gap.dur, abs=1e-3)  # ... and went on here
    segs = await segments(bus, "drop")
    assert [s.seq for s in segs] == list(range(len(segs)))  # numbering goes on too
    after = [s for s in segs if s.t >= gap.t]
    assert after and after[0].t >= gap.t + gap.dur - 1e-3
    assert max(s.t + s.dur for s in segs if s.t < gap.t) <= gap.t + 0.1


@pytest.mark.timeout(60)
async def test_a_source_gone_for_too_long_ends_the_session(
    live_hls: LiveHls, settings: Settings, bus: Bus
) -> None:
    async with running_ingest(quick(settings, stall_timeout_s=2.0, ingest_give_up_s=4.0)):
        await command(bus, "gone", "start", live_hls.url)
        await wait_until(_state_is(bus, "gone", "live"), 20, "live")
        live_hls.stop_server()
        try:
            state = await wait_until(_state_is(bus, "gone", "ended"), 20, "ended")
        finally:
            live_hls.start_server()
        assert "gave up" in state.detail and live_hls.url in state.detail, state.detail
        await wait_until(lambda: _no_ffmpeg(settings.data_dir), 10, "FFmpeg to stop")


@pytest.mark.timeout(60)
async def test_bad_inputs_fail_clearly_and_the_service_goes_on(
    live_hls: LiveHls, settings: Settings, bus: Bus, tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    not_media = tmp_path / "notes.mp4"
    not_media.write_text("this is not a video\n" * 100)
    bad = {
        "missing": (f"http://127.0.0.1:{live_hls.port}/nothing.m3u8", "HTTP 404"),
        "closed": (f"http://127.0.0.1:{free_port()}/live.m3u8", "connection refused"),
        "notmedia": (str(not_media), "not a media file"),
        "nofile": (str(tmp_path / "absent.mp4"), "no such file"),
        "noplugin": ("nosuchsite-xyz", "no streamlink plugin"),
    }
    caplog.set_level(logging.ERROR, logger="clip_live.ingest.channel")
    async with running_ingest(quick(settings)):
        for channel, (url, _) in bad.items():
            await command(bus, channel, "start", url)
        for channel, (url, reason) in bad.items():
            state = await wait_until(_state_is(bus, channel, "failed"), 20, f"{channel} failed")
            assert url in state.detail and reason in state.detail, state.detail
            assert any(url in r.getMessage() and r.levelno == logging.ERROR for r in caplog.records)
        # The service still works: a good channel starts after all that.
        await command(bus, "good", "start", live_hls.url)
        await wait_until(_state_is(bus, "good", "live"), 20, "the good channel live")
        assert not [c for c in bad if (await state_of(bus, c)).state != "failed"]  # type: ignore[union-attr]


@pytest.mark.timeout(60)
async def test_a_public_only_channel_is_checked_again_before_it_connects(
    live_hls: LiveHls, settings: Settings, bus: Bus,
) -> None:
    # The API found the host public; by the time ingest connects it points at this machine
    # (DNS rebinding). "localhost" stands in for such a name: it resolves to loopback.
    url = f"http://localhost:{live_hls.port}/live.m3u8"
    async with running_ingest(quick(settings)):
        await command(bus, "rebound", "start", url, public_only=True)
        await command(bus, "trusted", "start", url)  # the CLI's own channels are not checked
        state = await wait_until(_state_is(bus, "rebound", "failed"), 20, "rebound failed")
        await wait_until(_state_is(bus, "trusted", "live"), 20, "the trusted channel live")
    assert "resolves to 127.0.0.1, a loopback address" in state.detail, state.detail
    assert "checked again before connecting" in state.detail
    assert state.public_only
    assert await segments(bus, "rebound") == []


@pytest.mark.timeout(60)
async def test_two_channels_at_once(live_hls: LiveHls, settings: Settings, bus: Bus) -> None:
    # One through streamlink, one through FFmpeg's own HLS reader (the `ffmpeg:` prefix).
    urls = {"one": live_hls.url, "two": f"ffmpeg:{live_hls.url}"}
    async with running_ingest(quick(settings)):
        for channel, url in urls.items():
            await command(bus, channel, "start", url)

        async def both_recording() -> bool:
            counts = [len(await segments(bus, c)) for c in urls]
            return min(counts) >= 4

        await wait_until(both_recording, 30, "both channels recording")
        found = ingest_ffmpegs(settings.data_dir)
        assert len(found) == 2
        assert sum("pipe:0" in f.cmdline() for f in found) == 1  # only one reads streamlink
    for channel in urls:
        chunks = await audio(bus, channel)
        assert len(runs(chunks)) == 1
        check_contiguous(chunks)
        segs = await segments(bus, channel)
        assert Path(segs[0].path).parent.parent.name == channel
        for seg in segs[:-1]:
            assert seg.dur == pytest.approx(2.0, abs=0.05)
    assert not ingest_ffmpegs(settings.data_dir)


@pytest.mark.timeout(40)
async def test_a_file_plays_in_real_time_then_ends(
    settings: Settings, bus: Bus, tmp_path: Path
) -> None:
    video = tmp_path / "clip.mp4"
    await _make_video(video, seconds=5)
    async with running_ingest(quick(settings)):
        await command(bus, "file", "start", str(video))
        await wait_until(_state_is(bus, "file", "live"), 10, "live")
        started = asyncio.get_running_loop().time()
        state = await wait_until(_state_is(bus, "file", "ended"), 20, "ended")
        assert asyncio.get_running_loop().time() - started >= 3.0  # paced, not all at once
    assert "ended" in state.detail
    chunks = await audio(bus, "file")
    check_contiguous(chunks)
    assert sum(c.samples for c in chunks) / 16000 == pytest.approx(5.0, abs=0.1)
    assert sum(s.dur for s in await segments(bus, "file")) == pytest.approx(5.0, abs=0.1)


# ---- Helpers ------------------------------------------------------------------------------------


def _state_is(bus: Bus, channel: str, name: str):  # type: ignore[no-untyped-def]
    async def check():  # type: ignore[no-untyped-def]
        state = await state_of(bus, channel)
        return state if state and state.state == name else None
    return check


async def _no_ffmpeg(data_dir: Path) -> bool:
    return not ingest_ffmpegs(data_dir)


async def _make_video(path: Path, seconds: int) -> None:
    proc = await asyncio.create_subprocess_exec(
        "ffmpeg", "-hide_banner", "-loglevel", "error", "-f", "lavfi",
        "-i", f"testsrc2=size=320x240:rate=30:duration={seconds}", "-f", "lavfi",
        "-i", f"sine=frequency=300:duration={seconds}", "-c:v", "libx264", "-preset",
        "ultrafast", "-g", "60", "-c:a", "aac", "-shortest", str(path))
    assert await proc.wait() == 0
