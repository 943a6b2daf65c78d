"""The API's bearer token: from the settings, or made once and kept in `<data_dir>/api_token`.

The file is readable by its owner only (mode 600). The token itself is never logged.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from shared.settings import Settings

TOKEN_FILE = "api_token"
TOKEN_BYTES = 32


def token_path(data_dir: Path) -> Path:
    return data_dir / TOKEN_FILE


def ensure_api_token(data_dir: Path) -> str:
    """The token kept in `<data_dir>/api_token`; make a new random one if there is none.

    Two processes that call this at once get the same token: the file is created in one step
    that fails if it exists, and the loser reads the winner's file.
    """
    path = token_path(data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    token = secrets.token_urlsafe(TOKEN_BYTES)
    try:
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    except FileExistsError:
        return _read(path)
    with os.fdopen(fd, "w", encoding="ascii") as out:
        out.write(token + "\n")
    return token


def _read(path: Path) -> str:
    """Read a token file; an empty one (a writer that died half way) gets a new token."""
    text = path.read_text(encoding="ascii").strip()
    if text:
        if path.stat().st_mode & 0o077:
            path.chmod(0o600)  # Someone loosened it: only the owner may read a secret.
        return text
    path.unlink()
    return ensure_api_token(path.parent)


def resolve_token(settings: Settings) -> str:
    """The token the API asks for: `api_token` from the settings, else the one in the file."""
    if settings.api_token and settings.api_token.get_secret_value():
        return settings.api_token.get_secret_value()
    return ensure_api_token(settings.data_dir)
