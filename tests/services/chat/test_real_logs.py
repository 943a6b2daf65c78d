"""The detector on the team's two real Twitch VOD chat logs (busy channels, mostly Chinese chat
and "7777" walls), with the default settings: a few spikes an hour, each a sustained reaction,
and the strongest ones big walls of reactions. Skipped, saying why, when the logs are absent."""

from __future__ import annotations

import itertools

import pytest

from services.chat.detector import DetectorConfig
from services.chat.offline import detect, read_chat_log, strongest
from services.chat.spikes import Spike
from shared.settings import Settings
from tests.support import dev_data

LOGS = ["VoD_112251297.txt", "VoD_113759702.txt"]


def spikes_of(name: str) -> tuple[list[Spike], float]:
    """The spikes in a log, and how many hours it lasts."""
    chat = read_chat_log(dev_data("chat", name))
    _, spikes = detect(chat.entries, DetectorConfig.from_settings(Settings()))
    hours = (chat.entries[-1].ts - chat.entries[0].ts) / 3600
    return spikes, hours


@pytest.mark.parametrize("name", LOGS)
def test_a_few_sustained_spikes_an_hour(name: str) -> None:
    spikes, hours = spikes_of(name)
    assert hours > 4
    assert 2 <= len(spikes) / hours <= 6, f"{len(spikes)} spikes in {hours:.1f} h"
    for spike in spikes:
        assert spike.end - spike.start + 1 >= Settings().chat_spike_min_s
        assert spike.messages >= 40 and spike.chatters >= 30  # broad, not a handful
        assert spike.features["lift"] >= 2  # well above the channel's normal rate
    starts = [s.start for s in spikes]
    assert starts == sorted(starts) and all(b - a > 30 for a, b in itertools.pairwise(starts))


@pytest.mark.parametrize("name", LOGS)
def test_the_strongest_are_big_reactions(name: str) -> None:
    spikes, _ = spikes_of(name)
    top = strongest(spikes, 5)
    for spike in top:
        assert spike.messages >= 80
        # Chat that reacts: most messages repeat others, laugh, cheer or are emotes.
        shares = spike.features
        assert max(shares["repeats"], shares["laugh_hype"], shares["emotes"]) >= 0.5
    weakest = min(spikes, key=lambda s: s.strength)
    assert top[0].strength > 1.5 * weakest.strength
