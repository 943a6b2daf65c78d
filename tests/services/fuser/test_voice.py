"""The voice through the live path, with known answers: made-up speech (numpy voices with
pitch contours) as 0.5 s PCM chunks, measured by audio_features' own message code, summed up
by the fuser's audio signal and scored by one channel's normals, as the fuser does."""

from __future__ import annotations

import numpy as np
import pytest

from launcher.eval.voice import chunk_messages, seconds_of
from services.fuser.features import ChannelNormals, Summary, cast_votes
from services.fuser.rules import VoteRules
from services.fuser.service import config_from
from services.fuser.signals import Values, audio
from shared.settings import Settings
from tests.services.audio_features.voices import CALM, SHOUT, SR, pcm, speak

CALM_S = 50
SHOUT_S = 3


def channel(samples: np.ndarray, rules: VoteRules | None = None
            ) -> tuple[list[Values], list[Values], list[bool]]:
    """Run a recording through the live path as one channel: each second's raw numbers, its
    features, and its voice vote."""
    rules = rules or VoteRules()
    normals = ChannelNormals(warmup=20)
    raws = seconds_of(chunk_messages(pcm(samples)))
    features = [normals.features(raw) for raw in raws]
    votes = [cast_votes(Summary({"audio": r}, ()), f, rules)["voice"]
             for r, f in zip(raws, features, strict=True)]
    return raws, features, votes


@pytest.fixture(scope="module")
def calm_then_shout() -> np.ndarray:
    return np.concatenate([speak(CALM, CALM_S, seed=1), speak(SHOUT, SHOUT_S, seed=2)])


def test_a_second_of_silence_has_no_pitch_and_stays_out_of_the_history() -> None:
    """30 s of silence, then calm talk. Silence gives no pitch (None, not 0.0), so the pitch
    history holds only talk, and calm talk scores as normal, not at the z cap."""
    silence = np.zeros(30 * SR)
    raws, features, _ = channel(np.concatenate([silence, speak(CALM, 40, seed=3)]))
    quiet, talk = raws[:30], raws[30:]
    assert all(r["pitch_var"] is None and r["pitch_st"] is None and r["speech_db"] is None
               for r in quiet)
    assert all(f["pitch_var_z"] is None and f["voice_arousal"] is None for f in features[:30])
    assert all(r["loud_db"] is not None for r in quiet)  # the second is there, just no voice
    assert all(r["pitch_var"] is not None for r in talk)
    scorer = ChannelNormals(warmup=20)
    for raw in raws:
        scorer.features(raw)
    assert len(scorer.scorers["pitch_var_z"].values) == len(talk)  # no silent second in it
    scored = [f["pitch_var_z"] for f in features[30 + 20:]]  # after the warm-up
    assert scored and all(z is not None and abs(z) < 4 for z in scored)
    assert float(np.median(np.abs([z for z in scored if z is not None]))) < 1.5


def test_calm_talk_then_a_shout_scores_high_arousal_and_votes(
    calm_then_shout: np.ndarray
) -> None:
    rules = VoteRules()
    _, features, votes = channel(calm_then_shout, rules)
    calm = [f["voice_arousal"] for f in features[20:CALM_S]]
    shout = [f["voice_arousal"] for f in features[CALM_S:]]
    assert all(a is not None and abs(a) < 1.0 for a in calm)
    assert not any(votes[:CALM_S])
    assert all(a is not None and a >= 3.0 for a in shout)
    assert all(votes[CALM_S:])
    # Every cue agrees, not just loudness.
    for f in features[CALM_S:]:
        assert all((f[name] or 0) >= 2.0 for name in audio.AROUSAL_PARTS), f


def test_the_same_shout_recorded_20_db_quieter_still_stands_out_in_its_own_channel(
    calm_then_shout: np.ndarray
) -> None:
    """Gain is not arousal: a quiet microphone's shout is quieter than a loud microphone's
    calm talk, yet against its own channel it scores as high."""
    quiet = calm_then_shout * 0.1
    raws_loud, loud, _ = channel(calm_then_shout)
    raws_quiet, soft, votes = channel(quiet)
    quiet_shout_db = max(r["loud_db"] or -120 for r in raws_quiet[CALM_S:])
    loud_calm_db = float(np.median([r["loud_db"] or -120 for r in raws_loud[:CALM_S]]))
    assert quiet_shout_db < loud_calm_db  # the quiet shout is the quieter sound...
    assert all(votes[CALM_S:])  # ...and still votes
    assert not any(votes[:CALM_S])
    for a, b in zip(loud[CALM_S:], soft[CALM_S:], strict=True):
        assert a["voice_arousal"] == pytest.approx(b["voice_arousal"], abs=0.3)


def test_the_vote_line_is_on_the_arousal_scale_and_one_cue_cannot_carry_it() -> None:
    rules = VoteRules(voice_arousal=1.5)
    one_cue: Values = {**dict.fromkeys(audio.AROUSAL_PARTS, 0.0), "bright_z": 8.0}
    one_cue["voice_arousal"] = audio.arousal(one_cue)
    assert one_cue["voice_arousal"] == pytest.approx(audio.PART_LIMIT / 6)
    assert not audio.votes({}, one_cue, rules)
    several: Values = dict.fromkeys(audio.AROUSAL_PARTS, 2.0)
    several["voice_arousal"] = audio.arousal(several)
    assert audio.votes({}, several, rules)
    assert not audio.votes({}, several, VoteRules(voice_arousal=2.5))
    assert audio.arousal(dict.fromkeys(audio.AROUSAL_PARTS)) is None  # no voice, no score


def test_every_vote_line_is_a_setting() -> None:
    settings = Settings(vote_voice_arousal=2.5, vote_hype_words=3, vote_sentiment=0.6,
                        vote_sentiment_words=6, vote_face_excitement=0.7)
    assert config_from(settings).votes == VoteRules(
        voice_arousal=2.5, voice_hype_words=3, voice_sentiment=0.6, voice_sentiment_words=6,
        face_excitement=0.7)
    assert config_from(Settings()).votes == VoteRules()  # the defaults agree
