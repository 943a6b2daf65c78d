"""Synthetic signal messages for fuser tests: a calm stream with an optional excited moment."""

from __future__ import annotations

import numpy as np

from services.fuser.buckets import Signal
from shared.contracts import AudioFeatures, ChatSecond, FaceSecond, Motion, Semantic

CHANNEL = "demo"
SESSION = "s1"
WALL0 = 1_700_000_000.0


def stream(seconds: int = 120, moment: int | None = 60, chat: bool = True, face: bool = True,
           seed: int = 1) -> list[Signal]:
    """Messages in publish order. With `moment`, seconds moment..moment+4 are excited."""
    rng = np.random.default_rng(seed)
    out: list[Signal] = []
    for t in range(seconds):
        hot = moment is not None and moment <= t < moment + 4
        for half in (0.0, 0.5):
            out.append(AudioFeatures(
                channel=CHANNEL, session=SESSION, t=t + half, dur=0.5, wall=WALL0 + t + half,
                loud_db=(-12.0 if hot else -40.0) + rng.normal(0, 1.5),
                peak_db=-3.0, f0_mean=180.0, f0_var=(9.0 if hot else 1.0) + abs(rng.normal(0, 0.3)),
                voiced_ratio=0.6, centroid=1500.0, onset_mean=1.0, onset_max=2.0,
                clipped_ratio=0.0))
        out.append(Motion(channel=CHANNEL, session=SESSION, t=t, dur=1.0, wall=WALL0 + t,
                          motion_avg=(9.0 if hot else 1.0) + abs(rng.normal(0, 0.2)),
                          motion_max=10.0, scene_cut=False, frames=30))
        if face:
            out.append(FaceSecond(channel=CHANNEL, session=SESSION, t=t, dur=1.0,
                                  wall=WALL0 + t, present=True,
                                  excitement=0.8 if hot else -0.2,
                                  dominant="surprise" if hot else "neutral"))
        if chat:
            late = moment is not None and moment + 3 <= t < moment + 5
            out.append(ChatSecond(channel=CHANNEL, session=SESSION, t=t, dur=1.0, wall=WALL0 + t,
                                  messages=15 if late else 1, chatters=12 if late else 1,
                                  rate_z=9.0 if late else 0.0, baseline=0.5,
                                  hype_density=0.8 if late else 0.0, spike=late,
                                  strength=9.0 if late else 0.0))
        if hot and t == moment:
            out.append(Semantic(channel=CHANNEL, session=SESSION, t=t, dur=2.0, wall=WALL0 + t,
                                text="oh my god that was insane, what a clutch", sentiment=0.6,
                                hype_words=["oh my god", "insane", "clutch"], excited_sim=0.7,
                                excited_margin=0.3))
        elif t % 15 == 7:
            out.append(Semantic(channel=CHANNEL, session=SESSION, t=t, dur=2.0, wall=WALL0 + t,
                                text="let me check the settings menu", sentiment=0.0,
                                hype_words=[], excited_sim=0.1, excited_margin=-0.1))
    return out
