"""Settings every worker shares: where things are, logs, the bus, liveness, the API, and the
secrets (never printed, never logged)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field, SecretStr, field_validator


class CoreSettings(BaseModel):
    """Where things are, logs, the bus and liveness."""

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
    media_keep_s: float = Field(
        default=300.0, ge=1, le=86_400,
        description="Seconds of audio and pictures kept in Redis per channel (their streams "
                    "are trimmed by age, the others by `stream_maxlen`). A worker that is away "
                    "for longer misses what is older.")
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


class ApiSettings(BaseModel):
    """The API and dashboard."""

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
    api_token_for_reads: bool | None = Field(
        default=None,
        description="Ask for api_token on reads too (clips, channels, full health). Unset: yes "
                    "when api_host is not a loopback address.",
    )

    @field_validator("api_token_for_reads", mode="before")
    @classmethod
    def _empty_is_auto(cls, value: Any) -> Any:
        """An empty `CLIP_LIVE_API_TOKEN_FOR_READS=` means unset (decided by api_host)."""
        return None if isinstance(value, str) and not value.strip() else value


class SecretSettings(BaseModel):
    """Secrets: never printed, never logged."""

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
