"""Who may change things, which files may be served, and keeping the token out of the logs.

- Every request that changes something (POST, PUT, PATCH, DELETE, and `GET /start-monitoring`)
  needs `Authorization: Bearer <token>`. A small ASGI layer checks it before anything else, so
  even a request with a broken body gets 401, not 422.
- Reads need the token too when `reads_need_token` says so (the setting `api_token_for_reads`;
  unset: when the API listens beyond loopback). A read may carry it as `?token=` instead, so
  `<video src>` works. The dashboard page, its files, the docs and `/health` stay open; health
  shows details only to callers with the token.
- The websocket checks the token itself (see `services.api.websocket`).
- Files are served only from inside the data folder, after following links and `..`.
- Log lines never show the token: a filter blanks it, and any `token=...` in a URL.
"""

from __future__ import annotations

import ipaddress
import logging
import re
import secrets
from collections.abc import Iterable
from pathlib import Path
from typing import Annotated
from urllib.parse import parse_qsl

from fastapi import Request, Security
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Receive, Scope, Send

from shared.feedback import inside
from shared.settings import Settings

MUTATING_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
READ_METHODS = {"GET", "HEAD"}
MUTATING_GETS = {"/start-monitoring"}
"""GET routes that change something (kept for clients that can only send a GET)."""

OPEN_PATHS = {"/", "/favicon.ico", "/health", "/docs", "/openapi.json"}
OPEN_PREFIXES = ("/static/", "/docs-assets/")
"""Read without a token even when reads need one: the dashboard page and its files (the page
asks for the token), the API docs, and health (which then says only up or down)."""

bearer_scheme = HTTPBearer(auto_error=False, description="The API token (see README).")


class NotAllowed(Exception):
    """The request has no valid token."""


def needs_token(method: str, path: str) -> bool:
    """True when this request changes something and so must carry the token."""
    return method.upper() in MUTATING_METHODS or path.rstrip("/") in MUTATING_GETS


def reads_need_token(settings: Settings) -> bool:
    """The setting `api_token_for_reads`; unset: True unless the API listens on loopback only."""
    if settings.api_token_for_reads is not None:
        return settings.api_token_for_reads
    host = settings.api_host.strip("[]")
    if host.lower() == "localhost":
        return False
    try:
        return not ipaddress.ip_address(host).is_loopback
    except ValueError:
        return True  # a name: it may reach beyond this machine


def is_open(path: str) -> bool:
    """True for the paths anyone may read (see OPEN_PATHS); never a path with `..` in it."""
    if ".." in path.split("/"):
        return False
    return path in OPEN_PATHS or path.startswith(OPEN_PREFIXES)


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


def has_token(connection: HTTPConnection) -> bool:
    """True when the request carries the token: as a bearer header, or (reads) as `?token=`."""
    token: str = connection.app.state.token
    given = bearer_from_header(connection.headers.get("authorization"))
    if given is None and connection.scope.get("method") in READ_METHODS:
        given = connection.query_params.get("token")
    return token_matches(given, token)


class RequireToken:
    """ASGI layer: refuse changing requests without the token, before routing or body parsing;
    with `reads`, refuse reads of anything but the open paths too."""

    def __init__(self, app: ASGIApp, token: str, reads: bool = False) -> None:
        self.app = app
        self.token = token
        self.reads = reads

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and self._guarded(scope["method"], scope["path"]):
            given = bearer_from_header(_header(scope, b"authorization"))
            if given is None and scope["method"].upper() in READ_METHODS \
                    and not needs_token(scope["method"], scope["path"]):
                given = _query_token(scope)
            if not token_matches(given, self.token):
                await unauthorized()(scope, receive, send)
                return
        await self.app(scope, receive, send)

    def _guarded(self, method: str, path: str) -> bool:
        if needs_token(method, path):
            return True
        return self.reads and method.upper() in READ_METHODS and not is_open(path)


def _query_token(scope: Scope) -> str | None:
    for key, value in parse_qsl(scope.get("query_string", b"").decode("latin-1")):
        if key == "token":
            return value
    return None


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
