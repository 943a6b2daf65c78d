"""Commands for the feedback loop: keep, drop, retrain (from clips, and from chat), and which
model is in use, globally and per channel."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time
from typing import Any

from launcher import control
from services.fuser import model_files
from services.fuser.chat_history import channels_with_chat
from services.fuser.model import ModelStore
from services.fuser.retrain import retrain
from services.fuser.retrain_chat import learn_channel, learn_from_chat
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


def run_retrain(settings: Settings, out: Any, from_chat: bool = False,
                channel: str | None = None) -> int:
    """`clip-live retrain`: from kept and dropped clips (the global model); with `from_chat`,
    from every channel's chat too; with `channel`, only that channel's own model."""
    if channel is not None:
        print(learn_channel(settings.data_dir, channel, settings, from_chat).summary(), file=out)
        return 0
    if not from_chat:
        print(retrain(settings.data_dir).summary(), file=out)
        return 0
    results = learn_from_chat(settings.data_dir, settings)
    if not results:
        print(f"no chat logs to learn from in {settings.data_dir / 'chat'} (the chat service "
              "writes one per session)", file=out)
    for result in results:
        print(result.summary(), file=out)
        for note in result.notes:
            print(f"  note: {note}", file=out)
    return 0


def retrain_all(settings: Settings) -> list[str]:
    """The nightly retrain: from chat (every channel with chat logs, then the global model
    from all of them, kept and dropped clips included), or, with no chat logs at all, from
    kept and dropped clips alone."""
    if channels_with_chat(settings.data_dir):
        return [r.summary() for r in learn_from_chat(settings.data_dir, settings)]
    return [retrain(settings.data_dir).summary()]


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
        for summary in retrain_all(settings):
            log.info("nightly retrain: %s", summary)
        runs += 1
    return 0


def list_models(settings: Settings, out: Any) -> int:
    """Every installed version: the global ones, then each channel's own."""
    store = ModelStore(settings.data_dir / "models")
    store.load_current()
    print("global model (judges every channel without its own):", file=out)
    _print_versions(store, out)
    for channel in model_files.channels_with_models(settings.data_dir):
        own = ModelStore.for_channel(settings.data_dir, channel)
        in_use = own.current_version()
        print(f"channel {channel}: " + (f"its own model {in_use} in use" if in_use else
                                        "no own model in use (the global model judges it)"),
              file=out)
        _print_versions(own, out)
    return 0


def _print_versions(store: ModelStore, out: Any) -> None:
    current = store.current_version()
    for meta in store.versions():
        mark = "*" if meta["version"] == current else " "
        when = time.strftime("%Y-%m-%d %H:%M", time.localtime(meta.get("created", 0)))
        auc = meta.get("metrics", {}).get("auc_heldout_new")
        shown = f" AUC {auc:.3f}" if isinstance(auc, float) else ""
        print(f"{mark} {meta['version']}  {when}  {meta.get('kind')}  "
              f"{meta.get('rows', 0)} seconds{shown}", file=out)
        if meta.get("trained_on"):
            print(f"      trained on {meta['trained_on']}", file=out)


def use_model(settings: Settings, version: str, out: Any, channel: str | None = None) -> int:
    """Put a version in use (globally, or as `channel`'s own); with a channel, `global` stops
    using its own model."""
    store = (ModelStore.for_channel(settings.data_dir, channel) if channel
             else ModelStore(settings.data_dir / "models"))
    try:
        if channel and version == "global":
            store.clear()
            print(f"channel {channel} is now judged by the global model", file=out)
            return 0
        store.use(version)
    except Exception as err:  # Whatever is wrong with it, say so in one line.
        print(f"clip-live: cannot use model {version}: {err}", file=out)
        return 1
    print(f"now using model {version}" + (f" for channel {channel}" if channel else ""),
          file=out)
    return 0
