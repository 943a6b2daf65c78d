"""Ingest's side of "no URL can reach inside": the check it runs before each connection is the
shared one (same table as the API), and for a channel the API started, streamlink's requests
(redirects, playlists, segments) are judged again.

What is simulated: offline there is no public server, so the first hop is a loopback server
that the test declares public (ingest's check and guard are wrapped to let that one
host:port through). Every later hop is judged by the real code."""

from __future__ import annotations

import functools
from collections.abc import Iterator

import pytest

from launcher.live_hls import LiveHls
from services.ingest import channel
from services.ingest.streamlink_open import OpenError, make_session, open_stream
from shared import netcheck
from shared.bus import Bus
from shared.netguard import guard_session
from shared.settings import Settings
from tests.services.ingest.support import command, quick, running_ingest, segments, state_of
from tests.shared.http_servers import LoopbackServer, loopback_server, playlist, redirect
from tests.shared.url_table import HOSTILE_NAMES, HOSTILE_URLS, resolve
from tests.support import wait_until


@pytest.mark.parametrize(("url", "why"), HOSTILE_URLS + HOSTILE_NAMES)
def test_ingest_checks_with_the_shared_rules(url: str, why: str) -> None:
    assert channel.private_reason is netcheck.private_reason  # one check for API and ingest
    reason = channel.private_reason(url, resolve)
    assert reason is not None and why in reason, reason


@pytest.fixture
def inside() -> Iterator[LoopbackServer]:
    with loopback_server({"/secret.m3u8": playlist("/seg.ts"), "/seg.ts": (200, {}, b"x")}) \
            as server:
        yield server


@pytest.fixture
def front(inside: LoopbackServer) -> Iterator[LoopbackServer]:
    with loopback_server({
        "/live.m3u8": redirect(f"{inside.origin}/secret.m3u8"),
        "/segments.m3u8": playlist(f"{inside.origin}/seg.ts", f"{inside.origin}/seg.ts"),
    }) as server:
        yield server


def test_streamlink_follows_no_redirect_inside(front: LoopbackServer,
                                               inside: LoopbackServer) -> None:
    session = make_session(2.0, 5.0)  # ingest's own streamlink session
    guard_session(session.http, allow={f"127.0.0.1:{front.port}"})
    with pytest.raises(OpenError, match=r"127\.0\.0\.1, a loopback address"):
        open_stream(session, f"{front.origin}/live.m3u8", "best")
    assert inside.hits == []


def test_streamlink_fetches_no_segment_inside(front: LoopbackServer,
                                              inside: LoopbackServer) -> None:
    session = make_session(2.0, 5.0)
    guard_session(session.http, allow={f"127.0.0.1:{front.port}"})
    session.set_option("hls-segment-attempts", 1)
    reader = open_stream(session, f"{front.origin}/segments.m3u8", "best")
    try:
        assert reader.read(8192) == b""  # every segment refused: the stream just ends
    finally:
        reader.close()
    assert inside.hits == []


@pytest.mark.timeout(60)
async def test_a_public_only_channel_is_not_redirected_inside(
    live_hls: LiveHls, settings: Settings, bus: Bus, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The running ingest: an API-started channel whose 'public' URL redirects to a stream on
    this machine fails; a CLI channel (trusted, unchecked) with the same URL goes live, so the
    redirect itself works."""
    with loopback_server({"/live.m3u8": redirect(live_hls.url)}) as front:
        allowed = f"127.0.0.1:{front.port}"
        url = f"{front.origin}/live.m3u8"
        monkeypatch.setattr(channel, "private_reason", lambda u: None if u == url else
                            netcheck.private_reason(u))
        monkeypatch.setattr(channel, "guard_session",
                            functools.partial(guard_session, allow={allowed}))
        async with running_ingest(quick(settings)):
            await command(bus, "redirected", "start", url, public_only=True)
            await command(bus, "trusted", "start", url)
            failed = await wait_until(_state_is(bus, "redirected", "failed"), 30, "refused")
            await wait_until(_state_is(bus, "trusted", "live"), 30, "the trusted one live")
    assert "127.0.0.1, a loopback address" in failed.detail, failed.detail
    assert await segments(bus, "redirected") == []


def _state_is(bus: Bus, name: str, state: str):  # type: ignore[no-untyped-def]
    async def check():  # type: ignore[no-untyped-def]
        found = await state_of(bus, name)
        return found if found and found.state == state else None
    return check
