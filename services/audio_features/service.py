"""The audio_features worker: every 0.5 s chunk of sound in, its numbers out.

Stateless: replicas share the chunks through one consumer group.
"""

from __future__ import annotations

import asyncio

import numpy as np

from services.audio_features.features import extract, warm_up
from shared.bus import Delivery
from shared.contracts import AudioChunk, AudioFeatures
from shared.runtime import ServiceContext
from shared.streams import AUDIO_FEATURES, PCM


def features_message(chunk: AudioChunk, pcm: bytes) -> AudioFeatures:
    """Measure one chunk and stamp the result with the chunk's own times."""
    samples = np.frombuffer(pcm[: len(pcm) // 2 * 2], dtype="<i2")
    found = extract(samples, sr=chunk.sample_rate)
    return AudioFeatures(
        channel=chunk.channel, session=chunk.session, t=chunk.t, dur=chunk.dur, wall=chunk.wall,
        loud_db=found.loud_db, peak_db=found.peak_db, f0_mean=found.f0_mean,
        f0_var=found.f0_var, voiced_ratio=found.voiced_ratio, f1=found.f1, f2=found.f2,
        f3=found.f3, centroid=found.spectral_centroid, onset_mean=found.onset_mean,
        onset_max=found.onset_max, clipped_ratio=found.clipped_ratio, f0_lo=found.f0_lo,
        f0_hi=found.f0_hi, speech_db=found.speech_db, speech_centroid=found.speech_centroid,
        tilt_db=found.tilt_db,
    )


async def main(ctx: ServiceContext) -> None:
    await asyncio.to_thread(warm_up)  # librosa's first call is slow: pay it before the stream.

    async def handle(delivery: Delivery[AudioChunk]) -> None:
        message = features_message(delivery.message, delivery.blobs[PCM])
        await ctx.bus.publish(AUDIO_FEATURES, message, channel=message.channel)

    await ctx.consume(handle)
