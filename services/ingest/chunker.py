"""Cut a flow of PCM bytes into half-second chunks, each with its stream time. Pure.

PCM here is 16-bit mono: 2 bytes per sample. At 16 kHz, half a second is 8000 samples, which is
16000 bytes. Chunk number k of a connection starts at `start_t + k * 0.5`, so chunks follow each
other with no holes and no overlaps.
"""

from __future__ import annotations

from dataclasses import dataclass

BYTES_PER_SAMPLE = 2


@dataclass(frozen=True)
class PcmChunk:
    """One piece of audio: when it starts, how long it is, and its bytes."""

    t: float
    dur: float
    samples: int
    pcm: bytes


class Chunker:
    """Collects PCM bytes and hands back whole chunks."""

    def __init__(self, start_t: float = 0.0, sample_rate: int = 16_000,
                 chunk_s: float = 0.5) -> None:
        self.start_t = start_t
        self.sample_rate = sample_rate
        self.chunk_samples = round(sample_rate * chunk_s)
        self._pending = bytearray()
        self.samples_out = 0
        """Samples handed out so far."""

    @property
    def chunk_bytes(self) -> int:
        return self.chunk_samples * BYTES_PER_SAMPLE

    @property
    def end_t(self) -> float:
        """Stream time right after the last sample handed out."""
        return self.time_at(self.samples_out)

    def time_at(self, samples: int) -> float:
        """Stream time of sample number `samples` of this connection."""
        return round(self.start_t + samples / self.sample_rate, 6)

    def feed(self, data: bytes) -> list[PcmChunk]:
        """Add bytes. Returns the chunks that are now complete (maybe none)."""
        self._pending += data
        chunks: list[PcmChunk] = []
        size = self.chunk_bytes
        while len(self._pending) >= size:
            chunks.append(self._take(size))
        return chunks

    def flush(self) -> PcmChunk | None:
        """The last, shorter chunk when the audio stops (None if nothing is left)."""
        usable = len(self._pending) - len(self._pending) % BYTES_PER_SAMPLE
        if usable <= 0:
            self._pending.clear()
            return None
        chunk = self._take(usable)
        self._pending.clear()
        return chunk

    def _take(self, size: int) -> PcmChunk:
        pcm = bytes(self._pending[:size])
        del self._pending[:size]
        samples = size // BYTES_PER_SAMPLE
        t = self.time_at(self.samples_out)
        self.samples_out += samples
        return PcmChunk(t=t, dur=round(samples / self.sample_rate, 6), samples=samples, pcm=pcm)
