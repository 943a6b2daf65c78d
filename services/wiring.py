"""The mesh's wiring: every worker's declaration, in the order `clip-live run` starts them.

Each service declares itself in `services/<name>/worker.py` (see `shared/workers.py`). The
compose file and `clip-live run` start exactly these (a test checks the compose file).
"""

from __future__ import annotations

from services.api.worker import WORKER as API
from services.asr.worker import WORKER as ASR
from services.audio_features.worker import WORKER as AUDIO_FEATURES
from services.chat.worker import WORKER as CHAT
from services.clipper.worker import WORKER as CLIPPER
from services.face.worker import WORKER as FACE
from services.fuser.worker import WORKER as FUSER
from services.ingest.worker import WORKER as INGEST
from services.motion.worker import WORKER as MOTION
from services.semantic.worker import WORKER as SEMANTIC
from services.vod.worker import WORKER as VOD
from shared.workers import Worker

WORKERS: tuple[Worker, ...] = (
    INGEST, AUDIO_FEATURES, MOTION, ASR, SEMANTIC, CHAT, FACE, FUSER, CLIPPER, VOD, API,
)

SERVICES: tuple[str, ...] = tuple(worker.name for worker in WORKERS)
"""Every service's name, in start order."""


def worker_named(name: str) -> Worker:
    """The declaration of the service called `name`."""
    for worker in WORKERS:
        if worker.name == name:
            return worker
    raise KeyError(f"no service is called {name!r}; the services: {', '.join(SERVICES)}")
