"""Speech-to-text numbers: CPU per stream second, caption latency, word error rate, lag cap.

- `*_cpu_ms_per_stream_s`: process CPU time of the streaming transcriber over 60 s of
  speech-heavy audio (espeak-ng, short pauses), fed chunk by chunk, one thread. Target (tiny.en):
  <= 250. `*_whole_file_floor_ms_per_stream_s`: the same model hearing the same audio once, in
  whole 30 s windows; `*_over_floor` is the ratio (target <= 2), and `*_2s_bursts_over_floor`
  the same with the audio in 2 s bursts, as live HLS delivers it (a pass per burst).
- `caption_latency_p50_s` / `_p95_s`: the asr service on a real bus, audio published live
  (each 0.5 s chunk when its half second has passed): from the end of a word (stream time,
  mapped to wall time through the chunks) to the first caption that shows it. Target p95 <= 1.5.
  `final_latency_*` is the same up to the final caption that holds the word.
- `wer_*`: word error rate of the final captions on espeak-ng sentences.
- `burst_catch_up_s`: 60 s of audio published at once; seconds until a final caption covers the
  newest audio (the lag stays bounded: audio more than `lag_cap_s` behind is skipped).
"""

from __future__ import annotations

import asyncio
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

from bench.latency import quantile
from services.asr.streaming import Update
from services.asr.vad import SpeechTracker, StreamingVad, silero_probs
from services.asr.wer import wer
from services.asr.whisper_backend import WhisperBackend
from services.asr.whisper_stream import StreamConfig, WhisperStreamer
from shared.bus import Bus
from shared.embedded_redis import EmbeddedRedis
from shared.settings import Settings
from tests.services.asr import media
from tests.services.asr.support import captions, first_seen, running_asr
from tests.support import wait_until

SENTENCES = [
    *media.SENTENCES,
    "did you see that play",
    "i cannot believe we won the game",
    "the boss fight starts in one minute",
    "please subscribe if you enjoyed the stream",
]


def feed(model: WhisperBackend, pcm: media.Pcm,
         piece_s: float = media.CHUNK_S) -> tuple[list[Update], float, int]:
    """Run the streaming transcriber over `pcm` in pieces of `piece_s` (0.5 s chunks as a
    capture sends them; 2 s bursts as HLS does). Returns the updates, the CPU seconds it took
    and the number of Whisper passes."""
    streamer = WhisperStreamer(model.transcribe, StreamingVad(silero_probs(), SpeechTracker()),
                               StreamConfig())
    audio, step = media.as_float(pcm), round(piece_s * media.RATE)
    started = time.process_time()
    out: list[Update] = []
    for at in range(0, len(audio), step):
        out += streamer.accept(at / media.RATE, audio[at:at + step])
    out += streamer.flush()
    return out, time.process_time() - started, streamer.passes


def offline_numbers(name: str, model: WhisperBackend) -> dict[str, float]:
    talk = media.long_speech(60.0)
    feed(model, talk[: 5 * media.RATE])  # warm up
    _, cpu_s, passes = feed(model, talk)
    _, burst_cpu_s, _ = feed(model, talk, piece_s=2.0)
    updates, _, _ = feed(model, media.sentences(SENTENCES, gap_s=1.0))
    heard = " ".join(u.text for u in updates if u.final)
    floor_s = whole_file_cpu_s(model.name, talk)
    return {
        f"{name}_cpu_ms_per_stream_s": cpu_s * 1000 / 60.0,
        f"{name}_whole_file_floor_ms_per_stream_s": floor_s * 1000 / 60.0,
        f"{name}_over_floor": cpu_s / floor_s,
        f"{name}_2s_bursts_over_floor": burst_cpu_s / floor_s,
        f"{name}_passes_per_stream_s": passes / 60.0,
        f"wer_{name}": wer(" ".join(SENTENCES), heard),
    }


def whole_file_cpu_s(name: str, pcm: media.Pcm) -> float:
    """The floor: CPU seconds for the same model, one thread, to hear the same audio once, in
    whole 30 s windows (as one pass over the whole file does)."""
    whole = WhisperBackend(name, window_s=30.0)
    audio = media.as_float(pcm)
    step = 30 * media.RATE
    whole.transcribe(audio[:step])  # warm up
    started = time.process_time()
    for at in range(0, len(audio), step):
        whole.transcribe(audio[at:at + step])
    return time.process_time() - started


async def service_numbers(url: str) -> dict[str, float]:
    settings = Settings(redis_url=url, read_block_ms=100, lease_ttl_s=1.0,
                        heartbeat_interval_s=0.2, heartbeat_ttl_s=1.0, log_level="WARNING")
    bus = await Bus.connect(url, settings)
    numbers: dict[str, float] = {}
    try:
        pcm = np.concatenate([media.sentences(SENTENCES[:6], gap_s=1.0), media.silence(1.0)])
        async with running_asr(settings, bus.redis, "bench-live"):
            wall0 = await media.publish_audio(bus, "bench-live", "s1", pcm, live=True)

            async def finals_done() -> bool:
                found = await captions(bus, "bench-live")
                return sum(c.final for _, c in found) >= 6
            await wait_until(finals_done, 20)
        found = await captions(bus, "bench-live")
        firsts = [d for _, d in first_seen(found, wall0)]
        finals = [published - (wall0 + w.end) for published, c in found if c.final
                  for w in c.words]
        numbers |= {
            "caption_latency_p50_s": statistics.median(firsts),
            "caption_latency_p95_s": quantile(firsts, 0.95),
            "caption_latency_max_s": max(firsts),
            "final_latency_p50_s": statistics.median(finals),
            "final_latency_p95_s": quantile(finals, 0.95),
        }

        burst = media.long_speech(60.0)
        async with running_asr(settings, bus.redis, "bench-burst"):
            await media.publish_audio(bus, "bench-burst", "s1", burst, live=False)
            sent = time.time()

            async def caught_up() -> bool:
                found = await captions(bus, "bench-burst")
                return any(c.final and c.words[-1].end > 55.0 for _, c in found)
            await wait_until(caught_up, 30)
            numbers["burst_catch_up_s"] = time.time() - sent
        numbers["lag_cap_s"] = settings.asr_max_lag_s
    finally:
        await bus.close()
    return numbers


def run() -> dict[str, float]:
    numbers = offline_numbers("tiny_en", WhisperBackend("tiny.en"))
    numbers |= offline_numbers("base", WhisperBackend("base"))
    with tempfile.TemporaryDirectory() as tmp, EmbeddedRedis(Path(tmp)) as redis:
        numbers |= asyncio.run(service_numbers(redis.url))
    return numbers


if __name__ == "__main__":
    for key, value in run().items():
        print(f"{key:<36} {value:8.3f}")
