"""Where a running mesh is: `mesh.json` in the data folder, written by `clip-live run`.

Later commands (`clip-live status`, the API's `/health`) read it to find the mesh's Redis and
the services it started.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path


@dataclass
class MeshInfo:
    """Where a running mesh is. Saved as `mesh.json` in the data folder."""

    redis_url: str
    data_dir: str
    pid: int
    started: float
    embedded_redis: bool
    services: list[str]


def info_path(data_dir: Path) -> Path:
    return data_dir / "mesh.json"


def write_info(info: MeshInfo) -> None:
    path = info_path(Path(info.data_dir))
    path.write_text(json.dumps(asdict(info), indent=2))
    path.chmod(0o600)  # The Redis URL may hold a password.


def read_info(data_dir: Path) -> MeshInfo | None:
    """The mesh running with this data folder, or None when none is."""
    try:
        info = MeshInfo(**json.loads(info_path(data_dir).read_text()))
    except (OSError, ValueError, TypeError):
        return None
    return info if _alive(info.pid) else None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
