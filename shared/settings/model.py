"""The Settings class: every group of settings in one object, the rules that tie them
together, and `load_settings`."""

from __future__ import annotations

import difflib
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict
from pydantic_settings import SettingsError as SourceError

from .chat import ChatSettings
from .core import ApiSettings, CoreSettings, SecretSettings
from .deciding import FaceSettings, FuserSettings
from .export import ExportSettings
from .file import ENV_PREFIX, SETTINGS_FILE_ENV, JsonFileSource, SettingsError
from .learning import LearningSettings
from .media import ClipSettings, IngestSettings
from .speech import AsrSettings, SemanticSettings
from .voting import VoteSettings


class Settings(  # The groups are listed last to first: the README table follows this order.
    SecretSettings, ApiSettings, LearningSettings, VoteSettings, FuserSettings, FaceSettings,
    SemanticSettings, AsrSettings,
    ChatSettings, ExportSettings, ClipSettings, IngestSettings, CoreSettings, BaseSettings,
):
    """Every knob of Clip Live, with a safe default for each."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="ignore", frozen=True)

    @field_validator("redis_url", "twitch_token", "twitch_client_secret", "twitch_refresh_token",
                     "api_token", mode="before")
    @classmethod
    def _empty_is_unset(cls, value: Any) -> Any:
        """`CLIP_LIVE_API_TOKEN=` (empty, as compose passes an unset variable) means unset."""
        return None if isinstance(value, str) and not value.strip() else value

    @model_validator(mode="after")
    def _check_together(self) -> Settings:
        if self.heartbeat_ttl_s <= self.heartbeat_interval_s:
            raise ValueError("heartbeat_ttl_s must be larger than heartbeat_interval_s")
        if self.reconnect_max_s < self.reconnect_min_s:
            raise ValueError("reconnect_max_s must not be smaller than reconnect_min_s")
        if self.retention_s < 2 * self.segment_s:
            raise ValueError("retention_s must hold at least two segments (2 x segment_s)")
        if self.chat_source == "eventsub" and not (
                self.twitch_client_id and self.twitch_client_secret and self.twitch_token):
            raise ValueError("chat_source eventsub needs twitch_client_id, twitch_client_secret "
                             "and twitch_token")
        return self

    @property
    def clips_dir(self) -> Path:
        """Folder where finished clips go."""
        return self.data_dir / "clips"

    def secrets(self) -> list[str]:
        """Every secret value, so the logs can blank them out."""
        secrets = (self.twitch_token, self.twitch_client_secret, self.twitch_refresh_token,
                   self.api_token)
        found = [s.get_secret_value() for s in secrets if s]
        password = _url_password(self.redis_url)
        if password:
            found.append(password)
        return [s for s in found if s]

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, env_settings, JsonFileSource(settings_cls))


def _url_password(url: str | None) -> str | None:
    if not url:
        return None
    match = re.match(r"^[a-z]+://[^:/@]*:([^@]+)@", url)
    return match.group(1) if match else None


def load_settings(**overrides: Any) -> Settings:
    """Build the settings, or raise SettingsError with one line that names the bad setting."""
    try:
        return Settings(**overrides)
    except SourceError as err:  # An environment value that should be JSON (a list) is not.
        found = re.search(r'field "(\w+)"', str(err))
        name = ENV_PREFIX + (found.group(1).upper() if found else "?")
        raise SettingsError(f"bad setting {name}: lists and tables must be written as JSON, "
                            'like ["a", "b"]') from None
    except ValidationError as err:
        first = err.errors()[0]
        if not first["loc"]:  # A rule about several settings together: no single value to show.
            raise SettingsError(f"bad settings: {first['msg']}") from None
        field = str(first["loc"][0])
        env_name = ENV_PREFIX + field.upper()
        where = env_name if env_name in os.environ else field
        shown = os.environ.get(env_name) if env_name in os.environ else first.get("input")
        if "token" in field or "secret" in field:
            shown = "***"
        raise SettingsError(f"bad setting {where}={shown!r}: {first['msg']}") from None


OTHER_VARIABLES = {SETTINGS_FILE_ENV, "CLIP_LIVE_SUPERVISOR_PID"}
"""`CLIP_LIVE_*` variables that are not settings but are still ours."""


def unknown_variables(environ: Mapping[str, str] | None = None) -> list[str]:
    """A warning for each `CLIP_LIVE_*` variable that names no setting (a typo is otherwise
    silently ignored), with the closest real one."""
    environ = os.environ if environ is None else environ
    known = {ENV_PREFIX + name.upper() for name in Settings.model_fields} | OTHER_VARIABLES
    warnings = []
    for name in sorted(environ):
        if not name.startswith(ENV_PREFIX) or name in known:
            continue
        close = difflib.get_close_matches(name, sorted(known), n=1, cutoff=0.6)
        hint = f"; did you mean {close[0]}?" if close else ""
        warnings.append(f"{name} is not a setting and is ignored{hint}")
    return warnings
