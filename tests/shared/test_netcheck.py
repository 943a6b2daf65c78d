"""Which stream URLs are private: files, devices, local schemes, and hosts that are (or resolve
to) addresses that are not public."""

from __future__ import annotations

import pytest

from shared.netcheck import private_reason

NAMES = {
    "stream.example": ["93.184.215.14"],
    "inside.example": ["93.184.215.14", "192.168.1.20"],  # one private answer is enough
    "v6.example": ["2606:2800:220:1:248:1893:25c8:1946"],
    "mapped.example": ["::ffff:10.0.0.1"],
}


def resolve(host: str) -> list[str]:
    """Name answers of our own, so the test needs no DNS."""
    if host not in NAMES:
        raise OSError(f"unknown host {host}")
    return NAMES[host]


@pytest.mark.parametrize("url", [
    "https://stream.example/live.m3u8", "stream.example/channel", "hls://stream.example/x.m3u8",
    "hls://https://stream.example/x.m3u8", "rtmp://stream.example/app/key",
    "ffmpeg:https://stream.example/x.ts", "http://v6.example:8080/x", "http://93.184.215.14/x",
    "stream.example:8080/live",
])
def test_public_urls_pass(url: str) -> None:
    assert private_reason(url, resolve) is None


@pytest.mark.parametrize(("url", "why"), [
    ("http://127.0.0.1/x", "loopback"), ("http://127.8.9.1:99/x", "loopback"),
    ("http://[::1]/x", "loopback"), ("http://0.0.0.0/", "unspecified"),
    ("http://10.1.2.3/x", "private"), ("http://172.16.0.1/x", "private"),
    ("http://192.168.0.1/x", "private"), ("http://100.64.0.1/x", "private"),
    ("http://169.254.169.254/latest", "link-local"), ("http://[fe80::1%25eth0]/", "link-local"),
    ("udp://239.0.0.1:1234", "multicast"), ("http://[::ffff:127.0.0.1]/", "loopback"),
    ("http://inside.example/x", "192.168.1.20"), ("http://mapped.example/x", "10.0.0.1"),
    ("http://nowhere.example/x", "cannot be resolved"),
    ("/etc/passwd", "file"), ("./clip.mp4", "file"), ("C:\\video.mp4", "file"),
    ("file:///etc/passwd", "file://"), ("capture://screen?video=:0.0", "capture://"),
    ("ffmpeg:/dev/video0", "file"), ("ffmpeg:concat:a.ts|b.ts", "not a network URL"),
    ("gopher://stream.example/", "not a network stream"), ("udp://@:1234", "no host"),
    ("hls://127.0.0.1/x.m3u8", "loopback"), ("", "empty"),
])
def test_private_urls_are_named(url: str, why: str) -> None:
    reason = private_reason(url, resolve)
    assert reason is not None and why in reason, reason


def test_real_resolution_sees_localhost_as_loopback() -> None:
    reason = private_reason("http://localhost:8000/x.m3u8")
    assert reason is not None and "loopback" in reason
    assert "loopback" in (private_reason("http://2130706433/") or "")  # 127.0.0.1 as a number
