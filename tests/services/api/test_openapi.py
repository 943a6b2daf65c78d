"""Schemathesis over the OpenAPI spec, against the real api service (`python -m services.api`)
with real Redis: no 5xx and answers that fit the spec, no token -> 401 on every changing route,
`../` in a clip id -> 404, a private source URL -> 400, and a hostile fuzz (NaN, Infinity,
bodies over the limit) that never gets a 5xx."""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import select
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.generation import GenerationMode

from services.api.limits import MAX_BODY_BYTES
from services.api.security import needs_token
from shared.embedded_redis import EmbeddedRedis, free_port
from shared.settings import Settings
from tests.services.api.support import AUTH, TOKEN, set_state, store_clip
from tests.support import PYTHON, REPO, child_env

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance]


@pytest.fixture(scope="module")
def live_api(redis_server: EmbeddedRedis, tmp_path_factory: pytest.TempPathFactory
             ) -> Iterator[str]:
    """The api service as its own process, with a channel and a clip to find."""
    data = tmp_path_factory.mktemp("openapi") / "data"
    port = free_port()
    env = child_env(CLIP_LIVE_REDIS_URL=redis_server.url, CLIP_LIVE_DATA_DIR=str(data),
                    CLIP_LIVE_API_PORT=str(port), CLIP_LIVE_API_TOKEN=TOKEN,
                    CLIP_LIVE_LOG_LEVEL="WARNING", CLIP_LIVE_READ_BLOCK_MS="100")
    log = (data.parent / "api.log").open("wb")
    proc = subprocess.Popen([PYTHON, "-m", "services.api"], cwd=REPO, env=env,
                            stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_for(url, proc, data.parent / "api.log")
        asyncio.run(_seed(redis_server.url, data))
        yield url
    finally:
        proc.terminate()
        proc.wait(20)
        log.close()


def _wait_for(url: str, proc: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("the api service stopped: " + log.read_text()[-1000:])
        try:
            if httpx.get(url + "/openapi.json", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError("the api service did not answer in 30 s")


async def _seed(redis_url: str, data: Path) -> None:
    from shared.bus import Bus

    seeded = Settings(redis_url=redis_url, data_dir=data)
    bus = await Bus.connect(redis_url, seeded)
    try:
        await set_state(bus, "alpha")
        await store_clip(bus, seeded, "alpha", "clip_1")
    finally:
        await bus.close()


@pytest.fixture(scope="module")
def api_schema(live_api: str) -> schemathesis.BaseSchema:
    return schemathesis.openapi.from_url(live_api + "/openapi.json")


def test_every_route_answers_within_its_spec(api_schema: schemathesis.BaseSchema,
                                             live_api: str) -> None:
    """Generated requests (with the token) for every operation: never a 5xx, and every answer
    has a status, content type and body the spec documents. (Schemathesis's own pytest plugin
    does not work with pytest 9 yet, so we drive its Hypothesis strategies ourselves.)"""
    operations = [op.ok() for op in api_schema.get_all_operations()]
    assert len(operations) >= 12
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=20, deadline=None, database=None,
                  suppress_health_check=list(HealthCheck))
        def check(case: schemathesis.Case) -> None:
            case.call_and_validate(base_url=live_api, headers=AUTH, checks=CHECKS)

        check()


def test_every_changing_route_needs_the_token(api_schema: schemathesis.BaseSchema,
                                              live_api: str) -> None:
    changing = [op.ok() for op in api_schema.get_all_operations()
                if needs_token(op.ok().method, op.ok().path)]
    assert {(op.method.upper(), op.path) for op in changing} == {
        ("POST", "/api/channels"), ("GET", "/start-monitoring"),
        ("DELETE", "/api/channels/{channel}"), ("POST", "/api/channels/{channel}/clip"),
        ("POST", "/api/clip/{clip_id}/keep"), ("POST", "/api/clip/{clip_id}/drop"),
        ("POST", "/api/clip/{clip_id}/export"), ("POST", "/api/vods")}
    for operation in changing:
        for headers in ({}, {"Authorization": "Bearer nope"}, {"Authorization": TOKEN}):
            _all_refused(operation, headers, live_api)


def _all_refused(operation: schemathesis.APIOperation, headers: dict[str, str],
                 live_api: str) -> None:
    """Generated requests to `operation` with these (wrong) headers all get 401."""

    @given(case=operation.as_strategy())
    @settings(max_examples=10, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    def check(case: schemathesis.Case) -> None:
        answer = case.call(base_url=live_api, headers=headers)
        assert answer.status_code == 401, (case.method, case.formatted_path, answer.text)

    check()


def test_dot_dot_in_a_clip_id_finds_nothing(live_api: str) -> None:
    for clip_id in ("..", "../alpha-clip_1", "..%2F..%2Fetc%2Fpasswd", "alpha-clip_1%2F..",
                    "%2e%2e", "....//....//etc"):
        for suffix in ("", "/video", "/srt"):
            answer = httpx.get(f"{live_api}/api/clip/{clip_id}{suffix}")
            assert answer.status_code == 404, (clip_id, suffix, answer.status_code)
        answer = httpx.post(f"{live_api}/api/clip/{clip_id}/keep", headers=AUTH)
        assert answer.status_code == 404, clip_id
    assert httpx.get(f"{live_api}/api/clip/alpha-clip_1/video").status_code == 200


def test_a_private_source_is_refused(live_api: str) -> None:
    for url in ("http://127.0.0.1:6379/", "http://192.168.1.1/x.m3u8", "/etc/passwd"):
        answer = httpx.post(f"{live_api}/api/channels", headers=AUTH, json={"url": url})
        assert answer.status_code == 400, url


# ---- Hostile fuzz: NaN, Infinity and oversized bodies ------------------------------------------

POISON = [math.nan, math.inf, -math.inf]
BIG = [MAX_BODY_BYTES + 1, 200_000, 2_000_000]


@st.composite
def hostile(draw: st.DrawFn, operation: schemathesis.APIOperation) -> tuple[schemathesis.Case,
                                                                             str, bytes]:
    """A generated request (valid or not), then spoiled: NaN/Infinity put into its JSON body or
    its numbers, or its body blown up past the limit. Returns the case, the kind, the body."""
    case = draw(operation.as_strategy(draw(st.sampled_from(list(GenerationMode)))))
    kind = draw(st.sampled_from(["nan", "query", "big"]))
    body: Any = case.body if isinstance(case.body, dict | list) else {}
    if kind == "query":
        case.query = {**(case.query or {}), **{k: draw(st.sampled_from(
            ["NaN", "Infinity", "-Infinity", "1e999"])) for k in ("t", "since", "until")}}
    raw = json.dumps(_poisoned(draw, body) if kind == "nan" else body).encode()
    if kind == "big":
        raw = raw + b" " * (draw(st.sampled_from(BIG)) - len(raw))
    return case, kind, raw


def _poisoned(draw: st.DrawFn, value: Any) -> Any:
    """`value` with NaN or an infinity in one place (a new key when it is an empty object)."""
    if isinstance(value, dict) and value and draw(st.booleans()):
        key = draw(st.sampled_from(sorted(value)))
        return {**value, key: _poisoned(draw, value[key])}
    if isinstance(value, dict):
        return {**value, draw(st.sampled_from(["t", "pre", "post", "url"])):
                draw(st.sampled_from(POISON))}
    if isinstance(value, list) and value:
        return [_poisoned(draw, value[0]), *value[1:]]
    return draw(st.sampled_from(POISON))


@pytest.mark.timeout(120)
def test_hostile_bodies_never_get_a_5xx(api_schema: schemathesis.BaseSchema,
                                        live_api: str) -> None:
    """Every operation, with the token, gets NaN/Infinity in its body or numbers, or a body of
    64 KiB + 1 byte to 2 MB: never a 5xx or a cut connection, always strict JSON back, and a
    body over the limit always gets 413."""
    operations = [op.ok() for op in api_schema.get_all_operations()]
    with httpx.Client(base_url=live_api, headers=AUTH, timeout=10) as http:
        for operation in operations:

            @given(hostile(operation))
            @settings(max_examples=12, deadline=None, database=None,
                      suppress_health_check=list(HealthCheck))
            def check(drawn: tuple[schemathesis.Case, str, bytes]) -> None:
                case, kind, raw = drawn
                if kind == "big":
                    status = _raw_status(live_api, case, raw)
                    assert status == 413, (case.method, case.formatted_path, status)
                    return
                answer = http.request(case.method, case.formatted_path, params=case.query,
                                      content=raw, headers={"Content-Type": "application/json"})
                assert answer.status_code < 500, (case.method, case.formatted_path, raw[:200])
                if answer.headers.get("content-type", "").startswith("application/json"):
                    json.loads(answer.text, parse_constant=_no_constant)

            check()


def _no_constant(name: str) -> None:
    raise AssertionError(f"{name} in an answer: that is not JSON")


def _raw_status(live_api: str, case: schemathesis.Case, raw: bytes) -> int:
    """Send a big body by hand, reading the answer as soon as it comes (the server answers 413
    and closes without reading the rest; a client that only reads after sending would see the
    connection cut instead)."""
    host, port = live_api.removeprefix("http://").split(":")
    query = httpx.QueryParams(case.query or {})
    target = case.formatted_path + (f"?{query}" if query else "")
    head = (f"{case.method.upper()} {target} HTTP/1.1\r\nHost: {host}\r\n"
            f"Authorization: {AUTH['Authorization']}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(raw)}\r\n\r\n").encode()
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(head)
        with contextlib.suppress(OSError):
            for start in range(0, len(raw), 65536):
                if select.select([sock], [], [], 0)[0]:
                    break
                sock.sendall(raw[start:start + 65536])
        line = sock.recv(65536).split(b"\r\n", 1)[0]
    return int(line.split()[1])
