"""Commands for the feedback loop: keep, drop, retrain, and which model is in use."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time
from typing import Any

from launcher import control
from services.fuser.model import ModelStore
from services.fuser.retrain import retrain
from shared.feedback import ClipBusy, ClipNotFound, ClipOutsideData, JudgedClip, Verdict
from shared.feedback import judge_clip as feedback_judge
from shared.settings import Settings

log = logging.getLogger("clip_live.learning")


def judge_clip(settings: Settings, clip_id: str, verdict: Verdict, out: Any) -> int:
    """Move a clip into keep/ or drop/ through the running mesh (which knows its files)."""
    try:
        judged = asyncio.run(_judge(settings, clip_id, verdict))
    except control.MeshNotFound as err:
        print(f"clip-live: {err}. Without a running mesh, move the clip's files into "
              f"{settings.data_dir / verdict}/<channel>/ by hand: that counts the same.", file=out)
        return 1
    except (ClipNotFound, ClipBusy, ClipOutsideData) as err:
        print(f"clip-live: {err}", file=out)
        return 1
    print(f"{verdict}: {clip_id} -> {judged.video}", file=out)
    return 0


async def _judge(settings: Settings, clip_id: str, verdict: Verdict) -> JudgedClip:
    bus = await control.connect(settings)
    try:
        return await feedback_judge(bus.redis, settings, clip_id, verdict)
    finally:
        await bus.close()


def run_retrain(settings: Settings, out: Any) -> int:
    result = retrain(settings.data_dir)
    print(result.summary(), file=out)
    return 0


def nightly(settings: Settings, stop_after: int | None = None) -> int:
    """Retrain every night at `retrain_hour` (local time), forever (the compose service)."""
    runs = 0
    while stop_after is None or runs < stop_after:
        now = dt.datetime.now()
        due = now.replace(hour=settings.retrain_hour, minute=0, second=0, microsecond=0)
        if due <= now:
            due += dt.timedelta(days=1)
        log.info("next retrain at %s", due.isoformat(timespec="minutes"))
        time.sleep((due - now).total_seconds())
        result = retrain(settings.data_dir)
        log.info("nightly retrain: %s", result.summary())
        runs += 1
    return 0


def list_models(settings: Settings, out: Any) -> int:
    store = ModelStore(settings.data_dir / "models")
    store.load_current()
    current = store.current_version()
    for meta in store.versions():
        mark = "*" if meta["version"] == current else " "
        when = time.strftime("%Y-%m-%d %H:%M", time.localtime(meta.get("created", 0)))
        auc = meta.get("metrics", {}).get("auc_heldout_new")
        shown = f" AUC {auc:.3f}" if isinstance(auc, float) else ""
        print(f"{mark} {meta['version']}  {when}  {meta.get('kind')}  "
              f"{meta.get('rows', 0)} seconds{shown}", file=out)
    return 0


def use_model(settings: Settings, version: str, out: Any) -> int:
    store = ModelStore(settings.data_dir / "models")
    try:
        store.use(version)
    except Exception as err:  # Whatever is wrong with it, say so in one line.
        print(f"clip-live: cannot use model {version}: {err}", file=out)
        return 1
    print(f"now using model {version}", file=out)
    return 0
