"""The clipper against real Redis and real FFmpeg: clips, waiting, partial clips, pins."""

from __future__ import annotations

import asyncio
import json
import re
import time
from pathlib import Path

from redis.asyncio import Redis

from services.clipper.store import stamp
from shared.bus import Bus
from shared.contracts import AudioChunk, Caption
from shared.recording import earliest_pin
from shared.settings import Settings
from shared.streams import AUDIO, CAPTIONS, CLIP_INDEX_KEY, clip_key, pins_key
from tests.services.clipper.media import (
    SESSION,
    Recorded,
    ask_clip,
    clips,
    decode_errors,
    ffprobe,
    first_video_frame,
    progress_of,
    publish_segments,
    running_clipper,
    set_state,
    wait_finished,
    wait_until,
)

CHANNEL = "testchan"


async def test_a_clip_at_t_is_30_s_of_whole_segments_with_captions_and_metadata(
    bus: Bus, redis_client: Redis, clip_settings: Settings, recorded: list[Recorded]
) -> None:
    wall0 = time.time() - 40
    await set_state(bus, CHANNEL, "live")
    await publish_segments(bus, CHANNEL, recorded, wall0)
    for text, t, final in (("what a shot", 12.0, True), ("what a sh", 12.0, False),
                           ("no way", 39.5, True)):
        await bus.publish(CAPTIONS, Caption(channel=CHANNEL, session=SESSION, t=t, dur=2.0,
                                            wall=wall0 + t, text=text, final=final),
                          channel=CHANNEL)
    await bus.publish(CAPTIONS, Caption(channel=CHANNEL, session="old", t=15.0, dur=2.0,
                                        wall=wall0, text="other session", final=True),
                      channel=CHANNEL)

    async with running_clipper(clip_settings):
        await ask_clip(bus, CHANNEL, "job-1", t=20.0, pre=10.0, post=20.0)
        last = await wait_finished(bus, "job-1")

    assert last.status == "done", last.detail
    progress = await progress_of(bus, "job-1")
    assert [p.status for p in progress] == ["queued", "waiting", "cutting", "done"]
    assert [p.percent for p in progress] == [0, 80, 85, 100]
    [clip] = await clips(bus)
    assert clip.job_id == "job-1" and clip.channel == CHANNEL and not clip.partial

    # The files: named after the spike's UTC wall time, in clips/<channel>/.
    video = Path(clip.video)
    assert video.name == f"clip_{stamp(wall0 + 20.0)}.mp4"
    assert re.fullmatch(r"clip_\d{8}T\d{6}Z\.mp4", video.name)
    assert video.parent == (clip_settings.data_dir / "clips" / CHANNEL).resolve()
    probe = ffprobe(video)
    kinds = sorted(s["codec_type"] for s in probe["streams"])
    assert kinds == ["audio", "video"]
    duration = float(probe["format"]["duration"])
    assert abs(duration - 30.0) <= 2.1, duration
    assert abs(clip.duration - duration) < 0.01
    frame = first_video_frame(video)
    assert frame["key_frame"] == 1 and frame["pict_type"] == "I"
    assert decode_errors(video) == ""

    # Captions: final ones of this session, on the clip's clock, cut to the clip.
    assert ffprobe(Path(clip.captions))["format"]["format_name"] == "srt"
    srt = Path(clip.captions).read_text()
    first = 12.0 - clip.start
    assert srt.startswith(f"1\n{_srt(first)} --> {_srt(first + 2.0)}\nwhat a shot\n\n2\n")
    assert "no way" in srt and "what a sh\n" not in srt and "other session" not in srt
    # "no way" runs past the clip's end (the end of the last segment), so it is cut there.
    end = recorded[19].t + recorded[19].dur
    assert srt.endswith(f"2\n{_srt(39.5 - clip.start)} --> {_srt(end - clip.start)}\nno way\n")

    # The sidecar and the Redis record.
    sidecar = json.loads(Path(clip.metadata).read_text())
    assert sidecar["clip_id"] == clip.clip_id and sidecar["job_id"] == "job-1"
    assert sidecar["source_url"].endswith(f"/{CHANNEL}.m3u8") and sidecar["session"] == SESSION
    assert [s["seq"] for s in sidecar["segments"]] == list(range(5, 20))
    assert sidecar["video_bytes"] == video.stat().st_size and sidecar["captions_count"] == 2
    stored = await redis_client.hgetall(clip_key(clip.clip_id))
    assert stored[b"video"].decode() == clip.video and stored[b"partial"] == b"false"
    assert await redis_client.zscore(CLIP_INDEX_KEY, clip.clip_id) == clip.wall
    assert await redis_client.zcard(pins_key(CHANNEL)) == 0
    print(f"\nclip at t: {duration:.3f} s, post-roll to file "
          f"{sidecar['timings']['post_roll_to_file_s']:.3f} s, cut {sidecar['timings']['cut_s']} s")


def _srt(seconds: float) -> str:
    from services.clipper.srt import srt_time

    return srt_time(seconds)


async def test_a_clip_of_now_waits_for_its_post_roll_and_keeps_a_pin_meanwhile(
    bus: Bus, redis_client: Redis, clip_settings: Settings, recorded: list[Recorded]
) -> None:
    wall0 = time.time() - 20
    await set_state(bus, CHANNEL, "live")
    await publish_segments(bus, CHANNEL, recorded[:10], wall0)  # up to t=20.02
    await bus.publish(AUDIO, AudioChunk(channel=CHANNEL, session=SESSION, t=20.0, dur=0.5,
                                        wall=wall0 + 20.0, samples=8000), channel=CHANNEL,
                      blobs={"pcm": bytes(16000)})

    async with running_clipper(clip_settings):
        await ask_clip(bus, CHANNEL, "job-now", t=None, pre=4.0, post=6.0)  # now = 20.5

        async def waiting() -> bool:
            return any(p.status == "waiting" for p in await progress_of(bus, "job-now"))

        await wait_until(waiting)
        assert await earliest_pin(redis_client, CHANNEL) == 16.5
        await asyncio.sleep(0.5)  # longer than claim_idle_ms: the job must stay ours
        await publish_segments(bus, CHANNEL, recorded[10:15], wall0, every_s=0.25)
        last = await wait_finished(bus, "job-now")

    assert last.status == "done", last.detail
    progress = await progress_of(bus, "job-now")
    statuses = [p.status for p in progress]
    waits = statuses.count("waiting")
    assert waits >= 2 and statuses == ["queued", *["waiting"] * waits, "cutting", "done"]
    percents = [p.percent for p in progress]
    assert percents == sorted(percents)
    [clip] = await clips(bus)
    assert clip.t == 20.5 and not clip.partial
    sidecar = json.loads(Path(clip.metadata).read_text())
    assert sidecar["spike_from"] == "now: the end of the newest audio chunk"
    assert [s["seq"] for s in sidecar["segments"]] == [8, 9, 10, 11, 12, 13]  # 16.02..28.02 s
    assert abs(clip.duration - 10.0) <= 2.1
    assert Path(clip.captions).read_text() == ""  # no captions: an empty SRT is valid
    assert await earliest_pin(redis_client, CHANNEL) is None
    assert len(await progress_of(bus, "job-now")) == len(progress)  # done once
    print(f"\npost-roll available -> clip file ready: "
          f"{sidecar['timings']['post_roll_to_file_s']:.3f} s "
          f"(waited {sidecar['timings']['waited_s']:.2f} s, cut {sidecar['timings']['cut_s']} s)")


async def test_an_ended_stream_or_a_late_post_roll_gives_a_partial_clip(
    bus: Bus, clip_settings: Settings, recorded: list[Recorded]
) -> None:
    wall0 = time.time() - 20
    await set_state(bus, "ended", "ended")
    await set_state(bus, "stalled", "live")
    for channel in ("ended", "stalled"):
        await publish_segments(bus, channel, recorded[:10], wall0)  # up to t=20.02

    settings = clip_settings.model_copy(update={"clip_wait_extra_s": 0.5})
    async with running_clipper(settings):
        await ask_clip(bus, "ended", "job-ended", t=18.0, pre=4.0, post=10.0)
        await ask_clip(bus, "stalled", "job-stalled", t=18.0, pre=4.0, post=4.0)
        ended = await wait_finished(bus, "job-ended")
        stalled = await wait_finished(bus, "job-stalled")

    assert ended.status == "done" and stalled.status == "done"
    made = {c.job_id: c for c in await clips(bus)}
    for job, why in (("job-ended", "the stream ended"), ("job-stalled", "did not come within")):
        clip = made[job]
        assert clip.partial and why in clip.note, clip.note
        assert "stops early" in clip.note
        assert abs(clip.duration - 6.0) < 0.2  # 14.02 .. 20.02 s: what exists
        assert ffprobe(Path(clip.video))["format"]["format_name"].startswith("mov,mp4")
        assert json.loads(Path(clip.metadata).read_text())["partial"] is True


async def test_a_pin_a_job_never_took_back_runs_out(redis_client: Redis) -> None:
    """A job whose worker was killed (or that went to the dead letters) never unpins: its pin
    runs out by itself, so the ring buffer does not grow for ever."""
    from shared.recording import PIN_TTL_S, pin, unpin

    await pin(redis_client, CHANNEL, "left-behind", 10.0, now=1000.0)
    await pin(redis_client, CHANNEL, "working", 30.0, now=1000.0 + PIN_TTL_S)
    assert await earliest_pin(redis_client, CHANNEL, now=1000.0 + 1) == 10.0
    assert await earliest_pin(redis_client, CHANNEL, now=1001.0 + PIN_TTL_S) == 30.0
    assert await redis_client.zcard(pins_key(CHANNEL)) == 1  # the stale one was dropped
    await unpin(redis_client, CHANNEL, "working")
    assert await earliest_pin(redis_client, CHANNEL) is None
