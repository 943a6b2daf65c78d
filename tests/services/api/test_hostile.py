"""Hostile input at the API's doors: source URLs that reach inside (the table shared with
ingest), bodies too large to read, numbers JSON cannot carry, and reads without the token."""

from __future__ import annotations

import asyncio
import contextlib
import json
import select
import socket
import time
from typing import Any

import httpx

from services.api.limits import MAX_BODY_BYTES
from services.api.security import reads_need_token
from shared.bus import Bus
from shared.settings import Settings
from shared.streams import CONTROL
from tests.services.api.support import (
    AUTH,
    TOKEN,
    RunningApi,
    api_settings,
    running_api,
    set_state,
    store_clip,
)
from tests.shared.url_table import HOSTILE_URLS

TEN_MB = 10 * 1024 * 1024


async def test_every_hostile_url_is_refused_at_both_doors(
    client: httpx.AsyncClient, bus: Bus
) -> None:
    for url, why in HOSTILE_URLS:
        posted = await client.post("/api/channels", headers=AUTH, json={"url": url})
        assert posted.status_code == 400, (url, posted.text)
        assert why in posted.json()["detail"], (url, posted.json())
        got = await client.get("/start-monitoring", headers=AUTH, params={"url": url})
        assert got.status_code == 400, (url, got.text)
    assert await bus.read(CONTROL) == []  # nothing reached ingest


def _strict(text: str) -> Any:
    """JSON as the standard has it: NaN and Infinity are not JSON."""
    def refuse(constant: str) -> None:
        raise ValueError(f"{constant} in the answer")
    return json.loads(text, parse_constant=refuse)


async def test_nan_and_infinity_get_422(client: httpx.AsyncClient, bus: Bus) -> None:
    await set_state(bus, "alpha")
    json_headers = {**AUTH, "Content-Type": "application/json"}
    for path, body in [("/api/channels/alpha/clip", '{"t": NaN}'),
                       ("/api/channels/alpha/clip", '{"post": Infinity}'),
                       ("/api/channels/alpha/clip", '{"pre": -Infinity, "t": 1e999}'),
                       ("/api/channels/alpha/clip", '[NaN]'),
                       ("/api/channels", '{"url": NaN}'),
                       ("/api/channels", '{"url": "x", "quality": [Infinity, {"a": NaN}]}'),
                       ("/api/channels", '{"url": "http://a.example/", "channel": -Infinity}')]:
        answer = await client.post(path, content=body, headers=json_headers)
        assert answer.status_code == 422, (body, answer.status_code, answer.text)
        assert _strict(answer.text)["detail"], body
    assert (await client.get("/api/clips", params={"since": "NaN"})).status_code == 422
    assert (await client.get("/api/clips", params={"until": "Infinity"})).status_code == 422


def _connect(api: RunningApi) -> socket.socket:
    host, port = api.url.removeprefix("http://").split(":")
    sock = socket.create_connection((host, int(port)), timeout=5)
    return sock


def _head(length: str) -> bytes:
    return (f"POST /api/channels HTTP/1.1\r\nHost: test\r\nAuthorization: Bearer {TOKEN}\r\n"
            f"Content-Type: application/json\r\n{length}\r\n\r\n").encode()


async def test_a_declared_10_mb_body_is_refused_before_any_of_it_is_sent(
        api: RunningApi) -> None:
    answer = await asyncio.to_thread(_send_declared, api)
    assert answer.startswith(b"HTTP/1.1 413"), answer
    assert b"connection: close" in answer.lower()


def _send_declared(api: RunningApi) -> bytes:
    with _connect(api) as sock:
        sock.sendall(_head(f"Content-Length: {TEN_MB}"))
        answer = sock.recv(65536)  # no body sent at all: the answer comes anyway
        _closed(sock)
        return answer


async def test_a_streamed_body_is_cut_off_once_it_passes_64_kib(api: RunningApi) -> None:
    """A chunked body with no length: the server reads a little over the limit, answers 413
    and closes, so the rest of the 10 MB cannot be sent."""
    answer, sent, more = await asyncio.to_thread(_stream_body, api)
    assert answer.startswith(b"HTTP/1.1 413"), answer
    assert sent < 1024 * 1024, sent  # it did not wait for the whole body
    assert sent + more < TEN_MB, (sent, more)  # and then took no more


def _stream_body(api: RunningApi) -> tuple[bytes, int, int]:
    """Send a chunked body until an answer comes; then go on until sending fails. Returns the
    answer, the bytes sent before it, and those sent after it."""
    chunk = b"%x\r\n%s\r\n" % (16384, b" " * 16384)
    sent, more, answer = 0, 0, b""
    with _connect(api) as sock:
        sock.sendall(_head("Transfer-Encoding: chunked"))
        with contextlib.suppress(OSError):  # closed while we were still sending
            while sent < TEN_MB and not select.select([sock], [], [], 0)[0]:
                sock.sendall(chunk)
                sent += len(chunk)
                time.sleep(0.001)
        answer = sock.recv(65536)
        with contextlib.suppress(OSError):  # the server has closed: sending soon fails
            while more < TEN_MB:
                sock.sendall(chunk)
                more += len(chunk)
                time.sleep(0.001)
    return answer, sent, more


def _closed(sock: socket.socket) -> bool:
    try:
        while sock.recv(65536):
            pass
    except ConnectionResetError:
        pass
    return True


async def test_a_body_under_the_limit_is_still_read(client: httpx.AsyncClient) -> None:
    url = "http://93.184.215.14/" + "a" * (MAX_BODY_BYTES - 100)
    answer = await client.post("/api/channels", headers=AUTH, json={"url": url})
    assert answer.status_code == 422  # read and judged: the URL is too long, not the body


def test_reads_need_the_token_unless_the_api_listens_on_loopback(settings: Settings) -> None:
    def needs(host: str, setting: bool | None = None) -> bool:
        return reads_need_token(settings.model_copy(update={
            "api_host": host, "api_token_for_reads": setting}))

    assert not any(needs(h) for h in ("127.0.0.1", "127.0.0.5", "localhost", "::1", "[::1]"))
    assert all(needs(h) for h in ("0.0.0.0", "::", "192.168.1.5", "10.0.0.2", "clip.example"))
    assert needs("127.0.0.1", True) and not needs("0.0.0.0", False)


async def test_with_reads_closed_only_the_page_docs_and_health_are_open(
        settings: Settings, bus: Bus) -> None:
    closed = api_settings(settings, api_token_for_reads=True)
    async with running_api(closed) as api, httpx.AsyncClient(base_url=api.url) as http:
        await set_state(bus, "alpha")
        clip = await store_clip(bus, closed, "alpha", "clip_1")
        reads = ["/api/clips", "/api/channels", f"/api/clip/{clip.clip_id}",
                 f"/api/clip/{clip.clip_id}/video", f"/api/clip/{clip.clip_id}/srt"]
        for path in reads:
            assert (await http.get(path)).status_code == 401, path
            assert (await http.get(path, params={"token": "wrong"})).status_code == 401, path
            assert (await http.get(path, headers=AUTH)).status_code == 200, path
            assert (await http.get(path, params={"token": TOKEN})).status_code == 200, path
        for path in ("/", "/static/app.js", "/openapi.json", "/docs", "/health"):
            assert (await http.get(path)).status_code == 200, path
        refused = await http.post("/api/channels", params={"token": TOKEN}, json={"url": "x"})
        assert refused.status_code == 401  # changes take the token only as a header
        await _health_says_little(http)


async def test_health_and_channel_states_show_details_only_with_the_token(
        api: RunningApi, client: httpx.AsyncClient, bus: Bus) -> None:
    """Reads are open here (loopback); still, no URLs, paths or process ids without it."""
    await set_state(bus, "alpha")
    await _health_says_little(client)
    full = (await client.get("/health", headers=AUTH)).json()
    assert full["redis"].startswith("redis://") and "alpha" in full["channels"]
    [anonymous] = (await client.get("/api/channels")).json()
    assert anonymous["state"]["state"] == "live" and anonymous["state"]["url"] == ""
    [known] = (await client.get("/api/channels", headers=AUTH)).json()
    assert known["state"]["url"] == "https://example.com/alpha.m3u8"


async def _health_says_little(http: httpx.AsyncClient) -> None:
    answer = await http.get("/health")
    body = answer.json()
    assert answer.status_code == 200 and body["redis"] == "up", body
    assert body["services"] == [] and body["channels"] == {} and body["streams"] == {}
    text = answer.text
    for secret in ("redis://", "pid", "/tmp", "example.com", "127.0.0.1", "data_dir"):
        assert secret not in text, (secret, text)
