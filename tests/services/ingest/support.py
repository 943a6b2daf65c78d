"""Helpers for the ingest tests that run the real service."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any, TypeVar

import psutil

from services.ingest import service
from services.ingest.worker import WORKER
from shared.bus import Bus
from shared.channels import all_states
from shared.contracts import AudioChunk, ChannelState, MonitorCommand, Segment
from shared.runtime import ServiceContext
from shared.settings import Settings
from shared.streams import AUDIO, CONTROL, SEGMENTS, Topic
from tests.support import wait_until  # noqa: F401

T = TypeVar("T")


def quick(settings: Settings, **changes: Any) -> Settings:
    """Settings with short ingest timers, so drops are noticed in tests quickly."""
    values: dict[str, Any] = {
        "stall_timeout_s": 2.5, "ingest_open_timeout_s": 15.0, "reconnect_min_s": 0.3,
        "reconnect_max_s": 1.0, "ingest_max_failures": 2, "ingest_give_up_s": 60.0,
    }
    values.update(changes)
    return settings.model_copy(update=values)


@contextlib.asynccontextmanager
async def running_ingest(settings: Settings, name: str = "ingest") -> AsyncIterator[ServiceContext]:
    """The ingest service running in this process, stopped (and checked) at the end."""
    assert settings.redis_url
    bus = await Bus.connect(settings.redis_url, settings)
    ctx = ServiceContext(worker=replace(WORKER, name=name), settings=settings, bus=bus,
                         log=logging.getLogger(f"clip_live.{name}"))
    task = asyncio.create_task(service.main(ctx))
    try:
        yield ctx
        assert not task.done(), f"the service stopped by itself: {task}"
    finally:
        ctx.stop.set()
        try:
            await _ended(task, 15)
        finally:
            await bus.close()


async def _ended(task: asyncio.Task[None], within_s: float) -> None:
    """Wait for the service to end. If it does not, say where every task is stuck (to stderr,
    which pytest shows), then cancel it and fail."""
    if not (await asyncio.wait({task}, timeout=within_s))[0]:
        for other in asyncio.all_tasks():
            other.print_stack(file=sys.stderr)
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        raise AssertionError(f"the ingest service did not stop within {within_s:g} s")
    task.result()


async def command(bus: Bus, channel: str, action: str, url: str = "",
                  public_only: bool = False) -> None:
    await bus.publish(CONTROL, MonitorCommand(channel=channel, action=action,  # type: ignore[arg-type]
                                              url=url, public_only=public_only, wall=time.time()))


async def state_of(bus: Bus, channel: str) -> ChannelState | None:
    return (await all_states(bus.redis)).get(channel)


async def messages(bus: Bus, topic: Topic[T], channel: str) -> list[T]:  # type: ignore[type-var]
    """Every message of a per-channel stream, oldest first."""
    found: list[Any] = []
    after = "0"
    while True:
        page = await bus.read(topic, channel=channel, after=after, count=1000)
        if not page:
            return found
        after = page[-1].id
        found.extend(d.message for d in page)


async def audio(bus: Bus, channel: str) -> list[AudioChunk]:
    return await messages(bus, AUDIO, channel)


async def segments(bus: Bus, channel: str) -> list[Segment]:
    return await messages(bus, SEGMENTS, channel)


def runs(chunks: Sequence[AudioChunk]) -> list[list[AudioChunk]]:
    """Split audio into runs of chunks that follow each other exactly (one per connection),
    checking on the way that time never goes back or overlaps."""
    found: list[list[AudioChunk]] = []
    for chunk in chunks:
        if found and abs(chunk.t - (found[-1][-1].t + found[-1][-1].dur)) < 1e-6:
            found[-1].append(chunk)
            continue
        if found:
            last = found[-1][-1]
            assert chunk.t > last.t + last.dur, f"audio overlaps or goes back: {last} -> {chunk}"
        found.append([chunk])
    return found


def check_contiguous(run: Sequence[AudioChunk]) -> None:
    """Within a connection: 8000 samples each (the last may be short), t grows by 0.5."""
    for a, b in itertools.pairwise(run):
        assert a.samples == 8000 and a.dur == 0.5, a
        assert b.t == round(a.t + 0.5, 6), (a, b)
    assert run[-1].samples <= 8000


def probe_duration(path: Path) -> float:
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "json", str(path)],
        capture_output=True, text=True, check=True).stdout
    return float(json.loads(out)["format"]["duration"])


def ingest_ffmpegs(data_dir: Path) -> list[psutil.Process]:
    """FFmpeg processes writing into `data_dir` (ingest's, not the test stream's)."""
    found = []
    for proc in psutil.process_iter(["name", "cmdline"]):
        with contextlib.suppress(psutil.Error):
            if proc.info["name"] == "ffmpeg" and any(
                    str(data_dir) in part for part in proc.info["cmdline"] or []):
                found.append(proc)
    return found
