"""The README's settings table is the one the code makes, and every setting says what it does."""

from __future__ import annotations

import json

from launcher.settings_doc import readme_block
from shared.settings import Settings, read_settings_file
from tests.support import REPO


def test_every_setting_is_described() -> None:
    missing = [name for name, field in Settings.model_fields.items() if not field.description]
    assert missing == []


def test_readme_shows_the_current_settings_table() -> None:
    readme = (REPO / "README.md").read_text()
    assert readme_block() in readme, "run `python -m launcher.settings_doc` and paste it in"


def test_the_example_settings_file_is_valid() -> None:
    path = REPO / "config" / "settings.example.json"
    values = read_settings_file(path, set(Settings.model_fields))
    assert values and json.loads(path.read_text())
    Settings(**values)
