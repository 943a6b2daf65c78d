"""Start/stop commands and the sweeping of old recordings (real Redis, no FFmpeg)."""

from __future__ import annotations

import logging
import time
from pathlib import Path

import pytest

from services.ingest.service import handle_command, new_session_id, sweep
from services.ingest.worker import WORKER
from shared.bus import Bus
from shared.channels import all_states, save_if_current, save_state
from shared.contracts import ChannelState, MonitorCommand
from shared.recording import buffer_dir, pin
from shared.runtime import ServiceContext
from shared.settings import Settings
from shared.streams import CHANNEL_STATES


@pytest.fixture
def ctx(settings: Settings, bus: Bus) -> ServiceContext:
    return ServiceContext(worker=WORKER, settings=settings, bus=bus,
                          log=logging.getLogger("clip_live.ingest"))


def _cmd(channel: str, action: str, url: str = "", quality: str = "") -> MonitorCommand:
    return MonitorCommand(channel=channel, action=action,  # type: ignore[arg-type]
                          url=url, quality=quality, wall=time.time())


async def test_start_makes_a_session_and_stop_ends_it(ctx: ServiceContext, bus: Bus) -> None:
    await handle_command(ctx, _cmd("ch", "start", "twitch.tv/someone"))
    first = (await all_states(bus.redis))["ch"]
    assert (first.state, first.url, first.quality) == ("starting", "twitch.tv/someone", "best")
    # The same start again changes nothing; another quality is a new session.
    await handle_command(ctx, _cmd("ch", "start", "twitch.tv/someone"))
    assert (await all_states(bus.redis))["ch"].session == first.session
    await handle_command(ctx, _cmd("ch", "start", "twitch.tv/someone", quality="720p"))
    second = (await all_states(bus.redis))["ch"]
    assert second.session != first.session and second.quality == "720p"

    await handle_command(ctx, _cmd("ch", "stop"))
    stopped = (await all_states(bus.redis))["ch"]
    assert (stopped.state, stopped.session) == ("stopped", second.session)
    published = [d.message.state for d in await bus.read(CHANNEL_STATES)]
    assert published == ["starting", "starting", "stopped"]
    await handle_command(ctx, _cmd("unknown", "stop"))  # nothing to stop: no error
    assert "unknown" not in await all_states(bus.redis)


async def test_start_without_a_url_fails_clearly(ctx: ServiceContext, bus: Bus) -> None:
    await handle_command(ctx, _cmd("ch", "start"))
    state = (await all_states(bus.redis))["ch"]
    assert state.state == "failed" and "no URL" in state.detail


async def test_a_running_task_cannot_undo_a_stop(bus: Bus) -> None:
    live = ChannelState(channel="ch", session="s1", state="live", url="u", wall=time.time())
    await save_state(bus.redis, live.model_copy(update={"state": "starting"}))
    assert await save_if_current(bus.redis, live)
    await save_state(bus.redis, live.model_copy(update={"state": "stopped"}))
    assert not await save_if_current(bus.redis, live)  # stopped stays stopped
    await save_state(bus.redis, live.model_copy(update={"session": "s2", "state": "starting"}))
    assert not await save_if_current(bus.redis, live)  # an old session cannot write
    assert (await all_states(bus.redis))["ch"].session == "s2"


def test_session_ids_sort_by_time_and_are_unique() -> None:
    a, b = new_session_id(1_800_000_000), new_session_id(1_800_000_000)
    assert a.startswith("20270115T080000Z-") and a != b
    assert new_session_id(1_800_000_001) > a.split("-")[0]


async def test_sweep_removes_only_old_unpinned_sessions(
    ctx: ServiceContext, bus: Bus, settings: Settings
) -> None:
    now = time.time()
    folders = {
        ("a", "old"): None, ("a", "cur"): None, ("b", "done"): None,
        ("c", "done"): None, ("d", "recent"): None,
    }
    for channel, session in folders:
        folder = buffer_dir(settings.data_dir, channel, session)
        folder.mkdir(parents=True)
        (folder / "seg_000000.ts").write_bytes(b"x")
    states = [
        ChannelState(channel="a", session="cur", state="live", url="u", wall=now - 1000),
        ChannelState(channel="b", session="done", state="stopped", url="u", wall=now - 1000),
        ChannelState(channel="c", session="done", state="ended", url="u", wall=now - 1000),
        ChannelState(channel="d", session="recent", state="ended", url="u", wall=now - 10),
    ]
    for state in states:
        await save_state(bus.redis, state)
    await pin(bus.redis, "c", "job", 12.0)  # a clip job of channel c still needs its recording

    gone = await sweep(ctx)
    assert sorted(gone) == [("a", "old"), ("b", "done")]
    root: Path = settings.data_dir / "buffer"
    assert sorted(str(p.relative_to(root)) for p in root.glob("*/*")) == [
        "a/cur", "c/done", "d/recent"]
