"""The bus against a real redis-server: sharing, take-over, dead letters, trimming."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import subprocess
from collections import Counter

import pytest
from redis.asyncio import Redis

from shared.bus import Bus, Delivery, redact_url
from shared.contracts import AudioChunk
from shared.settings import Settings
from shared.streams import AUDIO, DEAD_LETTER_STREAM, PCM
from tests.shared.workers import HANDLED_KEY, NOTES, SOUNDS, Note
from tests.support import PYTHON, child_env, wait_until


async def _consume_until(bus: Bus, group: str, name: str, seen: list[str], stop: asyncio.Event,
                         fail: bool = False) -> None:
    async def handle(delivery: Delivery[Note]) -> None:
        seen.append(f"{name}:{delivery.message.n}")
        if fail:
            raise RuntimeError("this handler always fails")
        await asyncio.sleep(0.001)

    await bus.consume({NOTES.stream(): NOTES}, group, name, handle, stop)


async def test_publish_and_read_back_keeps_fields_and_blobs(bus: Bus) -> None:
    await bus.publish(SOUNDS, Note(n=7), blobs={"pcm": b"\x00\x01\xff"})
    [got] = await bus.read(SOUNDS)
    assert got.message == Note(n=7)
    assert got.blobs == {"pcm": b"\x00\x01\xff"}
    assert (await bus.latest(SOUNDS)) is not None


async def test_publish_refuses_parts_the_topic_does_not_declare(bus: Bus) -> None:
    chunk = AudioChunk(channel="alpha", session="s", t=0.0, dur=0.5, wall=1.0, samples=8000)
    for wrong in (None, {}, {"pmc": b"\x00\x00"}, {PCM: b"\x00\x00", "jpeg": b""}):
        with pytest.raises(ValueError, match="binary parts"):
            await bus.publish(AUDIO, chunk, channel="alpha", blobs=wrong)
    with pytest.raises(ValueError, match="binary parts"):
        await bus.publish(NOTES, Note(n=1), blobs={"pcm": b""})
    assert await bus.redis.exists(AUDIO.stream("alpha"), NOTES.stream()) == 0


async def test_audio_whose_pcm_does_not_fit_goes_to_dead_letters_and_work_goes_on(
    bus: Bus,
) -> None:
    chunk = AudioChunk(channel="alpha", session="s", t=0.0, dur=0.5, wall=1.0, samples=8000)
    stream = AUDIO.stream("alpha")
    bad: list[tuple[dict[str, object], str]] = [
        ({}, "missing its binary part 'pcm'"),  # a writer's bug
        ({PCM: b"\x01\x02\x03"}, "3 bytes of PCM for 8000 samples"),
        ({PCM: bytes(8 << 20)}, "8388608 bytes of PCM"),
        ({PCM: b"\x00\x00" * 8000, "_update": {"dur": 3.0}}, "the chunk says 3.0 s"),
        ({PCM: b"", "_update": {"samples": 0}}, "0 bytes of PCM for 0 samples"),
        ({PCM: b"\x00\x00" * 10, "_update": {"samples": 10, "sample_rate": 20}},
         "sample rate 20 Hz"),
    ]
    for parts, _ in bad:
        update = parts.pop("_update", {})
        message = chunk.model_copy(update=update)  # type: ignore[arg-type]
        await bus.redis.xadd(stream, {"data": message.model_dump_json(), **parts})
    await bus.publish(AUDIO, chunk.model_copy(update={"t": 0.5}), channel="alpha",
                      blobs={PCM: b"\x01\x00" * 8000})
    heard: list[tuple[float, int]] = []
    stop = asyncio.Event()

    async def handle(delivery: Delivery[AudioChunk]) -> None:
        heard.append((delivery.message.t, len(delivery.blobs[PCM])))

    task = asyncio.create_task(bus.consume({stream: AUDIO}, "g", "w", handle, stop))
    await wait_until(lambda: len(heard) == 1)
    stop.set()
    await task
    assert heard == [(0.5, 16000)]
    dead = await bus.dead_letters()
    assert [d.message.stream for d in dead] == [stream] * len(bad)
    for letter, (_, reason) in zip(dead, bad, strict=True):
        assert "not a valid AudioChunk" in letter.message.error
        assert reason in letter.message.error
    assert (await bus.redis.xpending(stream, "g"))["pending"] == 0
    # Readers without a group skip them too.
    found, _ = await bus.read_streams({stream: (AUDIO, "0")})
    assert [d.message.t for d in found] == [0.5]


async def test_plain_reads_skip_what_is_not_a_valid_message(bus: Bus) -> None:
    for n in range(5):
        await bus.publish(NOTES, Note(n=n))
    await bus.redis.xadd(NOTES.stream(), {"data": b"\xff\xfe not json"})
    assert [d.message.n for d in await bus.read(NOTES)] == [0, 1, 2, 3, 4]
    newest = await bus.latest(NOTES)
    assert newest is not None and newest.message.n == 4, "the newest valid one"
    back = await bus.read_back(NOTES, keep=lambda note: note.n >= 2)
    assert [d.message.n for d in back] == [4, 3, 2], "newest first, up to the first refused"
    assert [d.message.n for d in await bus.read_back(NOTES, count=2)] == [4, 3]
    before = back[1].id  # reading back from a given id, that one included
    assert [d.message.n for d in await bus.read_back(NOTES, before=before)] == [3, 2, 1, 0]
    for n in range(5, 120):  # more than one page back
        await bus.publish(NOTES, Note(n=n))
    assert [d.message.n for d in await bus.read_back(NOTES, count=110)] == list(
        range(119, 9, -1))


async def test_publish_refuses_the_wrong_model(bus: Bus) -> None:
    from shared.streams import CONTROL

    with pytest.raises(TypeError):
        await bus.publish(CONTROL, Note(n=1))  # type: ignore[arg-type]


async def test_two_consumers_in_one_group_handle_each_message_once(bus: Bus) -> None:
    await bus.publish_many(NOTES, [(Note(n=i), None) for i in range(500)])
    seen: list[str] = []
    stop = asyncio.Event()
    workers = [asyncio.create_task(_consume_until(bus, "g", n, seen, stop)) for n in ("a", "b")]
    await wait_until(lambda: len(seen) >= 500)
    await asyncio.sleep(0.3)  # time for any duplicate to show up
    stop.set()
    await asyncio.gather(*workers)
    numbers = Counter(int(s.split(":")[1]) for s in seen)
    assert sorted(numbers) == list(range(500))
    assert set(numbers.values()) == {1}
    by_worker = Counter(s.split(":")[0] for s in seen)
    assert by_worker["a"] > 0 and by_worker["b"] > 0, by_worker
    pending = await bus.redis.xpending(NOTES.stream(), "g")
    assert pending["pending"] == 0


async def test_a_killed_consumers_pending_messages_are_taken_over(
    bus: Bus, redis_url: str, redis_client: Redis
) -> None:
    total = 60
    await bus.publish_many(NOTES, [(Note(n=i), None) for i in range(total)])
    slow = subprocess.Popen([PYTHON, "-m", "tests.shared.workers", "slow-consumer", redis_url,
                             "g", "victim", "0.1"], env=child_env())
    try:
        await wait_until(lambda: _has(redis_client, 3))
        slow.send_signal(signal.SIGKILL)  # mid-batch: it read 20 and handled only a few
        slow.wait(5)
    finally:
        with contextlib.suppress(ProcessLookupError):
            slow.kill()
    before = await redis_client.xpending(NOTES.stream(), "g")
    assert before["pending"] > 0, "the killed worker left nothing pending"

    seen: list[str] = []
    stop = asyncio.Event()
    task = asyncio.create_task(_consume_until(bus, "g", "rescuer", seen, stop))
    handled = await redis_client.lrange(HANDLED_KEY, 0, -1)
    handled_by_victim = {int(x.split(b":")[1]) for x in handled}

    async def all_done() -> bool:
        rescued = {int(s.split(":")[1]) for s in seen}
        return rescued | handled_by_victim == set(range(total))

    await wait_until(all_done)
    stop.set()
    await task
    assert (await redis_client.xpending(NOTES.stream(), "g"))["pending"] == 0


async def _has(client: Redis, n: int) -> bool:
    return await client.llen(HANDLED_KEY) >= n


async def test_a_message_that_always_fails_goes_to_dead_letters_and_work_goes_on(
    bus: Bus, settings: Settings
) -> None:
    await bus.publish(NOTES, Note(n=13))
    seen: list[str] = []
    stop = asyncio.Event()
    task = asyncio.create_task(_consume_until(bus, "g", "w", seen, stop, fail=True))
    await wait_until(lambda: _dead_count(bus, 1), timeout=15)
    [dead] = await bus.dead_letters()
    assert dead.message.deliveries == settings.max_deliveries
    assert "always fails" in dead.message.error
    assert Note.model_validate_json(dead.message.data) == Note(n=13)
    assert len(seen) == settings.max_deliveries
    stop.set()
    await task

    # The worker lives on: a healthy worker in the same group takes the next message.
    good: list[str] = []
    stop2 = asyncio.Event()
    task2 = asyncio.create_task(_consume_until(bus, "g", "w", good, stop2))
    await bus.publish(NOTES, Note(n=14))
    await wait_until(lambda: good == ["w:14"])
    stop2.set()
    await task2


async def _dead_count(bus: Bus, n: int) -> bool:
    return await bus.redis.xlen(DEAD_LETTER_STREAM) >= n


async def test_a_message_that_does_not_match_its_model_goes_to_dead_letters(bus: Bus) -> None:
    await bus.redis.xadd(NOTES.stream(), {"data": b'{"n": "not a number"}'})
    seen: list[str] = []
    stop = asyncio.Event()
    task = asyncio.create_task(_consume_until(bus, "g", "w", seen, stop))
    await wait_until(lambda: _dead_count(bus, 1))
    stop.set()
    await task
    assert seen == []
    [dead] = await bus.dead_letters()
    assert "not a valid Note" in dead.message.error


async def test_streams_stay_bounded_under_a_flood(settings: Settings) -> None:
    assert settings.redis_url
    cap = 1_000
    bus = await Bus.connect(settings.redis_url, settings.model_copy(update={"stream_maxlen": cap}))
    for start in range(0, 20_000, 500):
        await bus.publish_many(NOTES, [(Note(n=i), None) for i in range(start, start + 500)])
    length = await bus.redis.xlen(NOTES.stream())
    await bus.close()
    assert cap <= length <= cap + 200, length


def test_redact_url_hides_the_password() -> None:
    assert redact_url("redis://user:s3cret@host:6379/0") == "redis://user:***@host:6379/0"
    assert redact_url("redis://:s3cret@host:6379") == "redis://:***@host:6379"
    assert redact_url("redis://127.0.0.1:6379/0") == "redis://127.0.0.1:6379/0"


async def test_media_streams_are_trimmed_by_age_and_the_others_by_count(
    settings: Settings, redis_client: Redis
) -> None:
    """A long flood of audio keeps only the last `media_keep_s` seconds in Redis; a stream of
    small messages is trimmed by count only (here: never, it stays under `stream_maxlen`)."""
    keep = Bus(redis_client, settings.model_copy(update={"media_keep_s": 1.0,
                                                          "stream_maxlen": 10_000}))
    chunk = AudioChunk(channel="flood", session="s", t=0.0, dur=0.5, wall=1.0, samples=8000)
    pcm = {PCM: bytes(16000)}
    lengths = []
    started = asyncio.get_running_loop().time()
    n = 0
    while asyncio.get_running_loop().time() - started < 4.0:  # 4 s of flood, 1 s kept
        await keep.publish_many(AUDIO, [(chunk.model_copy(update={"t": (n + i) * 0.5}), pcm)
                                        for i in range(20)], channel="flood")
        await keep.publish_many(NOTES, [(Note(n=n + i), None) for i in range(20)])
        n += 20
        lengths.append(await redis_client.xlen(AUDIO.stream("flood")))
        await asyncio.sleep(0.02)
    newest, oldest = (await redis_client.xrevrange(AUDIO.stream("flood"), count=1),
                      await redis_client.xrange(AUDIO.stream("flood"), count=1))
    span_ms = int(newest[0][0].split(b"-")[0]) - int(oldest[0][0].split(b"-")[0])
    assert n > 1000, "a real flood"
    assert span_ms <= 1000 + 600, f"Redis kept {span_ms} ms of audio"
    rate = n / 4.0
    assert max(lengths[len(lengths) // 2:]) < 2.5 * rate, "length flat over time, not growing"
    assert await redis_client.xlen(NOTES.stream()) == n, "trimmed by count only, as before"
    await keep.close()
