"""The pure parts of VOD mode on plain values: ranking moments, the chat file on the VOD's
clock, and the settings that turn live workers into VOD readers (off by default)."""

from __future__ import annotations

import itertools
import json
import math
import random
from pathlib import Path

from launcher.vod.sample import make_sample_vod
from services.asr.backends import stream_config
from services.ingest.backlog import entry_t
from services.ingest.sources import classify, unpaced
from services.vod.chat import chat_seconds, on_part
from services.vod.media import scan
from services.vod.parts import damaged_stretches, plan_parts
from services.vod.rank import candidates, pick, with_spikes
from shared.channels import vod_settings
from shared.contracts import ChatSecond, EventRow, Spike
from shared.settings import Settings


def _row(t: float, p: float, votes: int = 0) -> EventRow:
    names = ["voice", "chat", "face"]
    return EventRow(channel="vod", session="s", t=t, dur=1.0, wall=0.0, excited_prob=p,
                    votes={n: i < votes for i, n in enumerate(names)})


def _calm(length: int, p: float = 0.02) -> list[EventRow]:
    return [_row(t, p) for t in range(length)]


def _with(rows: list[EventRow], at: int, ps: list[float]) -> list[EventRow]:
    out = list(rows)
    for i, p in enumerate(ps):
        out[at + i] = _row(at + i, p)
    return out


def test_moments_that_stand_out_are_ranked_by_their_strength() -> None:
    rows = _with(_with(_with(_calm(300), 50, [0.3, 0.6, 0.4]), 150, [0.9, 0.95, 0.9, 0.8]),
                 250, [0.15])
    found = candidates(rows)
    assert [(m.start, m.end) for m in found] == [(50, 53), (150, 154), (250, 251)]
    best = pick(found, top=10, pre=10, post=20)
    assert [m.peak for m in best] == [151, 51, 250]
    assert best[0].score > best[1].score > best[2].score
    assert set(best[0].why) == {"p", "votes", "chat", "length"}
    assert math.isclose(sum(best[0].why.values()), best[0].score, abs_tol=1e-3)


def test_a_calm_vod_has_no_candidates_and_picks_never_overlap() -> None:
    assert candidates(_calm(120)) == []
    rows = _with(_with(_calm(200), 100, [0.9]), 110, [0.0, 0.0, 0.0, 0.8])
    found = candidates(rows)
    assert len(found) == 2
    assert [m.peak for m in pick(found, top=5, pre=10, post=20)] == [100]  # 113 overlaps
    assert len(pick(found, top=5, pre=1, post=2)) == 2


def test_chat_that_reacts_to_a_moment_raises_its_score() -> None:
    rows = _with(_with(_calm(200), 40, [0.5]), 140, [0.5])
    spike = ChatSecond(channel="vod", session="s", t=146, dur=1, wall=0, messages=30,
                       chatters=25, rate_z=20, baseline=0.2, hype_density=0.8, spike=True,
                       strength=12, moment_from=138, moment_to=144)
    early, late = candidates(rows, [spike])
    assert late.chat == 12 and early.chat == 0
    assert pick([early, late], top=1, pre=10, post=20) == [late]


def test_a_chat_file_lands_on_the_vod_clock(tmp_path: Path) -> None:
    plain = tmp_path / "chat.txt"
    plain.write_text("".join(f"{t}.5 u{t % 7}: hello\n" for t in range(5, 200, 3)))
    seconds = chat_seconds(plain, Settings(), "vod", "s1", length_s=100)
    assert seconds[0].t == 5 and seconds[-1].t < 100  # small times: seconds into the video
    assert all(c.session == "s1" and c.channel == "vod" for c in seconds)
    unix = tmp_path / "unix.txt"
    unix.write_text("".join(f"{1_700_000_000 + t} u{t}: hi\n" for t in range(0, 60, 2)))
    assert chat_seconds(unix, Settings(), "vod", "s1", length_s=100)[0].t == 0
    export = tmp_path / "chat.json"
    export.write_text(json.dumps({"comments": [
        {"content_offset_seconds": 12.2, "commenter": {"name": "a"}, "message": {"body": "x"}},
        {"content_offset_seconds": 30.0, "commenter": {"name": "b"}, "message": {"body": "y"}},
    ]}))
    assert {12.0, 30.0} <= {c.t for c in chat_seconds(export, Settings(), "vod", "s", 60)}


def test_vod_settings_are_off_by_default_and_change_only_what_they_say() -> None:
    live = Settings()
    assert live.ingest_file_realtime and live.ingest_backlog_max_s == 0 and not live.asr_vod
    source = classify("/videos/a.mp4")
    assert "-re" in source.input_args
    assert "-re" not in unpaced(source).input_args
    assert unpaced(source).target == source.target
    stream = classify("rtmp://example.org/live")
    assert unpaced(stream) == stream
    assert stream_config(live).max_lag_s == live.asr_max_lag_s
    vod = vod_settings(live)  # what a channel marked as a recording gets
    assert not vod.ingest_file_realtime and vod.ingest_backlog_max_s > 0
    assert vod.fuser_lateness_s > live.fuser_lateness_s and not vod.fuser_clip_jobs
    assert stream_config(vod).max_lag_s == math.inf
    assert stream_config(vod).step_s > stream_config(live).step_s
    changed = {k for k, v in vod.model_dump().items() if live.model_dump()[k] != v}
    assert changed == {"ingest_file_realtime", "ingest_backlog_max_s", "asr_vod",
                       "fuser_lateness_s", "fuser_clip_jobs"}


def test_the_backlog_reads_stream_time_from_an_entry() -> None:
    assert entry_t({b"data": b'{"t": 12.5, "dur": 0.5}'}) == 12.5
    assert entry_t({"data": '{"job_id": "x"}'}) is None
    assert entry_t({}) is None


def test_parts_tile_the_vod_start_on_keyframes_and_reach_past_their_stretch() -> None:
    keys = [float(k) for k in range(0, 600, 2)]
    parts, skipped = plan_parts(600, keys, count=3, lead_s=60, tail_s=21)
    assert skipped == [] and len(parts) == 3
    assert parts[0].keep_from == 0 and parts[-1].keep_to == 600
    for before, after in itertools.pairwise(parts):
        assert before.keep_to == after.keep_from  # each second judged once
        assert after.start in keys and after.start <= after.keep_from - 60
        assert before.end == before.keep_to + 21
    assert parts[0].start == 0 and parts[-1].end == 600
    one, _ = plan_parts(600, keys, count=1, lead_s=60, tail_s=21)
    assert [(p.start, p.end, p.keep_from, p.keep_to) for p in one] == [(0, 600, 0, 600)]


def test_a_damaged_stretch_is_skipped_to_the_keyframes_around_it() -> None:
    keys = [float(k) for k in range(0, 300, 2)]
    bad = [104.7 + 0.02 * i for i in range(600)]  # ~12 s of sound that would not decode
    damaged = damaged_stretches(bad)
    assert len(damaged) == 1 and damaged[0][0] < 104.7 and damaged[0][1] > bad[-1]
    parts, skipped = plan_parts(300, keys, count=1, lead_s=60, tail_s=21, damaged=damaged)
    assert [(s.start, s.end) for s in skipped] == [(104, 118)]
    assert "damaged" in skipped[0].why
    assert [(p.keep_from, p.keep_to) for p in parts] == [(0, 104), (118, 300)]
    assert parts[0].end == 104 and parts[1].start == 118  # no part reaches into it
    assert damaged_stretches([10.0, 11.0, 50.0]) == [(9.5, 11.5), (49.5, 50.5)]


def test_late_chat_votes_from_spikes_join_their_seconds() -> None:
    rows = [_row(t, 0.3, votes=1) for t in range(10)]  # voice votes alone
    spike = Spike(channel="vod", session="s", t=4, dur=1, wall=0, probability=0.3,
                  votes={"voice": True, "chat": True, "face": False}, trigger="two_votes")
    merged = with_spikes(list(reversed(rows)), [spike])
    assert [r.t for r in merged] == list(range(10))
    assert merged[4].votes == {"voice": True, "chat": True, "face": False}
    assert merged[3].votes == rows[3].votes
    assert [(m.start, m.votes) for m in candidates(merged)] == [(4, 2)]


def test_a_part_gets_the_chat_of_its_stretch_on_its_own_clock() -> None:
    spike = ChatSecond(channel="vod", session="", t=160, dur=1, wall=0, messages=30,
                       chatters=25, rate_z=20, baseline=0.2, hype_density=0.8, spike=True,
                       strength=12, spike_start=158, moment=154, moment_from=152,
                       moment_to=158)
    calm = spike.model_copy(update={"t": 40.0, "spike": False, "spike_start": None,
                                    "moment": None, "moment_from": None, "moment_to": None})
    got = on_part([calm, spike], "vod-2", "s2", start=90, end=300)
    assert len(got) == 1 and got[0].channel == "vod-2" and got[0].session == "s2"
    assert (got[0].t, got[0].moment_from, got[0].moment_to) == (70, 62, 68)


def test_a_scan_finds_the_keyframes_and_the_damaged_sound(tmp_path: Path) -> None:
    vod = make_sample_vod(tmp_path, 40, moments=(30.0,), size="320x180", fps=10)
    clean = scan(vod.video)
    assert clean.bad_sound == [] and clean.sound_packets > 1000
    assert clean.keyframes[:3] == [0.0, 2.0, 4.0]
    damaged = tmp_path / "damaged.mp4"
    data = bytearray(vod.video.read_bytes())
    size = len(data)
    data[size // 2: size // 2 + size // 10] = random.Random(1).randbytes(size // 10)
    damaged.write_bytes(bytes(data))
    found = scan(damaged)
    assert found.bad_sound, "the damaged sound was not noticed"
    (lo, hi), = damaged_stretches(found.bad_sound)
    assert 12 < lo < 24 and 18 < hi < 30 and hi - lo < 10  # about the middle tenth
