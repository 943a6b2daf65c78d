"""Which model judges which channel: the shipped global model, a channel's own, picked per
channel and reloaded live by the running fuser; every spike and clip job names its model;
features.csv keeps the wall clock that puts chat on the stream clock."""

from __future__ import annotations

import asyncio
import csv
import itertools
import json
import logging
import time
from pathlib import Path

import numpy as np
import pytest
from redis.asyncio import Redis

from services.fuser import make_shipped, service
from services.fuser.decider import Decider, FuserConfig
from services.fuser.events_log import append_rows, session_dir
from services.fuser.model import SHIPPED, LoadedModel, ModelStore, logistic, prior_model
from services.fuser.service import ModelWatch
from services.fuser.signals import feature_names
from services.fuser.worker import WORKER
from shared.bus import Bus
from shared.channels import save_state
from shared.contracts import ChannelState, EventRow
from shared.runtime import run_service
from shared.settings import Settings
from shared.streams import CLIP_REQUESTS, EVENTS, MOTION, SPIKES
from tests.services.fuser.scenario import stream
from tests.support import wait_until

LOG = logging.getLogger("test")


def eager(store: ModelStore, bias: float) -> str:
    """Install a model that scores every second the same (P ~ 1 for a large bias, ~0 for a
    small one)."""
    estimator = prior_model()
    estimator.coef_[:] = 0.0
    estimator.intercept_[:] = bias
    return store.install(estimator, {"kind": "test model", "trained": False,
                                     "trained_on": f"nothing (bias {bias})"})


def test_the_shipped_model_says_what_it_is_and_is_what_make_shipped_makes(
    tmp_path: Path
) -> None:
    model = ModelStore(tmp_path / "models").load_current()
    assert model.version == "v0001" and model.scope == "global"
    assert model.meta["trained_on"] == "generated training streams, not real ones"
    assert "NOT TRAINED ON REAL STREAMS" in model.meta["note"]
    assert set(feature_names()) <= set(model.names)  # every feature, unknown ones at 0
    weights = dict(zip(model.names, model.estimator.coef_[0].tolist(), strict=True))
    assert weights.get("chat_rate_z", 0.0) == 0.0  # chat teaches, it is not an input
    shipped = json.loads(SHIPPED.read_text())
    metrics = shipped["metrics"]
    assert metrics["fresh_streams_auc_learned"] > metrics["fresh_streams_auc_hand_set_prior"]
    made = make_shipped.build(tmp_path / "build")
    assert set(made["weights"]) == set(shipped["weights"]), \
        "run `python -m services.fuser.make_shipped`"
    for name, weight in made["weights"].items():
        assert abs(weight - shipped["weights"][name]) < 1e-3, \
            f"{name}: run `python -m services.fuser.make_shipped`"


def test_the_watch_picks_each_channels_model_and_reloads_it(tmp_path: Path) -> None:
    global_store = ModelStore(tmp_path / "models")
    watch = ModelWatch(global_store, LOG)
    watch.follow("alice")
    watch.follow("bob")
    assert watch.for_channel("alice").version == "v0001"  # the shipped global one
    alice = ModelStore.for_channel(tmp_path, "alice")
    eager(alice, 40.0)
    changed = watch.refresh()
    assert changed == ["channel alice now uses its own model v0001"]
    assert watch.for_channel("alice").scope == "channel"
    assert watch.for_channel("alice").probability({}) > 0.99
    assert watch.for_channel("bob") is watch.model  # no own model: the global one
    time.sleep(0.01)
    eager(alice, -40.0)
    assert watch.refresh() == ["channel alice now uses its own model v0002"]
    assert watch.for_channel("alice").probability({}) < 0.01
    alice.clear()
    assert watch.refresh() == ["channel alice now uses the global model v0001"]
    assert watch.for_channel("alice") is watch.model
    # A broken channel model: one error, and the last good one stays.
    alice.use("v0002")
    watch.refresh()
    (alice.root / "v0003").mkdir()
    (alice.root / "v0003" / "model.json").write_text("{}")
    alice.pointer.write_text("v0003\n")
    assert watch.refresh() == []
    assert watch.for_channel("alice").version == "v0002"


def test_a_spike_and_its_clip_job_name_the_model_that_judged_them(tmp_path: Path) -> None:
    store = ModelStore.for_channel(tmp_path, "demo")
    model = LoadedModel("v0007", logistic(np.zeros(len(feature_names())), 40.0),
                        {"features": list(feature_names()), "trained_on": "chat of demo"},
                        "channel")
    ids = (f"job{i}" for i in itertools.count())
    fuser = Decider("demo", FuserConfig(), model, lambda *_: next(ids), lambda: 0.0)
    jobs, spikes = [], []
    for message in stream(seconds=40, moment=None, chat=False):
        fuser.add(message)
        out = fuser.step()
        jobs += out.jobs
        spikes += out.spikes
    assert jobs and spikes
    assert spikes[0].model is not None and spikes[0].model.scope == "channel"
    assert spikes[0].model.version == "v0007" and spikes[0].model.trained_on == "chat of demo"
    assert jobs[0].why is not None and jobs[0].why.model == spikes[0].model
    assert store.current_version() is None


def test_features_csv_keeps_the_wall_clock_and_old_files_stay_as_they_were(
    tmp_path: Path
) -> None:
    row = EventRow(channel="demo", session="s1", t=3.0, dur=1.0, wall=1_700_000_003.25,
                   excited_prob=0.1, features={"loud_z": 1.5})
    append_rows(tmp_path, [row])
    folder = session_dir(tmp_path, "demo", "s1")
    with (folder / "features.csv").open(newline="") as handle:
        first = next(csv.DictReader(handle))
    assert list(first)[:3] == ["time", "wall", "loud_z"]
    assert first["time"] == "3" and first["wall"] == "1700000003.250" and first["loud_z"] == "1.5"
    old = session_dir(tmp_path, "demo", "s0")
    old.mkdir(parents=True)
    (old / "features.csv").write_text("time,loud_z\n0,1\n")
    append_rows(tmp_path, [row.model_copy(update={"session": "s0"})])
    assert (old / "features.csv").read_text() == "time,loud_z\n0,1\n3,1.5\n"


@pytest.mark.timeout(90)
async def test_the_running_fuser_judges_each_channel_by_its_own_model_and_reloads_it(
    settings: Settings, bus: Bus, redis_client: Redis
) -> None:
    for channel in ("alice", "bob"):
        await save_state(redis_client, ChannelState(channel=channel, session="s1",
                                                    state="live", url="demo", wall=time.time()))
    alice = ModelStore.for_channel(settings.data_dir, "alice")
    eager(alice, 40.0)
    task = asyncio.create_task(run_service(WORKER, service.main, settings))
    try:
        await _motion(bus, ("alice", "bob"), range(0, 12))

        async def rows(channel: str, count: int) -> bool:
            return await redis_client.xlen(EVENTS.stream(channel)) >= count

        await wait_until(lambda: rows("alice", 5))
        await wait_until(lambda: rows("bob", 5))
        alice_rows = [d.message for d in await bus.read(EVENTS, channel="alice")]
        bob_rows = [d.message for d in await bus.read(EVENTS, channel="bob")]
        assert all(r.excited_prob > 0.99 for r in alice_rows)  # its own eager model
        assert all(r.excited_prob < 0.5 for r in bob_rows)  # the shipped global model
        spike = (await bus.read(SPIKES, channel="alice"))[0].message
        assert spike.model is not None and spike.model.scope == "channel"
        assert spike.model.version == "v0001"
        job = (await bus.read(CLIP_REQUESTS))[0].message
        assert job.channel == "alice" and job.why is not None and job.why.model == spike.model

        eager(alice, -40.0)  # a new version for alice, while the fuser runs
        await asyncio.sleep(service.MODEL_CHECK_S + 1.0)
        await _motion(bus, ("alice",), range(12, 30))
        await wait_until(lambda: rows("alice", 20))
        later = [d.message for d in await bus.read(EVENTS, channel="alice", count=100)
                 if d.message.t >= 14]
        assert later and all(r.excited_prob < 0.01 for r in later)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def _motion(bus: Bus, channels: tuple[str, ...], seconds: range) -> None:
    """Motion seconds (the only signal sent) for these channels."""
    for message in stream(seconds=seconds.stop, moment=None, chat=False, face=False):
        if type(message).__name__ == "Motion" and int(message.t) in seconds:
            for channel in channels:
                await bus.publish(MOTION, message.model_copy(update={"channel": channel}),
                                  channel=channel)
