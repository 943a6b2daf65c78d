"""Logs that say what happened, one line each, and never show a secret.

Text lines read well in a terminal; JSON lines (`CLIP_LIVE_LOG_FORMAT=json`) suit log collectors.
Extra fields passed with `log.info("...", extra={"channel": "x"})` appear in both.
"""

from __future__ import annotations

import json
import logging
import sys
import time
from collections.abc import Iterable
from pathlib import Path

# Fields every LogRecord has; anything else was passed in `extra` and is shown.
_BASE_FIELDS = set(vars(logging.makeLogRecord({}))) | {"message", "asctime", "service"}


class RedactSecrets(logging.Filter):
    """Blanks out secret values (tokens, passwords) anywhere in a log line."""

    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        self.secrets = [s for s in secrets if len(s) >= 4]

    def filter(self, record: logging.LogRecord) -> bool:
        if self.secrets:
            text = record.getMessage()
            for secret in self.secrets:
                text = text.replace(secret, "***")
            record.msg, record.args = text, None
            for key in _extra_fields(record):
                value = getattr(record, key)
                if isinstance(value, str):
                    for secret in self.secrets:
                        value = value.replace(secret, "***")
                    setattr(record, key, value)
        return True


def _extra_fields(record: logging.LogRecord) -> list[str]:
    return [k for k in vars(record) if k not in _BASE_FIELDS and not k.startswith("_")]


class TextFormatter(logging.Formatter):
    """`2026-11-21T04:50:00Z INFO ingest: message key=value`."""

    def __init__(self, service: str) -> None:
        super().__init__()
        self.service = service

    def format(self, record: logging.LogRecord) -> str:
        stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(record.created))
        extras = " ".join(f"{k}={getattr(record, k)}" for k in _extra_fields(record))
        line = f"{stamp} {record.levelname.upper()} {self.service}: {record.getMessage()}"
        if extras:
            line += " " + extras
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return line


class JsonFormatter(logging.Formatter):
    """One JSON object per line."""

    def __init__(self, service: str) -> None:
        super().__init__()
        self.service = service

    def format(self, record: logging.LogRecord) -> str:
        data: dict[str, object] = {
            "ts": round(record.created, 3),
            "level": record.levelname.upper(),
            "service": self.service,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for key in _extra_fields(record):
            data[key] = getattr(record, key)
        if record.exc_info:
            data["exc"] = self.formatException(record.exc_info)
        return json.dumps(data, default=str)


def setup_logging(
    service: str, *, level: str = "INFO", fmt: str = "text", secrets: Iterable[str] = (),
    stderr_level: str | None = None, file: Path | None = None,
) -> logging.Logger:
    """Send logs to stderr in the chosen format, with secrets blanked. `stderr_level` shows
    only the more important lines there; `file` gets every line at `level` too. Returns the
    service's logger."""
    formatter = JsonFormatter(service) if fmt == "json" else TextFormatter(service)
    handlers: list[logging.Handler] = [logging.StreamHandler(sys.stderr)]
    handlers[0].setLevel(stderr_level or level)
    if file is not None:
        handlers.append(logging.FileHandler(file, encoding="utf-8"))
    for handler in handlers:
        handler.setFormatter(formatter)
        handler.addFilter(RedactSecrets(secrets))
    root = logging.getLogger()
    root.handlers[:] = handlers
    root.setLevel(level)
    for noisy in ("asyncio", "urllib3", "httpx", "httpcore"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
    return logging.getLogger(f"clip_live.{service}")
