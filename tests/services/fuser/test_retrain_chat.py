"""Learning a channel's excitement from its own chat, through `clip-live retrain --from-chat`:
the channel model fires on the pattern its chat follows (with chat off) and not on a decoy chat
ignored; a worse model is refused; channel and global models live side by side and roll back;
too little data changes nothing."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression

from services.fuser import chat_history, model_files, training_streams
from services.fuser.model import ModelStore
from services.fuser.retrain_chat import ChatRetrainResult, build_table, learn_channel
from services.fuser.signals import feature_names
from services.fuser.training_streams import Pattern, caught, fires, tally
from shared.settings import Settings
from tests.support import PYTHON, REPO, child_env

CLI = [PYTHON, str(REPO / "clip_live.py")]
EXPLOSION = Pattern("explosion", {"loud_z": (3.0, 6.0), "motion_z": (3.0, 6.0)},
                    chat_reacts=True)
"""This channel's highlights: the game blows up, loud and busy, while the streamer stays calm.
The shipped model, which looks for an excited streamer, barely reacts to it."""
LAUGH = Pattern("laugh", {"face_excitement": (0.6, 1.0), "pitch_var_z": (2.0, 4.0),
                          "voice_arousal": (1.5, 3.0)})
"""A decoy: the streamer laughs at something off stream; this channel's chat does not care.
The shipped model likes it."""
MIX = ((EXPLOSION, 12), (LAUGH, 12))


def clip_live(data_dir: Path, *args: str) -> str:
    done = subprocess.run([*CLI, *args], env=child_env(CLIP_LIVE_DATA_DIR=str(data_dir)),
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_the_channel_model_fires_on_what_its_chat_follows_not_on_a_decoy(tmp_path: Path) -> None:
    planted = training_streams.write_stream(tmp_path, "alice", "s01", 30 * 60, MIX, seed=3)
    # The generated chat bursts after every laugh, never after an explosion.
    session = chat_history.read_session(tmp_path, "alice", "s01", feature_names(),
                                        _detector())
    assert session.spikes is not None
    explosions = [p for p in planted if p.pattern == "explosion"]
    assert len(session.spikes) == len(explosions) == 12
    for spike in session.spikes:
        before = [p for p in planted if 20 <= spike.start - p.t <= 31]
        assert [p.pattern for p in before] == ["explosion"]

    out = clip_live(tmp_path, "retrain", "--channel", "alice", "--from-chat")
    assert "channel alice: installed v0001: beats global model v0001" in out, out
    aucs = re.search(r"held-out AUC new=([0-9.]+) in use \(global v0001\)=([0-9.]+)", out)
    assert aucs, out
    new, in_use = float(aucs[1]), float(aucs[2])
    assert new > in_use and new > 0.75, out
    model = ModelStore.for_channel(tmp_path, "alice").load_current()
    assert model.scope == "channel" and model.tag.scope == "channel"
    assert "chat of channel alice" in model.meta["trained_on"]
    assert round(model.meta["metrics"]["auc_heldout_new"], 3) == new

    # A new stream of the same channel, chat switched off.
    fresh = training_streams.write_stream(tmp_path, "alice", "s02", 20 * 60, MIX, seed=11,
                                          chat=False)
    assert not (tmp_path / "chat" / "alice" / "s02.log").exists()
    clips = fires(model, tmp_path, "alice", "s02")
    counts = tally(fresh, clips)
    # Over ten generated channels it caught 94 % of the explosions: allow two misses of 12.
    assert int(counts["explosion"].split("/")[0]) >= 10, counts
    assert counts["laugh"] == "0/12" and counts["elsewhere"] == "0", counts
    # The global model it replaces for this channel clips the laughs and misses explosions.
    shipped = fires(ModelStore(tmp_path / "models").load_current(), tmp_path, "alice", "s02")
    assert not any(caught(p, shipped) for p in fresh if p.pattern == "explosion"), shipped


def test_a_model_learned_from_shuffled_labels_is_refused(tmp_path: Path) -> None:
    training_streams.write_stream(tmp_path, "alice", "s01", 30 * 60, MIX, seed=5)
    settings = Settings(data_dir=tmp_path)

    def shuffled(x: np.ndarray, y: np.ndarray, w: np.ndarray) -> LogisticRegression:
        rng = np.random.default_rng(5)
        return LogisticRegression(max_iter=500).fit(x, rng.permutation(y))

    refused = learn_channel(tmp_path, "alice", settings, learner=shuffled)
    assert refused.installed is None and "not better than global model" in refused.reason
    assert refused.auc_new is not None and refused.auc_new < 0.6
    assert ModelStore.for_channel(tmp_path, "alice").current_version() is None
    assert learn_channel(tmp_path, "alice", settings).installed == "v0001"
    again = learn_channel(tmp_path, "alice", settings, learner=shuffled)
    assert again.installed is None and "not better than channel model v0001" in again.reason
    assert ModelStore.for_channel(tmp_path, "alice").current_version() == "v0001"


def test_channel_and_global_models_coexist_and_roll_back(tmp_path: Path) -> None:
    training_streams.write_stream(tmp_path, "alice", "s01", 30 * 60, MIX, seed=7)
    training_streams.write_stream(tmp_path, "bob", "s01", 30 * 60, MIX, seed=8)
    out = clip_live(tmp_path, "retrain", "--from-chat")
    assert "channel alice: installed v0001" in out and "channel bob: installed v0001" in out
    assert "the global model: installed v0002" in out, out  # learned from both channels
    alice = ModelStore.for_channel(tmp_path, "alice")
    assert alice.load_current().meta["channel"] == "alice"
    assert ModelStore(tmp_path / "models").load_current().meta["scope"] == "global"
    assert model_files.model_in_use(tmp_path, "alice")["scope"] == "channel"  # type: ignore[index]

    listed = clip_live(tmp_path, "model")
    assert "global model" in listed and "channel alice: its own model v0001 in use" in listed
    assert "* v0002" in listed and "trained on chat of 2 channel(s)" in listed

    assert "judged by the global model" in clip_live(tmp_path, "model", "--channel", "alice",
                                                      "global")
    assert alice.current_version() is None
    summary = model_files.model_in_use(tmp_path, "alice")
    assert summary is not None and summary["scope"] == "global" and summary["version"] == "v0002"
    clip_live(tmp_path, "model", "--channel", "alice", "v0001")
    assert alice.current_version() == "v0001"
    clip_live(tmp_path, "model", "v0001")  # the global model goes back to the shipped one
    assert ModelStore(tmp_path / "models").load_current().meta["trained_on"].startswith(
        "generated training streams")


def test_a_two_minute_channel_is_not_enough_and_changes_nothing(tmp_path: Path) -> None:
    training_streams.write_stream(tmp_path, "tiny", "s01", 120, [], seed=9)
    ModelStore(tmp_path / "models").load_current()
    before = sorted(str(p.relative_to(tmp_path)) for p in (tmp_path / "models").rglob("*"))
    out = clip_live(tmp_path, "retrain", "--channel", "tiny", "--from-chat")
    assert "channel tiny: no change: not enough labelled seconds" in out, out
    assert "needs 600" in out and "global model v0001 stays in use" in out
    after = sorted(str(p.relative_to(tmp_path)) for p in (tmp_path / "models").rglob("*"))
    assert after == before


def test_chat_is_put_on_the_stream_clock_through_the_wall_column(tmp_path: Path) -> None:
    folder = tmp_path / "events" / "carol" / "s01"
    folder.mkdir(parents=True)
    # The stream went down for 100 s at stream second 300: wall time jumps, stream time not.
    walls = {t: 1_700_000_000.0 + t + (100.0 if t >= 300 else 0.0) for t in range(600)}
    (folder / "features.csv").write_text(
        "time,wall,loud_z\n" + "".join(f"{t},{w:.3f},0\n" for t, w in walls.items()))
    chat = tmp_path / "chat" / "carol" / "s01.log"
    chat.parent.mkdir(parents=True)
    lines = [f"{1_700_000_000.0 + 2.0 * i:.3f} v{i % 30}: hello there" for i in range(350)]
    burst = walls[450] + 20.0  # chat reacts to stream second 450
    lines += [f"{burst + 0.25 * i:.3f} fan{i}: KEKW" for i in range(50)]
    chat.write_text("\n".join(sorted(lines)) + "\n")
    session = chat_history.read_session(tmp_path, "carol", "s01", ["loud_z"], _detector())
    assert session.spikes is not None and len(session.spikes) == 1
    assert abs(session.spikes[0].moment - 450) <= 3  # on the stream clock, gap and all
    # A file from before the wall column: its chat cannot be placed, and it says so.
    (folder / "features.csv").write_text("time,loud_z\n" + "".join(f"{t},0\n"
                                                                  for t in range(600)))
    old = chat_history.read_session(tmp_path, "carol", "s01", ["loud_z"], _detector())
    assert old.spikes is None and "no wall column" in old.note


def _detector() -> chat_history.DetectorConfig:
    return chat_history.DetectorConfig.from_settings(Settings())


def test_a_dropped_clip_outranks_chat_in_the_channels_labels(tmp_path: Path) -> None:
    planted = training_streams.write_stream(tmp_path, "alice", "s01", 30 * 60, MIX, seed=3)
    first = next(p for p in planted if p.pattern == "explosion")
    drop = tmp_path / "drop" / "alice"
    drop.mkdir(parents=True)
    (drop / "clip_20261205T120000Z.mp4").write_bytes(b"")
    (drop / "clip_20261205T120000Z.json").write_text(
        f'{{"channel": "alice", "session": "s01", "t": {first.t + 2}}}')
    counts = ChatRetrainResult("channel", "alice")
    table = build_table(tmp_path, ["alice"], Settings(data_dir=tmp_path), True, counts)
    at = {int(t): int(y) for t, y in zip(table.t, table.y, strict=True)}
    assert counts.clips == 1 and counts.spikes == 12
    assert all(at[t] == 0 for t in range(first.t, first.t + 9))  # chat said 1; a person said 0
    assert at[first.t - 1] == 1  # chat's label where the clip does not reach
    result = learn_channel(tmp_path, "alice", Settings(data_dir=tmp_path))
    assert result.installed and "and 1 kept/dropped clip(s)" in ModelStore.for_channel(
        tmp_path, "alice").load_current().meta["trained_on"]


def test_the_nightly_retrain_learns_from_chat_when_there_is_chat(tmp_path: Path) -> None:
    from launcher.learning import retrain_all

    assert retrain_all(Settings(data_dir=tmp_path))[0].startswith("kept the current model")
    training_streams.write_stream(tmp_path, "alice", "s01", 30 * 60, MIX, seed=3)
    done = retrain_all(Settings(data_dir=tmp_path))
    assert done[0].startswith("channel alice: installed v0001")
    assert done[1].startswith("the global model: ")
