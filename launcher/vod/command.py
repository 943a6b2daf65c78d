"""`clip-live vod SOURCE`: find the best moments of a recorded stream, faster than real time.

It starts the same mesh as `clip-live run` (its own Redis, one process per service; with
`--workers N`, N copies of each worker) and hands the VOD to its vod worker as one job
(`services/vod/job.py`), then draws the job's progress until its clips are written.
"""

from __future__ import annotations

import argparse
import sys
import time
import uuid
from pathlib import Path

from launcher import control
from launcher.mesh import run_mesh, worker_sets
from launcher.preflight import BadSource, check_source
from launcher.run import fresh_log_file
from launcher.run_report import Outcome
from launcher.vod.follow import VodFollow
from services.vod.media import NotMedia, media_length, source_name
from shared.contracts import VodProgress, VodRequest
from shared.embedded_redis import EmbeddedRedisError
from shared.logs import setup_logging
from shared.netcheck import is_url
from shared.settings import Settings


def run_vod(args: argparse.Namespace, settings: Settings) -> int:
    """Analyse `args.source`; return the exit code."""
    try:
        source = check_source(args.source)
        length = 0.0 if is_url(source) else media_length(Path(source))
    except (BadSource, NotMedia) as err:
        print(f"clip-live: {err}", file=sys.stderr)
        return 2
    if args.chat is not None and not args.chat.is_file():
        print(f"clip-live: no such chat file: {args.chat}", file=sys.stderr)
        return 2
    for name in ("top", "workers", "parts"):
        if getattr(args, name) is not None and getattr(args, name) < 1:
            print(f"clip-live: --{name} must be at least 1", file=sys.stderr)
            return 2
    data_dir = settings.data_dir.resolve()
    name = source_name(source)
    out = (args.out or data_dir / "vods" / Path(name).stem).resolve()
    log_path = fresh_log_file(data_dir)
    setup_logging("clip-live", level=settings.log_level, fmt=settings.log_format,
                  secrets=settings.secrets(), stderr_level=None if args.verbose else "WARNING",
                  file=log_path)
    how_long = f"{length / 60:.1f} min" if length else "fetched first"
    print(f"clip-live vod: {name} ({how_long}); full logs: {log_path}", flush=True)
    request = VodRequest(job_id=uuid.uuid4().hex[:12], source=source,
                         chat=str(args.chat.resolve()) if args.chat else "", top=args.top,
                         parts=args.parts or args.workers, out=str(out), wall=time.time())
    bar = ProgressBar(length)
    jobs: list[VodFollow] = []

    def watch(redis_url: str) -> VodFollow:
        jobs.append(VodFollow(settings, redis_url, request, bar.show))
        return jobs[-1]

    try:
        with log_path.open("ab") as output:
            outcome = run_mesh(settings, None, watch=watch,
                               output=None if args.verbose else output,
                               services=worker_sets(args.workers))
    except (control.MeshNotFound, EmbeddedRedisError, RuntimeError) as err:
        outcome = Outcome(1, f"clip-live: {err}")
    finally:
        bar.close()
    if jobs and jobs[0].outcome is None and outcome.code == 0:
        outcome = Outcome(130, "stopped before the end; nothing was written (run it again "
                               "to start over)")
    print(outcome.line, file=sys.stderr if outcome.code else sys.stdout, flush=True)
    return outcome.code


class ProgressBar:
    """The terminal's progress bar: seconds done, speed as × real time, time left."""

    def __init__(self, length_s: float) -> None:
        from tqdm import tqdm

        self.bar = tqdm(total=round(length_s), unit="s", file=sys.stderr, desc="starting",
                        bar_format="{desc}: {percentage:3.0f}%|{bar:20}| {n_fmt}/{total_fmt} s"
                                   " {postfix}")
        self.closed = False

    def show(self, progress: VodProgress) -> None:
        if self.closed:
            return
        if progress.length_s and round(progress.length_s) != self.bar.total:
            self.bar.total = round(progress.length_s)  # a fetched VOD's length, now known
        done = min(progress.done_s, float(self.bar.total or 0))
        speed = progress.speed
        left = (self.bar.total - done) / speed if speed > 0 else float("nan")
        self.bar.set_description_str(progress.stage, refresh=False)
        self.bar.set_postfix_str(f"{speed:.1f}× real time, {left:.0f} s left"
                                 if speed > 0 else "", refresh=False)
        self.bar.update(round(done) - self.bar.n)

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self.bar.close()
