"""`clip-live run` with no URL: a demo stream, live on this machine, with its own chat.

The demo media (see `demo_media`) loops as a live HLS stream on 127.0.0.1, and a small IRC
server plays its chat in step. A new user sees a real clip appear a few minutes after start.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path
from types import TracebackType

from launcher.demo_media import DURATION_S, Progress, make_demo
from launcher.live_hls import LiveHls
from shared.embedded_redis import free_port

DEMO_CHANNEL = "demo"


class DemoStream:
    """Start with `with DemoStream(folder) as demo:`; then `demo.url` and `demo.env()`."""

    def __init__(self, folder: Path, excited: bool = True, channel: str = DEMO_CHANNEL,
                 progress: Progress | None = None) -> None:
        self.folder = folder
        self.progress = progress
        self.channel = channel
        self.excited = excited
        self.hls: LiveHls | None = None
        self.chat: subprocess.Popen[bytes] | None = None
        self.chat_port = free_port()

    @property
    def url(self) -> str:
        assert self.hls, "start the demo first"
        return self.hls.url

    def env(self) -> dict[str, str]:
        """Settings that point the chat worker at the demo's chat server."""
        return {
            "CLIP_LIVE_CHAT_IRC_HOST": "127.0.0.1",
            "CLIP_LIVE_CHAT_IRC_PORT": str(self.chat_port),
            "CLIP_LIVE_CHAT_IRC_TLS": "false",
            "CLIP_LIVE_CHAT_TWITCH_ONLY": "false",
        }

    def start(self) -> DemoStream:
        try:
            media = make_demo(self.folder, self.excited, self.progress)
        except (OSError, subprocess.CalledProcessError) as err:
            raise RuntimeError(f"cannot make the demo stream: {err}") from None
        self.hls = LiveHls(self.folder / ("hls" if self.excited else "hls_calm"),
                           loop_file=media.video)
        started = time.time()
        self.hls.start()
        self.chat = subprocess.Popen(
            [sys.executable, "-m", "launcher.demo_chat", "--port", str(self.chat_port),
             "--channel", self.channel, "--script", str(media.chat), "--start", str(started),
             "--length", str(DURATION_S)],
            stdin=subprocess.DEVNULL, start_new_session=True)
        return self

    def stop(self) -> None:
        if self.chat and self.chat.poll() is None:
            self.chat.terminate()
            self.chat.wait(5)
        if self.hls:
            self.hls.stop()

    def __enter__(self) -> DemoStream:
        return self.start()

    def __exit__(self, kind: type[BaseException] | None, err: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()
