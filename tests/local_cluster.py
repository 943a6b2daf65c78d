"""A small Redis Cluster on loopback ports, for tests and benchmarks.

It starts `masters` redis-server processes in cluster mode (no saving to disk, free ports for
both the clients and the cluster bus), joins them with `redis-cli --cluster create` (no
replicas), waits until every node says `cluster_state:ok`, and stops them all after.
"""

from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path
from types import TracebackType

from shared.embedded_redis import EmbeddedRedisError, find_redis_server, free_port

START_TIMEOUT_S = 60.0
"""How long the nodes may take to answer and agree that the cluster is ready."""


class LocalCluster:
    """Start with `start()` (or `with`), read `url` (any node will do), stop with `stop()`."""

    def __init__(self, workdir: Path, masters: int = 3) -> None:
        self.workdir = workdir
        self.masters = masters
        self.ports: list[int] = []
        self.processes: list[subprocess.Popen[bytes]] = []

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.ports[0]}/0"

    def start(self) -> LocalCluster:
        self.workdir.mkdir(parents=True, exist_ok=True)
        server = str(find_redis_server())
        cli = shutil.which("redis-cli") or str(Path(server).with_name("redis-cli"))
        try:
            for _ in range(self.masters):
                self._start_node(server, free_port(), free_port())
            deadline = time.monotonic() + START_TIMEOUT_S
            for port in self.ports:
                self._wait(cli, port, ("PING",), "PONG", deadline)
            made = subprocess.run(
                [cli, "--cluster", "create", *(f"127.0.0.1:{p}" for p in self.ports),
                 "--cluster-replicas", "0", "--cluster-yes"],
                capture_output=True, text=True, timeout=START_TIMEOUT_S, check=False)
            if made.returncode != 0:
                raise EmbeddedRedisError(f"redis-cli --cluster create failed: "
                                         f"{(made.stdout + made.stderr)[-500:]}")
            for port in self.ports:
                self._wait(cli, port, ("CLUSTER", "INFO"), "cluster_state:ok", deadline)
        except BaseException:
            self.stop()
            raise
        return self

    def _start_node(self, server: str, port: int, bus_port: int) -> None:
        args = [server, "--port", str(port), "--bind", "127.0.0.1", "--cluster-enabled", "yes",
                "--cluster-port", str(bus_port),
                "--cluster-config-file", str(self.workdir / f"nodes-{port}.conf"),
                "--save", "", "--appendonly", "no", "--dir", str(self.workdir),
                "--logfile", str(self.workdir / f"redis-{port}.log"), "--daemonize", "no"]
        self.ports.append(port)
        self.processes.append(subprocess.Popen(args, stdin=subprocess.DEVNULL,
                                               stdout=subprocess.DEVNULL,
                                               stderr=subprocess.DEVNULL,
                                               start_new_session=True))

    @staticmethod
    def _cli(cli: str, port: int, *command: str) -> str:
        done = subprocess.run([cli, "-h", "127.0.0.1", "-p", str(port), *command],
                              capture_output=True, text=True, timeout=10, check=False)
        return done.stdout.strip()

    def _wait(self, cli: str, port: int, command: tuple[str, ...], want: str,
              deadline: float) -> None:
        """Wait until node `port` answers `command` with `want` in it; fail early if a node
        died."""
        what = f"{want!r} from {' '.join(command)} on node {port}"
        while time.monotonic() < deadline:
            if any(p.poll() is not None for p in self.processes):
                raise EmbeddedRedisError(f"a cluster node exited while waiting for {what}")
            if want in self._cli(cli, port, *command):
                return
            time.sleep(0.1)
        raise EmbeddedRedisError(f"timed out waiting for {what}")

    def stop(self) -> None:
        """Stop every node and wait for them to be gone."""
        for process in self.processes:
            if process.poll() is None:
                process.terminate()
        for process in self.processes:
            try:
                process.wait(5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        self.processes = []

    def __enter__(self) -> LocalCluster:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, err: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
