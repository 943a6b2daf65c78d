"""Fixtures for the clipper tests: one 40 s recording made once for the whole run."""

from __future__ import annotations

import pytest

from shared.settings import Settings
from tests.services.clipper.media import Recorded, record


@pytest.fixture(scope="session")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> list[Recorded]:
    """40 s of test video and audio as 20 segments of 2 s. Tests must not change these files."""
    return record(tmp_path_factory.mktemp("recording"))


@pytest.fixture
def clip_settings(settings: Settings) -> Settings:
    """The test settings with a short extra wait, so partial clips do not take long."""
    return settings.model_copy(update={"clip_wait_extra_s": 5.0})
