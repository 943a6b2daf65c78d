"""The emotion model choice: DeepFace only when it is here with its weights, else fer."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import pytest

from services.face.backends import (
    DEEPFACE_WEIGHTS,
    choose_model,
    deepface_missing,
    deepface_weights_file,
)


def test_without_deepface_auto_falls_back_to_fer_with_a_log_line(
        caplog: pytest.LogCaptureFixture) -> None:
    assert "not installed" in deepface_missing()  # deepface is not installed on this machine
    with caplog.at_level(logging.INFO, logger="clip_live.face"):
        model = choose_model("auto")
    assert model.name == "fer"
    assert "not using DeepFace (the deepface package is not installed); falling back to fer" \
        in caplog.text


def test_asking_for_deepface_by_name_warns_and_still_works(
        caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="clip_live.face"):
        model = choose_model("deepface")
    assert model.name == "fer"
    assert any(r.levelno == logging.WARNING and "falling back to fer" in r.getMessage()
               for r in caplog.records)


def test_fer_is_used_without_looking_for_deepface(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="clip_live.face"):
        assert choose_model("fer").name == "fer"
    assert "DeepFace" not in caplog.text


@pytest.fixture
def importable_deepface(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A package named deepface that imports but holds no model (the real one needs
    TensorFlow), and a DEEPFACE_HOME of our own. Returns that home."""
    package = tmp_path / "site" / "deepface"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    monkeypatch.delitem(sys.modules, "deepface", raising=False)
    home = tmp_path / "home"
    monkeypatch.setenv("DEEPFACE_HOME", str(home))
    return home


def test_deepface_without_weights_is_not_used(importable_deepface: Path) -> None:
    weights = importable_deepface / ".deepface" / "weights" / DEEPFACE_WEIGHTS
    assert deepface_weights_file() == weights
    reason = deepface_missing()
    assert "weights are not on this machine" in reason and str(weights) in reason
    assert choose_model("auto").name == "fer"


def test_deepface_that_fails_to_load_falls_back_to_fer(
        importable_deepface: Path, caplog: pytest.LogCaptureFixture) -> None:
    weights = deepface_weights_file()
    weights.parent.mkdir(parents=True)
    weights.write_bytes(b"not really weights")
    assert deepface_missing() == ""  # importable, and the weights file is there
    with caplog.at_level(logging.INFO, logger="clip_live.face"):
        model = choose_model("auto")
    assert model.name == "fer"
    assert "failed to load: ImportError" in caplog.text
