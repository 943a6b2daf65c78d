"""The semantic settings: lists in code, replaceable from the environment or the JSON file."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from shared.settings import DEFAULT_HYPE_WORDS, SettingsError, load_settings


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in list(os.environ):
        if name.startswith("CLIP_LIVE_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)  # so no config/settings.json of the repo is read


def test_defaults_come_from_the_code() -> None:
    settings = load_settings()
    assert settings.semantic_hype_words == list(DEFAULT_HYPE_WORDS)
    assert settings.semantic_excited_phrases and settings.semantic_calm_phrases
    assert settings.semantic_torch_threads == 1
    assert settings.semantic_fuzzy_threshold == 85


def test_lists_come_from_the_environment_as_json(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLIP_LIVE_SEMANTIC_HYPE_WORDS", '["gg", "no way"]')
    monkeypatch.setenv("CLIP_LIVE_SEMANTIC_LEXICON", '{"cracked": 2.5}')
    settings = load_settings()
    assert settings.semantic_hype_words == ["gg", "no way"]
    assert settings.semantic_lexicon == {"cracked": 2.5}


def test_lists_come_from_the_settings_file(tmp_path: Path) -> None:
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "settings.json").write_text(json.dumps(
        {"semanticExcitedPhrases": ["what a shot"], "semantic_calm_phrases": ["brb"],
         "semanticFuzzyThreshold": 90}))
    settings = load_settings()
    assert settings.semantic_excited_phrases == ["what a shot"]
    assert settings.semantic_calm_phrases == ["brb"]
    assert settings.semantic_fuzzy_threshold == 90


@pytest.mark.parametrize(
    ("name", "value"),
    [("CLIP_LIVE_SEMANTIC_EXCITED_PHRASES", "[]"), ("CLIP_LIVE_SEMANTIC_FUZZY_THRESHOLD", "20"),
     ("CLIP_LIVE_SEMANTIC_TORCH_THREADS", "0"), ("CLIP_LIVE_SEMANTIC_HYPE_WORDS", "omg")],
)
def test_bad_values_name_the_setting(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError, match=name):
        load_settings()
