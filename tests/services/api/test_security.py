"""Pure security parts: the token file, files confined to the data folder, and tokens kept
out of logs. Which URLs are private: tests/shared/test_netcheck.py."""

from __future__ import annotations

import logging
import stat
from pathlib import Path

import httpx
import pytest

from services.api import ensure_api_token
from services.api.security import RedactTokens, file_inside, needs_token
from shared.settings import Settings
from tests.services.api.support import AUTH, TOKEN, api_settings, running_api


def test_the_token_file_is_made_once_readable_only_by_its_owner(tmp_path: Path) -> None:
    first = ensure_api_token(tmp_path / "data")
    path = tmp_path / "data" / "api_token"
    assert len(first) >= 40 and path.read_text().strip() == first
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert ensure_api_token(tmp_path / "data") == first
    path.chmod(0o644)
    assert ensure_api_token(tmp_path / "data") == first
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    path.write_text("")  # a writer that died half way: a new token is made
    assert ensure_api_token(tmp_path / "data") not in ("", first)


def test_changing_requests_are_the_ones_that_need_the_token() -> None:
    assert needs_token("POST", "/api/channels") and needs_token("delete", "/api/channels/x")
    assert needs_token("GET", "/start-monitoring") and needs_token("GET", "/start-monitoring/")
    assert not needs_token("GET", "/api/clips") and not needs_token("OPTIONS", "/api/channels")


def test_files_are_served_only_from_inside_the_data_folder(tmp_path: Path) -> None:
    data = tmp_path / "data"
    inside = data / "clips" / "a" / "clip.mp4"
    inside.parent.mkdir(parents=True)
    inside.write_bytes(b"x")
    outside = tmp_path / "secret.mp4"
    outside.write_bytes(b"x")
    (data / "clips" / "a" / "link.mp4").symlink_to(outside)
    assert file_inside(str(inside), data, ".mp4") == inside.resolve()
    assert file_inside(str(data / "clips" / "a" / ".." / ".." / ".." / "secret.mp4"), data,
                       ".mp4") is None
    assert file_inside(str(data / "clips" / "a" / "link.mp4"), data, ".mp4") is None
    assert file_inside(str(inside), data, ".srt") is None
    assert file_inside(str(data / "clips" / "a" / "gone.mp4"), data, ".mp4") is None


def test_the_log_filter_blanks_tokens() -> None:
    guard = RedactTokens(["s3cret-token"])
    record = logging.makeLogRecord({"msg": "GET /?token=%s&x=1 with s3cret-token",
                                    "args": ("abc",)})
    guard.filter(record)
    assert record.getMessage() == "GET /?token=***&x=1 with ***"


async def test_tokens_never_reach_the_logs(settings: Settings,
                                           capfd: pytest.CaptureFixture[str]) -> None:
    loud = api_settings(settings, log_level="DEBUG")  # DEBUG: every request is logged
    async with running_api(loud) as api, httpx.AsyncClient(base_url=api.url) as http:
        await http.get(f"/?token={TOKEN}")
        await http.post("/api/channels", headers=AUTH, json={"url": "http://127.0.0.1/x"})
        await http.post("/api/channels", headers={"Authorization": "Bearer wrong-one"},
                        json={"url": "x"})
    out, err = capfd.readouterr()
    logs = out + err
    assert '"GET /?token=*** HTTP/1.1" 200' in logs  # the request was logged, blanked
    assert TOKEN not in logs


async def test_cors_follows_the_setting(settings: Settings) -> None:
    origin = "http://localhost:3000"
    async with running_api(api_settings(settings, api_cors_origins=[origin])) as api, \
            httpx.AsyncClient(base_url=api.url) as http:
        preflight = await http.options("/api/channels", headers={
            "Origin": origin, "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization,content-type"})
        assert preflight.status_code == 200
        assert preflight.headers["access-control-allow-origin"] == origin
        refused = await http.post("/api/channels", headers={"Origin": origin}, json={})
        assert refused.status_code == 401
        assert refused.headers["access-control-allow-origin"] == origin  # the page can read it
        other = await http.get("/api/clips", headers={"Origin": "http://evil.example"})
        assert "access-control-allow-origin" not in other.headers
    async with running_api(api_settings(settings)) as api, \
            httpx.AsyncClient(base_url=api.url) as http:
        answer = await http.get("/api/clips", headers={"Origin": origin})
        assert "access-control-allow-origin" not in answer.headers  # default: no other origin
