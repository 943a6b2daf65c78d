"""Robust z-scores on plain numbers."""

from __future__ import annotations

import numpy as np

from services.fuser.zscore import RobustZ


def test_warm_up_scores_zero_then_an_outlier_stands_out() -> None:
    z = RobustZ(warmup=20)
    rng = np.random.default_rng(0)
    scores = [z.score(v) for v in rng.normal(-40, 1.0, 30)]
    assert scores[:20] == [0.0] * 20
    assert all(abs(s or 0) < 4 for s in scores[20:])
    assert (z.score(-20.0) or 0) > 8 - 1e-9  # far out, and capped at the limit


def test_missing_stays_missing_and_is_not_added() -> None:
    z = RobustZ(warmup=1)
    z.score(1.0)
    assert z.score(None) is None
    assert len(z.values) == 1


def test_a_two_sided_stream_does_not_make_every_loud_second_news() -> None:
    # Half quiet room (-45 dB), half calm talk (-25 dB): talk is normal here; a roar is not.
    rng = np.random.default_rng(1)
    z = RobustZ(warmup=20, floor=1.5, loud_side=True)
    for i in range(120):
        z.score((-45.0 if i % 5 < 3 else -25.0) + rng.normal(0, 1.0))
    assert z.peek(-25.0) < 1.0
    assert z.peek(-12.0) > 5.0
    plain = RobustZ(warmup=20)  # measured from the median, talk itself would look loud
    plain.values.extend(z.values)
    assert plain.peek(-25.0) > 5.0
