"""A real live HLS stream on loopback: the demo stream, and the tests' stream.

FFmpeg plays its input in real time (`-re`): a test picture and a tone, or a media file looped
forever. It writes a live HLS playlist (2 s segments, the last 6 listed, old ones deleted) into a
folder, and Python's `http.server` serves that folder on 127.0.0.1. Stopping only the server
looks like a network drop: the stream goes on being made, and comes back when the server starts
again on the same port.

    with LiveHls(tmp_path) as hls:
        hls.url            # http://127.0.0.1:PORT/live.m3u8
        hls.stop_server()  # the network "drops"
        hls.start_server() # and comes back
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from pathlib import Path
from types import TracebackType

from shared.embedded_redis import free_port

PYTHON = sys.executable

PLAYLIST = "live.m3u8"


class LiveHls:
    """A live HLS stream made by FFmpeg and served over HTTP on 127.0.0.1."""

    def __init__(self, folder: Path, *, size: str = "640x360", rate: int = 30,
                 tone_hz: int = 440, segment_s: int = 2, list_size: int = 6,
                 port: int | None = None, loop_file: Path | None = None,
                 copy: bool = False) -> None:
        self.folder = folder
        self.loop_file = loop_file
        self.copy = copy
        """Pass the looped file's H.264 and AAC through as they are (it must have a key frame
        every `segment_s`): a stream that costs next to no CPU to make."""
        self.size, self.rate, self.tone_hz = size, rate, tone_hz
        self.segment_s, self.list_size = segment_s, list_size
        self.port = port or free_port()
        self.maker: subprocess.Popen[bytes] | None = None
        self.server: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/{PLAYLIST}"

    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    def start(self, ready_segments: int = 3, timeout_s: float = 30.0) -> LiveHls:
        """Start making the stream and serving it; wait until the playlist lists
        `ready_segments` segments (so a player can start at once)."""
        self.folder.mkdir(parents=True, exist_ok=True)
        gop = self.rate * self.segment_s
        self.maker = subprocess.Popen(
            ["ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "error", "-re", *self._inputs(),
             *(["-c", "copy"] if self.copy and self.loop_file else
               ["-c:v", "libx264", "-preset", "ultrafast", "-g", str(gop),
                "-keyint_min", str(gop), "-sc_threshold", "0", "-c:a", "aac"]),
             "-f", "hls", "-hls_time", str(self.segment_s), "-hls_list_size", str(self.list_size),
             "-hls_flags", "delete_segments", str(self.folder / PLAYLIST)],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=(self.folder / "maker.log").open("wb"), start_new_session=True)
        self.start_server()
        deadline = time.monotonic() + timeout_s
        while self.listed_segments() < ready_segments:
            if self.maker.poll() is not None:
                raise RuntimeError("the HLS maker (FFmpeg) stopped: "
                                   + (self.folder / "maker.log").read_text()[-500:])
            if time.monotonic() > deadline:
                raise RuntimeError(f"the live HLS stream did not start in {timeout_s:.0f} s")
            time.sleep(0.2)
        return self

    def _inputs(self) -> list[str]:
        """FFmpeg's input: the file looped forever, or a test picture and a tone."""
        if self.loop_file is not None:
            return ["-stream_loop", "-1", "-i", str(self.loop_file)]
        return ["-f", "lavfi", "-i", f"testsrc2=size={self.size}:rate={self.rate}",
                "-f", "lavfi", "-i", f"sine=frequency={self.tone_hz}:sample_rate=48000"]

    def listed_segments(self) -> int:
        try:
            text = (self.folder / PLAYLIST).read_text()
        except OSError:
            return 0
        return sum(1 for line in text.splitlines() if line.startswith("#EXTINF"))

    def start_server(self, timeout_s: float = 10.0) -> None:
        """Serve the folder over HTTP on the same port as before."""
        if self.server and self.server.poll() is None:
            return
        self.server = subprocess.Popen(
            [PYTHON, "-m", "http.server", "--bind", "127.0.0.1", str(self.port),
             "--directory", str(self.folder)],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            start_new_session=True)  # Ctrl-C stops `clip-live run`, which stops us in turn.
        deadline = time.monotonic() + timeout_s
        while not _listening(self.port):
            if self.server.poll() is not None:
                raise RuntimeError(f"http.server could not start on port {self.port}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"http.server did not listen on port {self.port}")
            time.sleep(0.05)

    def stop_server(self) -> None:
        """Stop serving (the network "drops"); the stream itself goes on being made."""
        _end(self.server)
        self.server = None

    def stop(self) -> None:
        """Stop everything."""
        self.stop_server()
        _end(self.maker)
        self.maker = None

    def __enter__(self) -> LiveHls:
        return self.start()

    def __exit__(self, kind: type[BaseException] | None, err: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()


def _end(proc: subprocess.Popen[bytes] | None) -> None:
    if proc is None or proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(5)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def _listening(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False
