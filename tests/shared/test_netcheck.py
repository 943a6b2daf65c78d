"""Which stream URLs are private: files, devices, local schemes, URLs that parsers read
differently, IPv4 hidden in IPv6 or in odd number forms, and hosts that are (or resolve to)
addresses that are not public. The table is shared with the API and ingest tests."""

from __future__ import annotations

import socket
from urllib.parse import urlsplit

import pytest
import requests
from hypothesis import given, settings
from hypothesis import strategies as st
from urllib3.util import parse_url

from shared.netcheck import private_reason
from tests.shared.url_table import HOSTILE_NAMES, HOSTILE_URLS, PUBLIC_URLS, resolve


@pytest.mark.parametrize("url", PUBLIC_URLS)
def test_public_urls_pass(url: str) -> None:
    assert private_reason(url, resolve) is None


@pytest.mark.parametrize(("url", "why"), HOSTILE_URLS + HOSTILE_NAMES + [("", "empty")])
def test_private_urls_are_named(url: str, why: str) -> None:
    reason = private_reason(url, resolve)
    assert reason is not None and why in reason, reason


def test_real_resolution_sees_localhost_as_loopback() -> None:
    reason = private_reason("http://localhost:8000/x.m3u8")
    assert reason is not None and "loopback" in reason


def _hosts(url: str) -> set[str]:
    """The host as Python, urllib3 (what streamlink connects to) and requests read it."""
    full = url if "://" in url else "https://" + url
    full = full.split("://", 1)[1] if full.startswith(("hls://", "ffmpeg:")) else full
    full = full if "://" in full else "https://" + full
    found = {urlsplit(full).hostname or "", (parse_url(full).host or "").strip("[]").lower()}
    prepared = requests.Request("GET", full).prepare().url or ""
    found.add(urlsplit(prepared).hostname or "")
    return found


@pytest.mark.parametrize("url", [u for u in PUBLIC_URLS if not u.startswith(("rtmp", "ffmpeg"))])
def test_every_client_reads_the_same_host_in_a_public_url(url: str) -> None:
    assert len(_hosts(url)) == 1, _hosts(url)


PIECES = ["127.0.0.1", "93.184.215.14", "stream.example", "[::1]", "[::ffff:7f00:1]", "@", "\\",
          ":", ":80", "%40", ".", "0x7f", "0177", "1", "#", "?", "/", "[", "]", "%2e", " ", "\t",
          "localhost", "2130706433", "\uff0e", "..", "_"]


@settings(max_examples=400, deadline=None, database=None)
@given(st.lists(st.sampled_from(PIECES), min_size=1, max_size=6))
def test_an_accepted_url_means_one_public_host_to_every_client(pieces: list[str]) -> None:
    """Generated host parts made of the pieces that fool parsers: whenever the check lets one
    through, Python, urllib3 and requests all read the same host, and when the C library takes
    that host as a number (inet_aton's `127.1`, `0x7f...`) it is a public address."""
    url = "http://" + "".join(pieces) + "/live.m3u8"
    if private_reason(url, lambda host: ["93.184.215.14"]) is not None:
        return
    hosts = _hosts(url)
    assert len(hosts) == 1, (url, hosts)
    host = hosts.pop()
    try:
        numeric = socket.getaddrinfo(host, None, flags=socket.AI_NUMERICHOST)
    except socket.gaierror:
        return  # a name: the check resolved it (here: to a public address)
    assert all(private_reason(f"http://{info[4][0]}/") is None for info in numeric), url
