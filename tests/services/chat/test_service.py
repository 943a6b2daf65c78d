"""The chat service end to end: a real IRC server on loopback, a real Redis, the service's own
`main`, four channels at once.

How time is handled, so that the test is quick and still honest: each channel first gets two
minutes of calm history (one message every 5 s) stamped with `tmi-sent-ts` in the past. The
server sends those lines at once - a fast replay - and that is fair because the detector goes by
`tmi-sent-ts`, never by when a line arrives; it is how the baseline gets seeded. Then the part
under test (a 10 s burst, a 2 s blip, a raid and a burst, a dropped connection) is played
at real pace, stamped with the current time, and the service has to find it live.
"""

from __future__ import annotations

import asyncio
import logging
import time
from pathlib import Path

import pytest
from redis.asyncio import Redis

from services.chat.chatlog import log_path
from services.chat.service import main
from services.chat.worker import WORKER
from shared.bus import Bus
from shared.channels import save_state
from shared.contracts import ChannelState, ChatSecond
from shared.runtime import ServiceContext
from shared.settings import Settings
from shared.streams import CHAT
from tests.services.chat.irc_server import Connection, Line, TwitchIrcServer
from tests.services.chat.synth import burst, history

pytestmark = pytest.mark.timeout(90)

STATE_WALL_AGO = 300.0  # the session began this long before the test


async def chat_seconds(bus: Bus, channel: str, until: float, timeout: float = 30) -> list[
        ChatSecond]:
    """Every ChatSecond of `channel`, once one at or after wall time `until` is out."""
    deadline = time.monotonic() + timeout
    while True:
        found = [d.message for d in await bus.read(CHAT, channel=channel, count=100_000)]
        if found and found[-1].wall >= until:
            return found
        assert time.monotonic() < deadline, f"{channel}: no chat seconds up to {until}"
        await asyncio.sleep(0.2)


async def start_history(server: TwitchIrcServer, channel: str) -> tuple[Connection, float]:
    """Wait for the service to join, send 2 minutes of history at once; the live part is to
    start at the returned time."""
    conn = await server.wait_joined(channel, timeout=20)
    live_at = time.time() + 2.0
    await conn.replay(history(end=live_at - 3.0, seconds=120, every=5))
    return conn, live_at


async def burst_channel(server: TwitchIrcServer, bus: Bus, data: Path) -> None:
    conn, t0 = await start_history(server, "burstchan")
    await conn.replay(burst(t0, n=40, over=10.0))  # real pace: a sustained burst of 10 s
    seconds = await chat_seconds(bus, "burstchan", until=t0 + 14)
    state_wall = seconds[0].wall - seconds[0].t
    assert all(abs(s.t - (s.wall - state_wall)) < 1e-6 for s in seconds)
    assert all(s.session == "s1" and s.dur == 1.0 for s in seconds)
    flagged = [s for s in seconds if s.spike]
    assert flagged and flagged[0].wall <= t0 + 8  # known as a spike while it goes on
    assert not any(s.spike for s in seconds if s.wall < t0 - 1)
    lag = Settings().chat_reaction_lag_s
    slack = Settings().chat_moment_slack_s
    for s in flagged:  # each spike second names where the moment was, in stream time
        assert s.spike_start is not None and s.moment is not None
        assert t0 - 1 <= s.spike_start + state_wall <= t0 + 2
        assert s.moment == pytest.approx(s.spike_start - lag)
        assert s.moment_from == pytest.approx(s.moment - slack)
        assert s.moment_to == s.spike_start
        assert s.strength >= Settings().chat_spike_z
        assert s.hype_density > 0.5 or s.messages == 0  # after its end, before it closes
    assert sum(s.messages for s in seconds if s.wall >= t0 - 1) == 40
    assert sum(s.messages for s in seconds if s.wall < t0 - 1) == 24  # the whole history
    # The raw chat was recorded, history and burst, in the plain format.
    lines = log_path(data, "burstchan", "s1").read_text().splitlines()
    assert len(lines) == 64
    assert any(line.endswith(" viewer3: Kappa hello Kappa") for line in lines)
    assert any(line.endswith(": /me waves") for line in lines)
    assert any(line.endswith(" fan0: PogChamp") for line in lines)


async def quiet_channel(server: TwitchIrcServer, bus: Bus) -> None:
    conn, t0 = await start_history(server, "quietchan")
    await conn.replay([Line(t0 + 0.4 * i, f"quick{i}", "PogChamp") for i in range(5)])
    seconds = await chat_seconds(bus, "quietchan", until=t0 + 8)
    assert not any(s.spike for s in seconds)  # a blip of five in 2 s is no spike
    assert sum(s.messages for s in seconds if s.wall >= t0 - 1) == 5


async def raid_channel(server: TwitchIrcServer, bus: Bus, data: Path) -> None:
    conn, t0 = await start_history(server, "raidchan")
    await conn.replay([Line(t0, "bigraider", notice="raid"),
                       *burst(t0 + 0.5, n=40, over=10.0, prefix="raidfan")])
    seconds = await chat_seconds(bus, "raidchan", until=t0 + 14)
    assert not any(s.spike for s in seconds)
    flood = [s for s in seconds if s.wall >= t0 - 1]
    assert sum(s.messages for s in flood) == 40
    assert all(s.suppressed for s in flood if s.wall >= t0)
    assert not any(s.suppressed for s in seconds if s.wall < t0 - 1)
    assert f"{t0:.3f} * raid bigraider" in log_path(data, "raidchan", "s1").read_text()


async def dropped_channel(server: TwitchIrcServer, bus: Bus, data: Path) -> None:
    first, _ = await start_history(server, "dropchan")
    await first.drop()  # no goodbye; the client has to notice and connect again
    second = await server.wait_joined("dropchan", nth=2)
    back_at = time.time() + 0.5
    await second.replay([Line(back_at + 0.3 * i, f"back{i}", "we are back") for i in range(10)])
    seconds = await chat_seconds(bus, "dropchan", until=back_at + 6)
    assert sum(s.messages for s in seconds if s.wall >= int(back_at)) == 10
    text = log_path(data, "dropchan", "s1").read_text()
    assert text.count("we are back") == 10 and text.count("\n") == 34


async def test_the_chat_service_live(settings: Settings, bus: Bus,
                                     redis_client: Redis) -> None:
    async with TwitchIrcServer() as server:
        chat_settings = settings.model_copy(update={
            "chat_irc_host": "127.0.0.1", "chat_irc_port": server.port, "chat_irc_tls": False,
            "reconnect_min_s": 0.1, "reconnect_max_s": 0.3,
            "lease_ttl_s": 5.0,  # no takeover here; a short lease is lost on a loaded machine
        })
        began = time.time() - STATE_WALL_AGO
        for channel in ["burstchan", "quietchan", "raidchan", "dropchan"]:
            await save_state(redis_client, ChannelState(
                channel=channel, session="s1", state="live", t=0.0, wall=began,
                url=f"https://www.twitch.tv/{channel}"))
        # A local file has no Twitch chat: the service leaves it alone.
        await save_state(redis_client, ChannelState(channel="localfile", session="s1",
                                                    state="live", url="/media/x.mp4",
                                                    wall=began))
        ctx = ServiceContext(worker=WORKER, settings=chat_settings, bus=bus,
                             log=logging.getLogger("clip_live.chat"))
        service = asyncio.create_task(main(ctx))
        try:
            data = chat_settings.data_dir
            await asyncio.gather(burst_channel(server, bus, data), quiet_channel(server, bus),
                                 raid_channel(server, bus, data),
                                 dropped_channel(server, bus, data))
        finally:
            ctx.stop.set()
            await asyncio.wait_for(service, 15)
        assert server.joins("localfile") == 0
        assert server.joins("burstchan") == 1
