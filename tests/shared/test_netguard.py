"""The guard on a requests session (what ingest puts on streamlink's): each redirect, each
playlist and segment URL, and each connection's address are judged again.

What is simulated: there is no public server offline, so the first hop is a loopback server
that the guard is told to treat as public (`allow`). Everything after it (the redirect target,
the segment URLs, the addresses a name resolves to) is judged by the real rules. DNS rebinding
is simulated with a resolver that answers a public address first and loopback after."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests

from shared.netguard import RefusedURL, guard_session
from tests.shared.http_servers import LoopbackServer, loopback_server, playlist, redirect


@pytest.fixture
def inside() -> Iterator[LoopbackServer]:
    """The private service an attacker wants to reach."""
    with loopback_server({"/secret": (200, {}, b"secret")}) as server:
        yield server


@pytest.fixture
def front(inside: LoopbackServer) -> Iterator[LoopbackServer]:
    """The 'public' server the URL names: it redirects inside in several ways."""
    with loopback_server({
        "/ok": (200, {}, b"fine"),
        "/to-inside": redirect(f"{inside.origin}/secret"),
        "/to-localhost": redirect(f"http://localhost:{inside.port}/secret", 301),
        "/to-number": redirect(f"http://2130706433:{inside.port}/secret", 307),
        "/to-mapped": redirect(f"http://[::ffff:127.0.0.1]:{inside.port}/secret", 308),
        "/to-backslash": redirect(f"http://127.0.0.1:{inside.port}\\@93.184.215.14/secret"),
        "/to-file": redirect("file:///etc/passwd"),
        "/hop": redirect("/to-inside"),  # a first redirect that stays on the public host
    }) as server:
        yield server


def guarded(front: LoopbackServer) -> requests.Session:
    return guard_session(requests.Session(), allow={f"127.0.0.1:{front.port}"})


def test_the_allowed_first_hop_is_fetched(front: LoopbackServer) -> None:
    assert guarded(front).get(f"{front.origin}/ok", timeout=5).text == "fine"


@pytest.mark.parametrize("path", ["/to-inside", "/to-localhost", "/to-number", "/to-mapped",
                                  "/to-backslash", "/to-file", "/hop"])
def test_every_redirect_target_is_judged_again(front: LoopbackServer, inside: LoopbackServer,
                                               path: str) -> None:
    with pytest.raises(requests.exceptions.ConnectionError, match="refused") as caught:
        guarded(front).get(front.origin + path, timeout=5)
    assert isinstance(caught.value, RefusedURL)
    assert inside.hits == []


def test_without_the_guard_the_redirect_does_reach_inside(front: LoopbackServer,
                                                          inside: LoopbackServer) -> None:
    """The hole the guard shuts (so the test above would notice if it stopped working)."""
    assert requests.get(f"{front.origin}/to-inside", timeout=5).text == "secret"
    assert inside.hits == ["/secret"]


def test_a_name_that_turns_private_after_the_check_is_not_connected(
        inside: LoopbackServer) -> None:
    """DNS rebinding: the URL check sees a public answer, the connection's own lookup gets
    loopback. The connection uses only the addresses it judged, so nothing is sent."""
    answers = iter([["93.184.215.14"], ["127.0.0.1"]])
    session = guard_session(requests.Session(), resolve=lambda host: next(answers))
    with pytest.raises(requests.exceptions.ConnectionError, match=r"127\.0\.0\.1, a loopback"):
        session.get(f"http://rebind.test:{inside.port}/secret", timeout=5)
    assert inside.hits == []


def test_segment_urls_in_a_playlist_are_judged(front: LoopbackServer,
                                               inside: LoopbackServer) -> None:
    front.routes["/live.m3u8"] = playlist(f"{inside.origin}/secret", "file:///etc/passwd")
    session = guarded(front)
    text = session.get(f"{front.origin}/live.m3u8", timeout=5).text
    for url in [line for line in text.splitlines() if not line.startswith("#")]:
        with pytest.raises(RefusedURL):
            session.get(url, timeout=5)
    assert inside.hits == []
