"""Learning from chat: how long `clip-live retrain --channel NAME --from-chat` takes on an
8-hour channel history (generated: four 2-hour sessions with features.csv and chat logs), how
big the model it installs is, and how its held-out AUC compares with the hand-set prior and the
shipped model on those seconds. Also a channel whose chat follows a pattern the shipped model
does not look for (loud game explosions, with laughs chat ignores)."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from services.fuser import training_streams
from services.fuser.model import ModelStore, prior_in_memory
from services.fuser.retrain_chat import (
    ChatRetrainResult,
    build_table,
    learn_channel,
    stream_features,
)
from services.fuser.training import auc, train
from services.fuser.training_streams import EXCITED, Pattern
from shared.settings import Settings

HOURS_MIX = ((EXCITED, 48), (training_streams.CAMERA_SHAKE, 19), (training_streams.SMILE, 14),
             (training_streams.GAME_NOISE, 14))
"""What one 2-hour session holds: the shipped model's mix, at the same density."""
EXPLOSION = Pattern("explosion", {"loud_z": (3.0, 6.0), "motion_z": (3.0, 6.0)},
                    chat_reacts=True)
LAUGH = Pattern("laugh", {"face_excitement": (0.6, 1.0), "pitch_var_z": (2.0, 4.0),
                          "voice_arousal": (1.5, 3.0)})


def eight_hours(folder: Path) -> dict[str, float]:
    training_streams.write_history(folder, "long", 4, 120, HOURS_MIX, seed=21)
    settings = Settings(data_dir=folder)
    ModelStore(folder / "models").load_current()  # the shipped model, as the fuser installs it
    start = time.perf_counter()
    result = learn_channel(folder, "long", settings)
    took = time.perf_counter() - start
    counts = ChatRetrainResult("channel", "long")
    start = time.perf_counter()
    table = build_table(folder, ["long"], settings, True, counts)
    read = time.perf_counter() - start
    start = time.perf_counter()
    train(table, stream_features())
    fit = time.perf_counter() - start
    return {
        "retrain_8h_channel_s": took,
        "retrain_8h_read_and_label_s": read,
        "retrain_8h_fit_and_score_s": fit,
        "retrain_8h_installed": 1.0 if result.installed else 0.0,
        "retrain_8h_labelled_seconds": float(result.labelled),
        "retrain_8h_chat_spikes": float(result.spikes),
        "retrain_8h_auc_learned": result.auc_new or -1.0,
        "retrain_8h_auc_without_context": result.auc_plain or -1.0,
        "retrain_8h_auc_shipped": result.auc_current or -1.0,
        "retrain_8h_auc_hand_set_prior": auc(table.y, prior_in_memory().score_table(
            table.x, table.columns)) or -1.0,
    }


def explosions(folder: Path) -> dict[str, float]:
    """A channel whose chat reacts to game explosions and ignores the streamer's laughs."""
    mix = ((EXPLOSION, 12), (LAUGH, 12))
    training_streams.write_stream(folder, "game", "s01", 30 * 60, mix, seed=3)
    settings = Settings(data_dir=folder)
    result = learn_channel(folder, "game", settings)
    fresh = training_streams.write_stream(folder, "game", "s02", 30 * 60, mix, seed=103,
                                          chat=False)
    own = ModelStore.for_channel(folder, "game").load_current()
    shipped = ModelStore(folder / "models").load_current()
    mine = training_streams.tally(fresh, training_streams.fires(own, folder, "game", "s02"))
    theirs = training_streams.tally(fresh,
                                    training_streams.fires(shipped, folder, "game", "s02"))
    folder_of = ModelStore.for_channel(folder, "game").root / str(result.installed)
    return {
        "model_pkl_bytes": float((folder_of / "model.pkl").stat().st_size),
        "model_json_bytes": float((folder_of / "model.json").stat().st_size),
        "explosion_channel_auc_learned": result.auc_new or -1.0,
        "explosion_channel_auc_shipped": result.auc_current or -1.0,
        "explosion_channel_learned_caught_explosions": float(mine["explosion"].split("/")[0]),
        "explosion_channel_learned_caught_laughs": float(mine["laugh"].split("/")[0]),
        "explosion_channel_shipped_caught_explosions": float(theirs["explosion"].split("/")[0]),
        "explosion_channel_shipped_caught_laughs": float(theirs["laugh"].split("/")[0]),
        "explosion_channel_moments_each": 12.0,
    }


def run() -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        numbers = eight_hours(Path(tmp) / "long")
        numbers.update(explosions(Path(tmp) / "game"))
    return numbers


if __name__ == "__main__":
    for key, value in run().items():
        print(f"{key:<48} {value:,.3f}")
