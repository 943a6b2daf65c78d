"""Chat as the teacher, on plain values: which seconds chat labels, how sure, what it leaves
out, and how kept and dropped clips outrank it. Also: the context a model reads live is the
context it was trained on."""

from __future__ import annotations

from collections import deque
from dataclasses import replace

import numpy as np

from services.fuser.model import CONTEXT_S, LoadedModel, context_names, logistic
from services.fuser.training import Table, all_columns, time_folds, with_context
from services.fuser.weak_labels import (
    ChatSecond,
    ChatSpike,
    Label,
    LabelRules,
    chat_labels,
    clip_marks,
    merge,
    ranked,
)

RULES = LabelRules(before_s=10, after_s=5, far_s=20, min_rank=0.2, quiet_z=1.0,
                   react_from_s=20, react_to_s=30)


def test_ranks_go_by_strength_and_ties_share_one() -> None:
    spikes = ranked([ChatSpike(0, 20, 30, s) for s in (5.0, 20.0, 10.0, 10.0, 40.0)])
    assert [s.rank for s in spikes] == [0.2, 0.8, 0.6, 0.6, 1.0]


def test_seconds_near_a_strong_spike_are_positive_far_ones_negative_the_middle_unsure() -> None:
    strong, weak = ranked([ChatSpike(300, 320, 330, 30.0), ChatSpike(800, 820, 830, 5.0)])
    assert (strong.rank, weak.rank) == (1.0, 0.5)
    labels = chat_labels(range(1200), [strong, weak], replace(RULES, min_rank=0.5))
    assert all(labels[t] == Label(1, 1.0, "chat") for t in range(290, 306))
    assert 289 not in labels and 306 not in labels  # unsure: close to the spike's seconds
    assert labels[269] == Label(0, 1.0, "chat") and labels[326] == Label(0, 1.0, "chat")
    # The weakest spike teaches nothing: its seconds are unsure, not exciting...
    assert not any(t in labels for t in range(770, 826))
    # ...and not negative either.
    assert labels[769].y == 0 and labels[826].y == 0


def test_a_weaker_spike_weighs_less() -> None:
    spikes = ranked([ChatSpike(m, m + 20, m + 30, s)
                     for m, s in ((200, 10.0), (500, 20.0), (800, 40.0), (1100, 30.0))])
    labels = chat_labels(range(1300), spikes, RULES)
    assert labels[200].weight == 0.25 or 200 not in labels  # the weakest: left out (0.25 > 0.2)
    assert labels[500].weight == 0.5 and labels[800].weight == 1.0
    assert labels[1100].weight == 0.75


def test_loud_chat_or_a_raid_keeps_a_far_second_from_being_negative() -> None:
    chat = {t: ChatSecond(0.0) for t in range(0, 1200)}
    for t in range(620, 640):
        chat[t] = ChatSecond(4.0)  # chat ran hot, but no spike came of it
    for t in range(900, 905):
        chat[t] = ChatSecond(0.0, suppressed=True)  # a raid
    labels = chat_labels(range(1200), [], RULES, chat)
    assert labels[580].y == 0  # its chat (600-610) was calm
    assert not any(t in labels for t in range(590, 620))  # chat reacted to these
    assert not any(t in labels for t in range(870, 885))  # the raid's reaction window
    assert 1190 not in labels  # no chat known 20-30 s after it: unsure


def test_kept_and_dropped_clips_outrank_chat() -> None:
    spikes = ranked([ChatSpike(300, 320, 330, 30.0)])
    chat = chat_labels(range(600), spikes, RULES)
    marks = clip_marks(kept=[100.0], dropped=[300.0])
    labels = merge(range(600), chat, marks)
    assert labels[300] == Label(0, 1.0, "clip")  # chat said exciting; a person said no
    assert labels[100] == Label(1, 1.0, "clip")  # chat said nothing; a person kept it
    assert labels[290] == Label(1, 1.0, "chat")  # before the dropped clip's seconds
    # A session without chat but with judged clips: its other seconds are not exciting.
    no_chat = merge(range(600), None, marks)
    assert no_chat[500] == Label(0, 1.0, "clip") and no_chat[100].y == 1
    assert merge(range(600), None, {}) == {}


def test_the_context_a_model_reads_live_is_the_context_it_was_trained_on() -> None:
    rng = np.random.default_rng(4)
    names = ["loud_z", "motion_z"]
    times = np.array([t for t in range(60) if t not in (20, 21, 40)])  # seconds missing
    x = rng.normal(0, 1, (len(times), 2))
    table = with_context(x, times)
    columns = all_columns(names)
    assert columns == [*names, *context_names(names)]
    model = LoadedModel("t", logistic(rng.normal(0, 1, len(columns)), -1.0),
                        {"features": columns})
    recent: deque[dict[str, float | None]] = deque(maxlen=CONTEXT_S)
    by_time = {int(t): dict(zip(names, row.tolist(), strict=True))
               for t, row in zip(times, x, strict=True)}
    for i, t in enumerate(times.tolist()):
        # Live, the fuser hands in the seconds it closed before; a missing one is all None.
        recent = deque([by_time.get(s, dict.fromkeys(names)) for s in range(t - CONTEXT_S, t)
                        if s >= times[0]], maxlen=CONTEXT_S)
        live = model.inputs(by_time[t], recent)
        assert np.allclose(live, table[i], atol=1e-9), t
    expected = float(model.score_table(table, columns)[7])
    assert abs(model.probability(by_time[int(times[7])], [by_time[s] for s in (4, 5, 6)])
               - expected) < 1e-9


def test_held_out_stretches_keep_their_neighbours_out_of_training() -> None:
    t = np.arange(1000)
    table = Table(np.zeros((1000, 1)), np.zeros(1000, dtype=int), np.ones(1000),
                  np.zeros(1000, dtype=int), t, ["x"])
    folds = time_folds(table, folds=5, purge_s=30)
    assert len(folds) == 5
    for train, held in folds:
        lo, hi = t[held].min(), t[held].max()
        assert hi - lo == 199
        assert not (train & (t >= lo - 30) & (t <= hi + 30)).any()
        assert train.sum() == 1000 - 200 - (30 if lo == 0 or hi == 999 else 60)
