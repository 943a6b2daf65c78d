"""Settings: environment variables, the JSON file, and clear errors for bad values."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from shared.settings import SettingsError, load_settings
from tests.support import PYTHON, REPO, child_env


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in list(__import__("os").environ):
        if name.startswith("CLIP_LIVE_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)  # so no config/settings.json of the repo is read


def test_defaults_are_the_brief_s_numbers() -> None:
    settings = load_settings()
    assert (settings.clip_pre, settings.clip_post) == (10.0, 20.0)
    assert settings.redis_url is None


def test_env_vars_win_over_the_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "settings.json").write_text(json.dumps({"clipPre": 4, "clipPost": 9}))
    monkeypatch.setenv("CLIP_LIVE_CLIP_POST", "12")
    settings = load_settings()
    assert (settings.clip_pre, settings.clip_post) == (4.0, 12.0)


def test_clip_duration_in_the_file_sets_the_whole_length(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    path = tmp_path / "mine.json"
    path.write_text(json.dumps({"clipDuration": 45}))
    monkeypatch.setenv("CLIP_LIVE_SETTINGS_FILE", str(path))
    settings = load_settings()
    assert settings.clip_pre + settings.clip_post == pytest.approx(45)
    assert settings.clip_pre == pytest.approx(15)


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"CLIP_LIVE_CLIP_PRE": "ten"}, "CLIP_LIVE_CLIP_PRE"),
        ({"CLIP_LIVE_STREAM_MAXLEN": "5"}, "CLIP_LIVE_STREAM_MAXLEN"),
        ({"CLIP_LIVE_LOG_LEVEL": "LOUD"}, "CLIP_LIVE_LOG_LEVEL"),
        ({"CLIP_LIVE_SETTINGS_FILE": "/no/such/file.json"}, "CLIP_LIVE_SETTINGS_FILE"),
    ],
)
def test_a_bad_value_names_the_setting(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str], named: str
) -> None:
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    with pytest.raises(SettingsError, match=named):
        load_settings()


def test_a_typo_in_the_file_is_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "s.json"
    path.write_text(json.dumps({"clipDurration": 30}))
    monkeypatch.setenv("CLIP_LIVE_SETTINGS_FILE", str(path))
    with pytest.raises(SettingsError, match="clipDurration"):
        load_settings()


def test_a_secret_is_not_shown_in_the_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLIP_LIVE_HEARTBEAT_TTL_S", "1")
    monkeypatch.setenv("CLIP_LIVE_API_TOKEN", "hunter2-secret")
    with pytest.raises(SettingsError) as err:
        load_settings()
    assert "hunter2" not in str(err.value)


def test_eventsub_chat_needs_the_twitch_app_and_a_user_token(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CLIP_LIVE_CHAT_SOURCE", "eventsub")
    monkeypatch.setenv("CLIP_LIVE_TWITCH_CLIENT_ID", "abc123")
    monkeypatch.setenv("CLIP_LIVE_TWITCH_CLIENT_SECRET", "s3cret-app-value")
    with pytest.raises(SettingsError, match="needs twitch_client_id, twitch_client_secret and "
                                            "twitch_token"):
        load_settings()
    monkeypatch.setenv("CLIP_LIVE_TWITCH_TOKEN", "user-token-value")
    monkeypatch.setenv("CLIP_LIVE_TWITCH_REFRESH_TOKEN", "refresh-value")
    settings = load_settings()
    assert settings.chat_source == "eventsub"
    # Every secret is known to the logs, so they can blank it out.
    assert {"s3cret-app-value", "user-token-value", "refresh-value"} <= set(settings.secrets())


def test_an_unknown_chat_source_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLIP_LIVE_CHAT_SOURCE", "smoke-signals")
    with pytest.raises(SettingsError, match="CLIP_LIVE_CHAT_SOURCE='smoke-signals'"):
        load_settings()


@pytest.mark.parametrize("argv", [["status"], ["run"]])
def test_the_cli_prints_one_line_and_exits_2_on_a_bad_setting(argv: list[str], tmp_path: Path
                                                               ) -> None:
    env = child_env(CLIP_LIVE_CLIP_POST="-3", CLIP_LIVE_DATA_DIR=str(tmp_path))
    done = subprocess.run([PYTHON, str(REPO / "clip_live.py"), *argv], env=env, cwd=tmp_path,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert "CLIP_LIVE_CLIP_POST" in lines[0] and "Traceback" not in done.stderr


def test_a_service_exits_2_on_a_bad_setting(tmp_path: Path) -> None:
    env = child_env(CLIP_LIVE_LOG_FORMAT="xml", CLIP_LIVE_REDIS_URL="redis://127.0.0.1:1/0")
    code = "from shared.runtime import main_entry\nasync def work(ctx): pass\nmain_entry('x', work)"
    done = subprocess.run([PYTHON, "-c", code], env=env, cwd=tmp_path, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 2
    assert done.stderr.strip().count("\n") == 0 and "CLIP_LIVE_LOG_FORMAT" in done.stderr
