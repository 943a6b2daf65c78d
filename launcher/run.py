"""`clip-live run`: check the input, start the mesh, and keep the terminal calm.

The terminal shows a few lines a person reads: what runs, the dashboard address, each
channel's state, and one line per new clip with why it was cut. Every service's full log goes
to `logs/clip-live.log` in the data folder (`-v` shows it on the terminal too).
"""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from launcher import control
from launcher.demo import DEMO_CHANNEL, DemoStream
from launcher.follow import Follower
from launcher.mesh import SERVICES, run_mesh
from launcher.preflight import BadSource, check_source
from launcher.run_report import Outcome, RunReport
from shared.channels import channel_from_url
from shared.embedded_redis import EmbeddedRedisError
from shared.logs import setup_logging
from shared.settings import Settings

LOG_NAME = "clip-live.log"
log = logging.getLogger("clip_live.run")


def run(settings: Settings, url: str | None, channel: str | None, quality: str,
        verbose: bool) -> int:
    """Watch `url` (None: the demo) until Ctrl-C, or until that one stream fails or ends.
    Returns the exit code."""
    data_dir = settings.data_dir.resolve()
    watch_url = None
    if url is not None:
        try:
            watch_url = check_source(url)
        except BadSource as err:
            print(f"clip-live: {err}", file=sys.stderr)
            return 2
    name = channel or (channel_from_url(url) if url else DEMO_CHANNEL)
    data_dir.mkdir(parents=True, exist_ok=True)
    log_path = fresh_log_file(data_dir)
    address, token_note = dashboard_address(settings, data_dir)
    secrets = [*settings.secrets(), address.partition("token=")[2]]
    setup_logging("clip-live", level=settings.log_level, fmt=settings.log_format,
                  secrets=secrets, stderr_level=None if verbose else "WARNING", file=log_path)
    say = _teller(verbose)
    say(f"Clip Live: starting {len(SERVICES)} services ({', '.join(SERVICES)}); "
        "Ctrl-C stops them all")
    say(f"full logs: {log_path}" + ("" if verbose else " (-v shows them here)"))
    print(f"dashboard: {address}{token_note}", flush=True)
    report = RunReport(SERVICES, address, only_channel=name if url else None)

    def watch(redis_url: str) -> Follower:
        return Follower(settings, redis_url, report, say)

    try:
        with log_path.open("ab") as output, _demo_or(watch_url, name, data_dir, say) as target:
            outcome = run_mesh(settings, _start_watching(settings, target, name, quality, say),
                               target.env, watch=watch, output=None if verbose else output)
    except (control.MeshNotFound, EmbeddedRedisError, RuntimeError) as err:
        outcome = Outcome(1, f"clip-live: {err}")
    say(outcome.line)
    return outcome.code


class Target:
    """The stream to watch, and settings the services need for it (the demo's chat server)."""

    def __init__(self, url: str, env: dict[str, str] | None = None) -> None:
        self.url = url
        self.env = env or {}


@contextmanager
def _demo_or(url: str | None, name: str, data_dir: Path,
             say: Callable[[str], None]) -> Iterator[Target]:
    """The user's stream, or the demo stream (made on first use, with a progress bar)."""
    if url is not None:
        yield Target(url)
        return
    say("no URL given: playing the demo stream; a clip should appear about 2 minutes in")
    with _progress_bar() as progress, DemoStream(data_dir / "demo", channel=name,
                                                 progress=progress) as demo:
        yield Target(demo.url, demo.env())


@contextmanager
def _progress_bar() -> Iterator[Callable[[float], None]]:
    """A progress bar for making the demo; it shows only if there is work to do."""
    from tqdm import tqdm

    bar: tqdm[None] | None = None

    def progress(done: float) -> None:
        nonlocal bar
        if bar is None:
            bar = tqdm(total=100, desc="making the demo stream (first run only)", unit="%",
                       bar_format="{desc}: {percentage:3.0f}%|{bar:20}| {elapsed}",
                       file=sys.stderr)
        bar.update(round(100 * done) - bar.n)
        if done >= 1:
            bar.close()

    try:
        yield progress
    finally:
        if bar is not None:
            bar.close()


def _start_watching(settings: Settings, target: Target, name: str, quality: str,
                    say: Callable[[str], None]) -> Callable[[str], None]:
    def start(redis_url: str) -> None:
        live = settings.model_copy(update={"redis_url": redis_url})
        asyncio.run(control.start_monitoring(live, target.url, name, quality))
        say(f"watching {target.url} as channel {name}")

    return start


def _teller(verbose: bool) -> Callable[[str], None]:
    """Where terminal lines go: printed (and kept in the log file), or, with `-v`, logged."""
    def say(line: str) -> None:
        if not verbose:
            print(line, flush=True)
        log.info("%s", line)

    return say


def fresh_log_file(data_dir: Path) -> Path:
    """The log file for this run; the last run's is kept beside it as `.1`."""
    folder = data_dir / "logs"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / LOG_NAME
    if path.exists():
        path.replace(folder / f"{LOG_NAME}.1")
    return path


def dashboard_address(settings: Settings, data_dir: Path) -> tuple[str, str]:
    """The dashboard's address, with the API token in it when we made the token, and a note.
    The token is made on the first run and kept in the data folder; it is shown on the
    terminal, never written to a log."""
    from services.api.apitoken import ensure_api_token, token_path

    host = "127.0.0.1" if settings.api_host in ("0.0.0.0", "::", "") else settings.api_host
    where = f"http://{host}:{settings.api_port}/"
    if settings.api_token is not None:
        return where, " (token: the CLIP_LIVE_API_TOKEN you set)"
    first = not token_path(data_dir).exists()
    token = ensure_api_token(data_dir)
    note = f"\n  (a new API token, kept in {token_path(data_dir)})" if first else ""
    return f"{where}?token={token}", note
