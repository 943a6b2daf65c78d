"""Fixtures for the clipper tests: one 40 s recording made once for the whole run, copied into
each test's data folder where ingest would record it (the clipper reads nothing outside it)."""

from __future__ import annotations

import pytest

from shared.settings import Settings
from tests.services.clipper.media import Recorded, place, record


@pytest.fixture(scope="session")
def recording(tmp_path_factory: pytest.TempPathFactory) -> list[Recorded]:
    """40 s of test video and audio as 20 segments of 2 s, made once. Tests use `recorded`."""
    return record(tmp_path_factory.mktemp("recording"))


@pytest.fixture
def recorded(recording: list[Recorded], settings: Settings) -> list[Recorded]:
    """The recording, copied under this test's `<data_dir>/buffer/`, as ingest keeps it."""
    return place(recording, settings.data_dir)


@pytest.fixture
def clip_settings(settings: Settings) -> Settings:
    """The test settings with a short extra wait, so partial clips do not take long."""
    return settings.model_copy(update={"clip_wait_extra_s": 5.0})
