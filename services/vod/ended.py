"""A VOD job's last word, kept on disk beside its results.

When a job ends (done, failed or stopped), its last progress goes to `progress.json` in its out
folder before it is published. The API lists these jobs too, so a finished job, its report and
its clips stay reachable after the bus has moved on, and after Redis lost its data (each
`clip-live run` starts with an empty one). Pure file work, no Redis.
"""

from __future__ import annotations

import logging
from pathlib import Path

from pydantic import ValidationError

from shared.contracts import VodProgress
from shared.files import write_text

log = logging.getLogger("clip_live.vod.ended")

PROGRESS_FILE = "progress.json"
ENDED = frozenset({"done", "failed", "stopped"})
"""The stages a job ends in."""


def save_ended(progress: VodProgress) -> None:
    """Write an ended job's last progress into its out folder (whole or not at all)."""
    folder = Path(progress.out)
    folder.mkdir(parents=True, exist_ok=True)
    write_text(folder / PROGRESS_FILE, progress.model_dump_json(indent=1) + "\n")


def ended_jobs(vods_dir: Path) -> dict[str, VodProgress]:
    """The last progress of every ended job whose out folder lies in `vods_dir`, by job id.
    A file that is not a job's progress is logged and left out."""
    found: dict[str, VodProgress] = {}
    for path in sorted(vods_dir.glob(f"*/{PROGRESS_FILE}")):
        try:
            progress = VodProgress.model_validate_json(path.read_bytes())
        except (OSError, ValidationError) as err:
            log.warning("skipping %s: not a VOD job's progress (%s)", path, err)
            continue
        found[progress.job_id] = progress
    return found
