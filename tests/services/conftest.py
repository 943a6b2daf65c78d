"""Fixtures for the service tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from launcher.live_hls import LiveHls


@pytest.fixture(scope="module")
def live_hls_module(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveHls]:
    """One live HLS stream for a whole test module; stopped at the module's end."""
    hls = LiveHls(tmp_path_factory.mktemp("live_hls"))
    hls.start()
    try:
        yield hls
    finally:
        hls.stop()


@pytest.fixture
def live_hls(live_hls_module: LiveHls) -> LiveHls:
    """A live HLS stream (640x360, 30 fps, a 440 Hz tone) on 127.0.0.1.

    `.url` is its playlist (http://127.0.0.1:PORT/live.m3u8); `.stop_server()` and
    `.start_server()` drop and bring back the network on the same port while the stream goes
    on. The stream is shared by the tests of one module; each test starts with the server up.
    """
    live_hls_module.start_server()
    return live_hls_module
