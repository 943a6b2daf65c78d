"""A signal is one unit: a toy signal added through its declaration alone reaches
features.csv, the model's inputs and a retrained model. Models keep weights by name, so a
model made before a feature was added still loads, and a model for features the fuser does
not make never stops the fuser."""

from __future__ import annotations

import asyncio
import csv
import json
import pickle
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from redis.asyncio import Redis

from services.fuser import service, signals
from services.fuser.events_log import session_dir
from services.fuser.model import ModelError, ModelStore, prior_model
from services.fuser.retrain import retrain
from services.fuser.signals import Feature, FuserSignal
from services.fuser.worker import WORKER
from services.fuser.zscore import RobustZ
from shared.bus import Bus
from shared.channels import save_state
from shared.contracts import ChannelState, Stamped
from shared.runtime import run_service
from shared.settings import Settings
from shared.streams import EVENTS, Topic
from tests.services.fuser.scenario import CHANNEL, SESSION, WALL0, stream
from tests.support import Records, wait_until


class GameNoise(Stamped):
    """The toy signal's message: one number per second."""

    level: float


GAME_NOISE = Topic("game-noise", GameNoise)
TOY = FuserSignal(
    name="game_noise", topic=GAME_NOISE, order=60,
    summarize=lambda found: {"game_level": found[0].level if found else None},
    features=(Feature("game_noise_z", "game_level", 0.0, lambda w: RobustZ(warmup=w)),),
)
LOUD_AT = [40, 100, 160, 220]
"""Seconds where the game is loud: the clips kept there teach the model to listen to it."""
CALM_AT = [70, 130, 190, 250]


@pytest.fixture
def toy() -> Iterator[FuserSignal]:
    signals.register(TOY)
    try:
        yield TOY
    finally:
        signals.unregister(TOY.name)


def game_noise(seconds: int) -> list[GameNoise]:
    """What the toy worker publishes: quiet, and loud around `LOUD_AT`."""
    rng = np.random.default_rng(3)
    return [GameNoise(channel=CHANNEL, session=SESSION, t=t, dur=1.0, wall=WALL0 + t,
                      level=(8.0 if any(0 <= t - s < 6 for s in LOUD_AT) else 1.0)
                      + abs(rng.normal(0, 0.2)))
            for t in range(seconds)]


@pytest.mark.timeout(120)
async def test_a_toy_signal_reaches_features_csv_the_model_and_a_retrain(
    toy: FuserSignal, settings: Settings, bus: Bus, redis_client: Redis
) -> None:
    assert "game_noise_z" in signals.feature_names()
    assert GAME_NOISE in signals.topics()
    seconds = 280
    await save_state(redis_client, ChannelState(channel=CHANNEL, session=SESSION, state="live",
                                                url="demo", wall=time.time()))
    fuser = asyncio.create_task(run_service(WORKER, service.main, settings))
    try:
        calm = stream(seconds=seconds, moment=None)
        noise = game_noise(seconds)
        for t in range(seconds):  # The toy worker and the others, second by second.
            batch = [m for m in calm if int(m.t) == t] + [noise[t]]
            for message in batch:
                await bus.publish(signals.by_model(type(message)).topic, message,
                                  channel=CHANNEL)

        async def rows_done() -> bool:
            return await redis_client.xlen(EVENTS.stream(CHANNEL)) >= seconds - 5

        await wait_until(rows_done, 60, "event rows for every second")
    finally:
        fuser.cancel()
        await asyncio.gather(fuser, return_exceptions=True)

    folder = session_dir(settings.data_dir, CHANNEL, SESSION)
    with (folder / "features.csv").open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert "game_noise_z" in rows[0]
    loud = [float(rows[t]["game_noise_z"]) for t in LOUD_AT]
    calm_z = [float(rows[t]["game_noise_z"]) for t in CALM_AT]
    assert min(loud) > 3 > max(calm_z)  # scored against the channel's normal

    store = ModelStore(settings.data_dir / "models")
    prior = store.load_current()
    assert "game_noise_z" in prior.names  # the prior was installed with the toy in place
    assert prior.inputs({"game_noise_z": 5.0})[prior.names.index("game_noise_z")] == 5.0

    for place, times in (("keep", LOUD_AT), ("drop", CALM_AT)):
        out = settings.data_dir / place / CHANNEL
        out.mkdir(parents=True, exist_ok=True)
        for i, t in enumerate(times):
            stem = f"clip_20261202T0{i}{int(place == 'drop')}000Z"
            (out / f"{stem}.mp4").write_bytes(b"")
            (out / f"{stem}.json").write_text(json.dumps(
                {"channel": CHANNEL, "session": SESSION, "t": t}))
    result = retrain(settings.data_dir)
    assert result.installed, result.reason
    trained = store.load_current()
    assert "game_noise_z" in trained.names
    weight = trained.estimator.coef_[0][trained.names.index("game_noise_z")]
    assert weight > 0.1  # it learned that this channel's game noise means a highlight
    assert trained.probability({"game_noise_z": 6.0}) > trained.probability({"game_noise_z": 0.0})


def test_the_shipped_prior_still_loads_after_a_feature_is_added(
    tmp_path: Path, toy: FuserSignal
) -> None:
    signals.unregister(toy.name)
    store = ModelStore(tmp_path / "models")
    old = store.load_current()  # installed before the toy signal existed
    signals.register(toy)
    again = store.load(old.version)
    assert again.unknown_to_it() == ["game_noise_z"]
    features = {name: 1.0 for name in signals.feature_names()}
    without = {k: v for k, v in features.items() if k != "game_noise_z"}
    assert again.probability(features) == again.probability(without)  # it counts as 0


def _install_by_hand(store: ModelStore, features: list[str]) -> None:
    """A model folder as another version of Clip Live might have left it."""
    folder = store.root / "v0009"
    folder.mkdir(parents=True)
    estimator = prior_model()
    estimator.coef_ = np.ones((1, len(features)))
    (folder / "model.pkl").write_bytes(pickle.dumps(estimator))
    (folder / "model.json").write_text(json.dumps({"version": "v0009", "features": features}))
    store.pointer.write_text("v0009\n")


def test_a_model_for_unknown_features_is_refused_when_installed(tmp_path: Path) -> None:
    store = ModelStore(tmp_path / "models")
    store.load_current()
    _install_by_hand(store, [*signals.feature_names(), "ghost_z"])
    with pytest.raises(ModelError, match="ghost_z"):
        store.load_current()
    with pytest.raises(ModelError, match="ghost_z"):
        store.use("v0009")


@pytest.mark.timeout(60)
async def test_a_fuser_with_a_model_for_other_features_keeps_scoring_and_logs_one_error(
    settings: Settings, bus: Bus, redis_client: Redis
) -> None:
    store = ModelStore(settings.data_dir / "models")
    _install_by_hand(store, ["loud_z", "ghost_z"])
    await save_state(redis_client, ChannelState(channel=CHANNEL, session=SESSION, state="live",
                                                url="demo", wall=time.time()))
    with Records("clip_live.fuser") as records:
        fuser = asyncio.create_task(run_service(WORKER, service.main, settings))
        try:
            for message in stream(seconds=12, moment=None):
                await bus.publish(signals.by_model(type(message)).topic, message,
                                  channel=CHANNEL)

            async def rows() -> bool:
                return await redis_client.xlen(EVENTS.stream(CHANNEL)) >= 6

            await wait_until(rows, 30, "event rows")
            await asyncio.sleep(service.MODEL_CHECK_S + 0.5)  # a model check goes by
            assert not fuser.done()
        finally:
            fuser.cancel()
            await asyncio.gather(fuser, return_exceptions=True)
    errors = records.messages("ERROR")
    assert len(errors) == 1 and "ghost_z" in errors[0], errors
    first = (await bus.read(EVENTS, channel=CHANNEL))[0].message
    assert 0 < first.excited_prob < 0.5  # scored by the prior, not stopped
