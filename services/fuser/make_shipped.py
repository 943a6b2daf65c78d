"""Make the global model that ships: `python -m services.fuser.make_shipped`.

It is learned the way `clip-live retrain --from-chat` learns, on generated training streams,
not real ones (see `training_streams`): calm seconds with planted excited moments (voice,
motion, face and words together) that chat bursts 20-30 s later, and decoys chat ignores (a
shaking camera, a silent smile, loud game noise). It is then scored, beside the hand-set prior,
on fresh generated streams it never saw. Weights and numbers go to `shipped/model.json`.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from services.fuser import training_streams
from services.fuser.model import SHIPPED, LoadedModel, prior_in_memory
from services.fuser.retrain_chat import ChatRetrainResult, build_table, stream_features
from services.fuser.training import auc, train
from shared.settings import Settings

SEED = 17
SESSIONS = 4
MINUTES = 25
TEST_SESSIONS = 2


def build(folder: Path, settings: Settings | None = None) -> dict[str, Any]:
    """Generate the streams in `folder`, learn, score; return what `model.json` holds."""
    started = time.monotonic()
    settings = settings or Settings(data_dir=folder)
    mix = training_streams.SHIPPED_MIX
    training_streams.write_history(folder, "training", SESSIONS, MINUTES, mix, SEED)
    planted = training_streams.write_history(folder, "fresh", TEST_SESSIONS, MINUTES, mix,
                                             SEED + 1)
    seen = ChatRetrainResult("global", "")
    table = build_table(folder, ["training"], settings, True, seen)
    trained = train(table, stream_features(), threshold=settings.fuser_threshold)
    fresh_counts = ChatRetrainResult("global", "")
    fresh = build_table(folder, ["fresh"], settings, True, fresh_counts)
    learned = LoadedModel("shipped", trained.model, {"features": trained.columns})
    prior = prior_in_memory()
    x, truth, columns = training_streams.truth(folder, "fresh", planted)
    weights = dict(zip(trained.columns, trained.model.coef_[0].round(5).tolist(), strict=True))
    mixture = ", ".join(f"{count} {p.name}" for p, count in mix)
    return {
        "kind": "logistic regression learned from chat on generated training streams",
        "trained": True,
        "trained_on": "generated training streams, not real ones",
        "note": "NOT TRAINED ON REAL STREAMS. Learned, as `clip-live retrain --from-chat` "
                "learns, from made-up streams: calm seconds with planted excited moments "
                "(voice, motion, face and words together) that a chat burst follows 20-30 s "
                "later, and decoys chat ignores. Run `clip-live retrain --from-chat` to learn "
                "from your own channels.",
        "rows": seen.labelled, "positives": seen.positives, "context": trained.context,
        "calibration": {"method": "Platt scaling on held-out time blocks, folded into the "
                                  "weights", **trained.calibration},
        "metrics": {
            "auc_heldout_new": trained.auc, "auc_heldout_plain": trained.auc_plain,
            "auc_heldout_context": trained.auc_context,
            "fresh_streams_auc_learned": auc(fresh.y, learned.score_table(fresh.x,
                                                                          fresh.columns)),
            "fresh_streams_auc_hand_set_prior": auc(fresh.y, prior.score_table(
                fresh.x, fresh.columns)),
            "fresh_streams_labelled_seconds": fresh_counts.labelled,
            "fresh_streams_truth_auc_learned": auc(truth, learned.score_table(x, columns)),
            "fresh_streams_truth_auc_hand_set_prior": auc(truth, prior.score_table(x, columns)),
            "fresh_streams_clips_learned": _tally(learned, folder, planted),
            "fresh_streams_clips_hand_set_prior": _tally(prior, folder, planted),
        },
        "generator": {"module": "services.fuser.training_streams", "seed": SEED,
                      "sessions": SESSIONS, "minutes": MINUTES,
                      "moments_per_session": mixture,
                      "build_seconds": round(time.monotonic() - started, 2)},
        "weights": weights,
        "bias": round(float(trained.model.intercept_[0]), 5),
    }


def _tally(model: LoadedModel, folder: Path,
           planted: dict[str, list[training_streams.Planted]]) -> dict[str, str]:
    """How many planted moments of each pattern the fuser's model rule clips, over the fresh
    streams, with chat off."""
    clips: dict[str, list[str]] = {}
    for session, moments in planted.items():
        found = training_streams.fires(model, folder, "fresh", session)
        for name, count in training_streams.tally(moments, found).items():
            clips.setdefault(name, []).append(count)
    return {name: _add(counts) for name, counts in clips.items()}


def _add(counts: list[str]) -> str:
    """"3/4" + "2/4" -> "5/8"; "1" + "2" -> "3"."""
    parts = [c.split("/") for c in counts]
    top = sum(int(p[0]) for p in parts)
    return f"{top}/{sum(int(p[1]) for p in parts)}" if len(parts[0]) == 2 else str(top)


def main() -> int:
    with tempfile.TemporaryDirectory() as folder:
        made = build(Path(folder))
    SHIPPED.parent.mkdir(parents=True, exist_ok=True)
    SHIPPED.write_text(json.dumps(made, indent=2) + "\n")
    metrics = made["metrics"]
    print(f"wrote {SHIPPED}: held-out AUC {metrics['auc_heldout_new']:.3f}; on fresh streams "
          f"learned {metrics['fresh_streams_auc_learned']:.3f} vs hand-set prior "
          f"{metrics['fresh_streams_auc_hand_set_prior']:.3f} (chat's labels); against the "
          f"planted truth {metrics['fresh_streams_truth_auc_learned']:.3f} vs "
          f"{metrics['fresh_streams_truth_auc_hand_set_prior']:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
