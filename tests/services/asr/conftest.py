"""One Whisper tiny.en for the whole asr test session (it loads in well under a second, but its
first passes are slower)."""

from __future__ import annotations

import pytest

from services.asr.whisper_backend import WhisperBackend


@pytest.fixture(scope="session")
def tiny_en() -> WhisperBackend:
    return WhisperBackend("tiny.en", device="cpu", cpu_threads=1)
