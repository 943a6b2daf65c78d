"""Learn each channel's excitement from its own chat (`clip-live retrain --from-chat`, and
nightly).

For a channel: read its recorded sessions and chat logs (`chat_history`), label its seconds
from the chat spikes, with kept and dropped clips outranking chat (`weak_labels`), and learn
from the features that are not chat (so the model predicts chat's reaction from the stream
itself, and works where there is no chat) (`training`). The new model is installed as the
channel's own only if the channel has at least `learn_min_seconds` labelled seconds and its
held-out AUC beats the model that judges the channel now (its own, or else the global one) on
the same seconds. The global model learns the same way from every channel's seconds together.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from services.chat.detector import DetectorConfig
from services.fuser import chat_history, signals, weak_labels
from services.fuser.model import LoadedModel, ModelError, ModelStore, fallback_model
from services.fuser.retrain import judged_clips
from services.fuser.training import (
    Learner,
    Table,
    all_columns,
    auc,
    fit_balanced,
    train,
    with_context,
)
from shared.settings import Settings

MIN_EACH = 20
"""Besides `learn_min_seconds`, a model needs at least this many seconds of each label."""


@dataclass
class ChatRetrainResult:
    """What one retrain from chat did, for the log and the command's output."""

    scope: str  # "channel" or "global"
    channel: str
    installed: str | None = None
    reason: str = ""
    labelled: int = 0
    positives: int = 0
    spikes: int = 0
    sessions: int = 0
    clips: int = 0
    auc_new: float | None = None
    auc_current: float | None = None
    auc_plain: float | None = None
    auc_context: float | None = None
    current: str = ""
    notes: list[str] = field(default_factory=list)

    @property
    def who(self) -> str:
        return f"channel {self.channel}" if self.scope == "channel" else "the global model"

    def summary(self) -> str:
        head = f"{self.who}: installed {self.installed}" if self.installed else \
            f"{self.who}: no change"
        aucs = (f"held-out AUC new={_fmt(self.auc_new)} in use ({self.current})="
                f"{_fmt(self.auc_current)}; without context {_fmt(self.auc_plain)}, with "
                f"{_fmt(self.auc_context)}")
        return (f"{head}: {self.reason} ({self.labelled} labelled seconds, {self.positives} "
                f"exciting, from {self.spikes} chat spikes in {self.sessions} session(s); {aucs})")


def _fmt(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"


def label_rules(settings: Settings) -> weak_labels.LabelRules:
    lag = settings.chat_reaction_lag_s
    return weak_labels.LabelRules(
        before_s=settings.learn_before_s, after_s=settings.learn_after_s,
        far_s=settings.learn_far_s, min_rank=settings.learn_min_rank,
        quiet_z=settings.learn_quiet_z, react_from_s=lag, react_to_s=lag + 10.0)


def stream_features() -> list[str]:
    """The model's features that are not chat (chat is the teacher, not an input)."""
    chat = {f.name for s in signals.signals() if s.reacts_later for f in s.features}
    return [n for n in signals.feature_names() if n not in chat]


def build_table(data_dir: Path, channels: Sequence[str], settings: Settings,
                from_chat: bool, result: ChatRetrainResult) -> Table:
    """Labelled seconds of these channels, in time order, with every column `train` may use.
    Counts what it used in `result`."""
    names = stream_features()
    rules = label_rules(settings)
    config = DetectorConfig.from_settings(settings) if from_chat else None
    marks = _clip_marks(data_dir)
    parts: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = []
    for channel in channels:
        sessions = chat_history.read_channel(data_dir, channel, names, config)
        ranked = iter(weak_labels.ranked([s for x in sessions for s in x.spikes or []]))
        for session in sessions:
            spikes = [next(ranked) for _ in session.spikes or []]
            if session.note and (channel, session.name) not in marks:
                result.notes.append(f"{channel}/{session.name}: {session.note}")
            chat = (weak_labels.chat_labels(session.times.tolist(), spikes, rules, session.chat)
                    if session.spikes is not None else None)
            judged, clips = marks.get((channel, session.name), ({}, 0))
            labels = weak_labels.merge(session.times.tolist(), chat, judged)
            if not labels:
                continue
            result.sessions += 1
            result.spikes += len(spikes)
            result.clips += clips
            keep = np.array([t in labels for t in session.times.tolist()])
            chosen = session.times[keep].tolist()
            parts.append((with_context(session.x, session.times)[keep],
                          np.array([labels[t].y for t in chosen]),
                          np.array([labels[t].weight for t in chosen]),
                          np.full(len(chosen), len(parts)), session.times[keep]))
    columns = all_columns(names)
    if not parts:
        empty = np.zeros(0)
        return Table(np.zeros((0, len(columns))), empty.astype(int), empty, empty.astype(int),
                     empty.astype(int), columns)
    x, y, w, s, t = (np.concatenate(p) for p in zip(*parts, strict=True))
    result.labelled, result.positives = len(y), int(y.sum())
    return Table(x, y.astype(int), w, s.astype(int), t.astype(int), columns)


def _clip_marks(data_dir: Path) -> dict[tuple[str, str], tuple[dict[int, int], int]]:
    """Kept and dropped clips' seconds, and how many clips, by (channel, session)."""
    times: dict[tuple[str, str], tuple[list[float], list[float]]] = {}
    for meta, label in judged_clips(data_dir):
        key = (str(meta.get("channel", "")), str(meta.get("session", "")))
        times.setdefault(key, ([], []))[1 - label].append(float(meta.get("t", 0.0)))
    return {k: (weak_labels.clip_marks(kept, dropped), len(kept) + len(dropped))
            for k, (kept, dropped) in times.items()}


def learn_channel(data_dir: Path, channel: str, settings: Settings, from_chat: bool = True,
                  learner: Learner = fit_balanced) -> ChatRetrainResult:
    """Learn `channel`'s own model; install it only if it beats what judges the channel now."""
    result = ChatRetrainResult("channel", channel)
    store = ModelStore.for_channel(data_dir, channel)
    current = _in_use(store) or _global_in_use(data_dir)
    table = build_table(data_dir, [channel], settings, from_chat, result)
    return _learn(store, current, table, settings, learner, result, f"channel {channel}")


def learn_global(data_dir: Path, channels: Sequence[str], settings: Settings,
                 learner: Learner = fit_balanced) -> ChatRetrainResult:
    """Learn the global model from every channel's chat and judged clips together."""
    result = ChatRetrainResult("global", "")
    store = ModelStore(data_dir / "models")
    current = _global_in_use(data_dir)
    table = build_table(data_dir, channels, settings, True, result)
    where = f"{len(channels)} channel(s)"
    return _learn(store, current, table, settings, learner, result, where)


def learn_from_chat(data_dir: Path, settings: Settings,
                    learner: Learner = fit_balanced) -> list[ChatRetrainResult]:
    """Every channel with chat logs gets a try at its own model, then the global model learns
    from all of them together."""
    channels = chat_history.channels_with_chat(data_dir)
    judged = {str(m.get("channel", "")) for m, _ in judged_clips(data_dir)}
    results = [learn_channel(data_dir, c, settings, True, learner) for c in channels]
    everyone = sorted(set(channels) | {c for c in judged if chat_history.sessions_of(data_dir, c)})
    if everyone:
        results.append(learn_global(data_dir, everyone, settings, learner))
    return results


def _in_use(store: ModelStore) -> LoadedModel | None:
    try:
        return store.installed()
    except ModelError:
        return None


def _global_in_use(data_dir: Path) -> LoadedModel:
    """The global model in use (the shipped one is installed first when there is none, as the
    fuser does); the shipped one in memory when the installed one cannot be read."""
    try:
        return ModelStore(data_dir / "models").load_current()
    except ModelError:
        return fallback_model()


def _learn(store: ModelStore, current: LoadedModel, table: Table, settings: Settings,
           learner: Learner, result: ChatRetrainResult, where: str) -> ChatRetrainResult:
    started = time.monotonic()
    result.current = f"{current.scope} {current.version}"
    need = settings.learn_min_seconds
    negatives = result.labelled - result.positives
    if result.labelled < need or min(result.positives, negatives) < MIN_EACH:
        result.reason = (f"not enough labelled seconds: {result.labelled} labelled "
                         f"({result.positives} exciting, {negatives} not); needs {need}, "
                         f"with at least {MIN_EACH} of each; {current.scope} model "
                         f"{current.version} stays in use")
        return result
    trained = train(table, stream_features(), learner, settings.fuser_threshold)
    result.auc_new, result.auc_plain, result.auc_context = \
        trained.auc, trained.auc_plain, trained.auc_context
    scores = current.score_table(table.x, table.columns)
    result.auc_current = _auc_where_scored(table.y, scores, trained.held_out_p)
    if result.auc_new is None or result.auc_current is None:
        result.reason = "held-out seconds lack one kind of label"
        return result
    if result.auc_new <= result.auc_current:
        result.reason = f"not better than {current.scope} model {current.version} on held-out " \
                        "seconds"
        return result
    teachers = [f"{result.spikes} chat spikes" if result.spikes else "",
                f"{result.clips} kept/dropped clip(s)" if result.clips else ""]
    trained_on = (f"{'chat' if result.spikes else 'clips'} of {where}: {result.sessions} "
                  f"session(s), {result.labelled} labelled seconds ({result.positives} "
                  f"exciting) from " + " and ".join(t for t in teachers if t))
    result.installed = store.install(trained.model, {
        "kind": "logistic regression learned from chat" if result.spikes else
                "logistic regression learned from kept and dropped clips",
        "trained": True,
        "trained_at": time.time(), "channel": result.channel, "trained_on": trained_on,
        "rows": result.labelled, "positives": result.positives, "context": trained.context,
        "labels": {"chat_spikes": result.spikes, "sessions": result.sessions,
                   "clips": result.clips, "rules": asdict(label_rules(settings)),
                   "min_seconds": settings.learn_min_seconds},
        "calibration": {"method": "Platt scaling on held-out time blocks, folded into the "
                                  "weights", **trained.calibration},
        "metrics": {"auc_heldout_new": result.auc_new, "auc_heldout_previous": result.auc_current,
                    "previous": result.current, "auc_heldout_plain": result.auc_plain,
                    "auc_heldout_context": result.auc_context,
                    "train_seconds": round(time.monotonic() - started, 2)},
    }, trained.columns)
    result.reason = f"beats {current.scope} model {current.version} on held-out seconds"
    return result


def _auc_where_scored(y: np.ndarray, current: np.ndarray, held_p: np.ndarray) -> float | None:
    """The model in use's AUC on the seconds the new model was judged on."""
    ok = ~np.isnan(held_p)
    return auc(y[ok], current[ok])
