"""Chat's stream time stays steady while ingest's state wobbles, and follows real jumps."""

from __future__ import annotations

import numpy as np

from services.chat.timeline import ChatTimeline
from shared.contracts import ChannelState


def state(t: float, wall: float, session: str = "s1") -> ChannelState:
    return ChannelState(channel="c", session=session, state="live", url="u", t=t, wall=wall)


def test_small_wobbles_never_make_a_chat_second_step_back() -> None:
    timeline = ChatTimeline()
    rng = np.random.default_rng(3)
    start = 1_700_000_000.0
    stamped = []
    for i in range(300):
        # Ingest's state after each segment: up to 0.4 s early or late.
        wall = start + i
        timeline.follow(state(t=i + rng.uniform(-0.4, 0.4), wall=wall))
        stamped.append(timeline.t_of(wall + 0.5))
    steps = np.diff(stamped)
    assert np.allclose(steps, 1.0)
    assert len({int(t) for t in stamped}) == len(stamped)  # one chat second per stream second


def test_a_real_jump_or_a_new_session_is_followed() -> None:
    timeline = ChatTimeline()
    assert timeline.follow(state(t=10.0, wall=1000.0))
    assert timeline.t_of(1005.0) == 15.0
    assert not timeline.follow(state(t=20.3, wall=1010.0))  # 0.3 s off: kept
    assert timeline.follow(state(t=40.0, wall=1020.0))  # ingest counted a 10 s gap
    assert timeline.t_of(1021.0) == 41.0
    assert timeline.follow(state(t=0.0, wall=1030.0, session="s2"))
    assert timeline.t_of(1031.0) == 1.0
