"""Where settings come from besides the environment: the JSON settings file."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

from pydantic.fields import FieldInfo
from pydantic_settings import PydanticBaseSettingsSource

ENV_PREFIX = "CLIP_LIVE_"
SETTINGS_FILE_ENV = "CLIP_LIVE_SETTINGS_FILE"
DEFAULT_SETTINGS_FILE = Path("config/settings.json")


class SettingsError(Exception):
    """A setting has a value we cannot use. The message names the setting and says why."""


# The JSON file may also use these names (`clipDuration`: the whole clip's length).
JSON_ALIASES: dict[str, str] = {"clipDuration": "clip_duration"}


class JsonFileSource(PydanticBaseSettingsSource):
    """Reads the optional JSON settings file."""

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        return self._values().get(field_name), field_name, False

    def __call__(self) -> dict[str, Any]:
        return self._values()

    def _values(self) -> dict[str, Any]:
        path = settings_file()
        if path is None:
            return {}
        return read_settings_file(path, set(self.settings_cls.model_fields))


def settings_file() -> Path | None:
    """The JSON settings file in use, or None when there is none."""
    named = os.environ.get(SETTINGS_FILE_ENV)
    if named:
        path = Path(named)
        if not path.is_file():
            raise SettingsError(f"{SETTINGS_FILE_ENV}={named}: no such file")
        return path
    return DEFAULT_SETTINGS_FILE if DEFAULT_SETTINGS_FILE.is_file() else None


def read_settings_file(path: Path, known: set[str]) -> dict[str, Any]:
    """Read the JSON file into setting names. Unknown keys are an error, so typos show."""
    try:
        raw = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as err:
        raise SettingsError(f"settings file {path}: cannot read it as JSON ({err})") from None
    if not isinstance(raw, dict):
        raise SettingsError(f"settings file {path}: must hold a JSON object")
    values: dict[str, Any] = {}
    for key, value in raw.items():
        name = JSON_ALIASES.get(key) or _snake(key)
        if name == "clip_duration":
            values.update(_split_duration(path, key, value))
        elif name in known:
            values[name] = value
        else:
            raise SettingsError(f"settings file {path}: unknown setting {key!r}")
    return values


def _split_duration(path: Path, key: str, value: Any) -> dict[str, float]:
    """`clipDuration` is the whole clip length: a third goes before the spike, the rest after."""
    if not isinstance(value, int | float) or isinstance(value, bool) or value <= 0:
        raise SettingsError(f"settings file {path}: {key}={value!r}: must be a number above 0")
    return {"clip_pre": value / 3, "clip_post": value * 2 / 3}


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()
