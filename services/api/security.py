"""Who may change things, which files may be served, and keeping the token out of the logs.

- Every request that changes something (POST, PUT, PATCH, DELETE, and `GET /start-monitoring`)
  needs `Authorization: Bearer <token>`. A small ASGI layer checks it before anything else, so
  even a request with a broken body gets 401, not 422. Reading (GET) needs no token.
- The websocket checks the token itself (see `services.api.websocket`).
- Files are served only from inside the data folder, after following links and `..`.
- Log lines never show the token: a filter blanks it, and any `token=...` in a URL.
"""

from __future__ import annotations

import logging
import re
import secrets
from collections.abc import Iterable
from pathlib import Path
from typing import Annotated

from fastapi import Request, Security
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.types import ASGIApp, Receive, Scope, Send

from shared.feedback import inside

MUTATING_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
MUTATING_GETS = {"/start-monitoring"}
"""GET routes that change something (kept for clients that can only send a GET)."""

bearer_scheme = HTTPBearer(auto_error=False, description="The API token (see README).")


class NotAllowed(Exception):
    """The request has no valid token."""


def needs_token(method: str, path: str) -> bool:
    """True when this request changes something and so must carry the token."""
    return method.upper() in MUTATING_METHODS or path.rstrip("/") in MUTATING_GETS


def token_matches(given: str | None, token: str) -> bool:
    """Compare in constant time, so timing tells nothing about the token."""
    if not given or not token:
        return False
    return secrets.compare_digest(given.encode(), token.encode())


def bearer_from_header(value: str | None) -> str | None:
    """The token in an `Authorization: Bearer <token>` header, or None."""
    if not value:
        return None
    scheme, _, rest = value.strip().partition(" ")
    return rest.strip() if scheme.lower() == "bearer" and rest.strip() else None


def unauthorized() -> JSONResponse:
    return JSONResponse({"detail": "a valid bearer token is needed (Authorization: Bearer ...)"},
                        status_code=401, headers={"WWW-Authenticate": "Bearer"})


class RequireToken:
    """ASGI layer: refuse changing requests without the token, before routing or body parsing."""

    def __init__(self, app: ASGIApp, token: str) -> None:
        self.app = app
        self.token = token

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and needs_token(scope["method"], scope["path"]):
            header = _header(scope, b"authorization")
            if not token_matches(bearer_from_header(header), self.token):
                await unauthorized()(scope, receive, send)
                return
        await self.app(scope, receive, send)


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key.lower() == name:
            return str(value.decode("latin-1"))
    return None


async def require_token(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Security(bearer_scheme)],
) -> None:
    """The same check as `RequireToken`, as a route dependency (it also puts the security
    scheme in the OpenAPI spec)."""
    token: str = request.app.state.token
    if credentials is None or not token_matches(credentials.credentials, token):
        raise NotAllowed()


def file_inside(path_text: str, data_dir: Path, suffix: str) -> Path | None:
    """The file at `path_text` if it is a plain file with `suffix` inside the data folder."""
    if not path_text:
        return None
    path = Path(path_text)
    if path.suffix.lower() != suffix or not inside(path, data_dir):
        return None
    resolved = path.resolve()
    return resolved if resolved.is_file() else None


# ---- Logs -------------------------------------------------------------------------------------

_TOKEN_IN_URL = re.compile(r"(?i)(token=)[^&\s\"']+")


class RedactTokens(logging.Filter):
    """Blanks the token, and any `token=...` in a URL, in every log line."""

    def __init__(self, secrets_: Iterable[str]) -> None:
        super().__init__()
        self.secrets = [s for s in secrets_ if s]

    def redact(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, "***")
        return _TOKEN_IN_URL.sub(r"\1***", text)

    def filter(self, record: logging.LogRecord) -> bool:
        record.__dict__.pop("color_message", None)  # uvicorn's copy with terminal colours
        message = record.getMessage()
        clean = self.redact(message)
        if clean != message:
            record.msg, record.args = clean, None
        return True


def guard_logs(token: str) -> RedactTokens:
    """Put the token filter on every log handler and on uvicorn's own loggers."""
    guard = RedactTokens([token])
    targets: list[logging.Handler | logging.Logger] = list(logging.getLogger().handlers)
    targets += [logging.getLogger(n) for n in ("uvicorn", "uvicorn.access", "uvicorn.error")]
    for target in targets:
        for old in [f for f in target.filters if isinstance(f, RedactTokens)]:
            target.removeFilter(old)  # A second start in one process replaces the first.
        target.addFilter(guard)
    return guard
