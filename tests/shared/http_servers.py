"""Tiny HTTP servers on loopback for the URL-guard tests: each answers fixed routes and
remembers every path it was asked for."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

Route = tuple[int, dict[str, str], bytes]
"""Status, headers, body."""


@dataclass
class LoopbackServer:
    """A running server: its port, its routes (changeable), and the paths it was asked for."""

    port: int
    routes: dict[str, Route] = field(default_factory=dict)
    hits: list[str] = field(default_factory=list)

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@contextlib.contextmanager
def loopback_server(routes: dict[str, Route] | None = None) -> Iterator[LoopbackServer]:
    """Serve `routes` on 127.0.0.1 (a free port) until the block ends. Unknown paths: 404."""
    state = LoopbackServer(port=0, routes=dict(routes or {}))

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self._answer(body_too=True)

        def do_HEAD(self) -> None:
            self._answer(body_too=False)

        def _answer(self, body_too: bool) -> None:
            state.hits.append(self.path)
            status, headers, body = state.routes.get(self.path, (404, {}, b"not here"))
            self.send_response(status)
            for key, value in headers.items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if body_too:
                self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def redirect(to: str, status: int = 302) -> Route:
    return (status, {"Location": to}, b"")


def playlist(*segments: str) -> Route:
    """A finished HLS media playlist with these segment URLs (2 s each)."""
    lines = ["#EXTM3U", "#EXT-X-VERSION:3", "#EXT-X-TARGETDURATION:2", "#EXT-X-MEDIA-SEQUENCE:0"]
    for url in segments:
        lines += ["#EXTINF:2.0,", url]
    lines.append("#EXT-X-ENDLIST")
    return (200, {"Content-Type": "application/vnd.apple.mpegurl"},
            ("\n".join(lines) + "\n").encode())
