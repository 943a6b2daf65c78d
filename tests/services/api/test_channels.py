"""The api service against real Redis: health, the token, starting, stopping, manual clips."""

from __future__ import annotations

import httpx

from shared.bus import Bus
from shared.contracts import ClipRequest, MonitorCommand
from shared.settings import Settings
from shared.streams import CLIP_REQUESTS, CONTROL
from tests.services.api.support import (
    AUTH,
    RunningApi,
    api_settings,
    running_api,
    set_state,
    wait_until,
)

PUBLIC = "http://93.184.215.14/live/stream.m3u8"  # a public address; nothing connects to it


async def commands(bus: Bus) -> list[MonitorCommand]:
    return [d.message for d in await bus.read(CONTROL)]


async def test_health_shows_redis_heartbeats_channels_and_stream_lag(
    api: RunningApi, client: httpx.AsyncClient, bus: Bus
) -> None:
    await set_state(bus, "alpha")
    await bus.ensure_group(CLIP_REQUESTS.stream(), "clipper")
    await client.post("/api/channels/alpha/clip", headers=AUTH, json={"t": 3.0})

    async def api_beat() -> dict[str, object] | None:
        body = (await client.get("/health", headers=AUTH)).json()
        return body if any(s["service"] == "api" for s in body["services"]) else None

    body = await wait_until(api_beat)
    assert body["status"] in ("ok", "degraded")
    assert body["redis"].startswith("redis://127.0.0.1:")
    assert "alpha" in body["channels"]
    group = body["streams"][CLIP_REQUESTS.stream()]["groups"]["clipper"]
    assert group["lag"] == 1 and group["pending"] == 0  # asked for, not yet read by a clipper
    assert body["websocket"]["clients"] == 0


async def test_health_asks_through_the_apps_own_connection(
    api: RunningApi, client: httpx.AsyncClient, bus: Bus
) -> None:
    async def connections() -> int:
        info = await bus.redis.info("stats")
        return int(info["total_connections_received"])

    assert (await client.get("/health")).status_code == 200
    before = await connections()
    for _ in range(5):
        assert (await client.get("/health")).status_code == 200
    assert await connections() - before <= 1  # it used to open one per call


async def test_start_monitoring_sends_a_start_command(
    client: httpx.AsyncClient, bus: Bus
) -> None:
    answer = await client.post("/api/channels", headers=AUTH,
                               json={"url": PUBLIC, "channel": "demo", "quality": "720p"})
    assert answer.status_code == 202, answer.text
    assert answer.json() == {"channel": "demo", "action": "start", "url": PUBLIC,
                             "quality": "720p"}
    seed_form = await client.get("/start-monitoring", headers=AUTH,
                                 params={"url": "93.184.215.14/games/speedrun.m3u8"})
    assert seed_form.status_code == 202, seed_form.text
    assert seed_form.json()["channel"] == "speedrun"  # made from the URL
    sent = await commands(bus)
    assert [(c.action, c.channel, c.url, c.quality) for c in sent] == [
        ("start", "demo", PUBLIC, "720p"),
        ("start", "speedrun", "93.184.215.14/games/speedrun.m3u8", "")]


async def test_private_sources_are_refused_unless_the_setting_allows_them(
    api: RunningApi, client: httpx.AsyncClient, bus: Bus, settings: Settings
) -> None:
    for url in ("http://127.0.0.1:8080/x.m3u8", "http://localhost/live.m3u8",
                "http://10.0.0.7/x.m3u8", "http://169.254.169.254/latest", "/etc/passwd",
                "file:///etc/passwd", "capture://screen?video=:0.0", "ffmpeg:/dev/video0"):
        answer = await client.post("/api/channels", headers=AUTH,
                                   json={"url": url, "channel": "x"})
        assert answer.status_code == 400, (url, answer.text)
        assert "not allowed" in answer.json()["detail"]
    answer = await client.get("/start-monitoring", headers=AUTH,
                              params={"url": "http://[::1]:9/x.m3u8"})
    assert answer.status_code == 400
    assert await commands(bus) == []

    async with running_api(api_settings(settings, api_allow_private_sources=True)) as open_api, \
            httpx.AsyncClient(base_url=open_api.url) as http:
        allowed = await http.post("/api/channels", headers=AUTH,
                                  json={"url": "http://127.0.0.1:8080/x.m3u8"})
        assert allowed.status_code == 202, allowed.text
    assert [c.url for c in await commands(bus)] == ["http://127.0.0.1:8080/x.m3u8"]


async def test_changing_routes_need_the_token_and_reading_ones_do_not(
    client: httpx.AsyncClient, bus: Bus
) -> None:
    await set_state(bus, "alpha")
    changing = [("POST", "/api/channels", {"url": PUBLIC}),
                ("GET", f"/start-monitoring?url={PUBLIC}", None),
                ("DELETE", "/api/channels/alpha", None),
                ("POST", "/api/channels/alpha/clip", {}),
                ("POST", "/api/clip/alpha-clip_1/keep", None),
                ("POST", "/api/clip/alpha-clip_1/drop", None)]
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": "Basic abc"}):
        for method, path, body in changing:
            answer = await client.request(method, path, json=body, headers=headers)
            assert answer.status_code == 401, (method, path, headers)
            assert answer.headers["www-authenticate"] == "Bearer"
    broken = await client.post("/api/channels", content=b"{not json",
                               headers={"Content-Type": "application/json"})
    assert broken.status_code == 401  # the token is checked before the body is read
    for path in ("/api/channels", "/api/clips", "/health", "/openapi.json", "/"):
        assert (await client.get(path)).status_code == 200, path
    assert await commands(bus) == []


async def test_stop_and_manual_clip_need_a_known_channel(
    api: RunningApi, client: httpx.AsyncClient, bus: Bus
) -> None:
    await set_state(bus, "alpha")
    listed = (await client.get("/api/channels")).json()
    assert [(c["channel"], c["state"]["state"]) for c in listed] == [("alpha", "live")]

    now = await client.post("/api/channels/alpha/clip", headers=AUTH)
    assert now.status_code == 202, now.text
    at = await client.post("/api/channels/alpha/clip", headers=AUTH,
                           json={"t": 12.5, "pre": 2, "post": 4})
    assert at.status_code == 202
    asked: list[ClipRequest] = [d.message for d in await bus.read(CLIP_REQUESTS)]
    assert [(r.channel, r.job_id, r.t, r.pre, r.post, r.reason) for r in asked] == [
        ("alpha", now.json()["job_id"], None, api.settings.clip_pre, api.settings.clip_post,
         "manual"),
        ("alpha", at.json()["job_id"], 12.5, 2.0, 4.0, "manual")]

    stop = await client.delete("/api/channels/alpha", headers=AUTH)
    assert stop.status_code == 202
    assert [(c.action, c.channel) for c in await commands(bus)] == [("stop", "alpha")]
    for method, path in (("DELETE", "/api/channels/nobody"), ("POST", "/api/channels/nobody/clip"),
                         ("DELETE", "/api/channels/..%2Fetc")):
        assert (await client.request(method, path, headers=AUTH)).status_code == 404, path


async def test_the_token_file_is_used_when_no_token_is_set(settings: Settings) -> None:
    from services.api.apitoken import ensure_api_token

    token = ensure_api_token(settings.data_dir)
    unset = api_settings(settings, api_token=None)
    async with running_api(unset) as running, httpx.AsyncClient(base_url=running.url) as http:
        ok = await http.post("/api/channels", headers={"Authorization": f"Bearer {token}"},
                             json={"url": PUBLIC, "channel": "demo"})
        assert ok.status_code == 202
        refused = await http.post("/api/channels", headers=AUTH, json={"url": PUBLIC})
        assert refused.status_code == 401
    assert (settings.data_dir / "api_token").read_text().strip() == token
