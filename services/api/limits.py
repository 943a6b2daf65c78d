"""Limits on what a request may send: the body's size, and numbers JSON cannot carry.

- `LimitBody` refuses a body over `MAX_BODY_BYTES` with 413 and closes the connection, without
  reading the rest: at once when `Content-Length` says so, else as soon as the bytes read pass
  the limit (a chunked or streamed body).
- `validation_error` is FastAPI's 422 answer, made safe for inputs like `NaN` and `Infinity`
  (Python's JSON reader takes them, but an answer that repeats them cannot be written as JSON).
"""

from __future__ import annotations

import math
from typing import Any

from fastapi import Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

MAX_BODY_BYTES = 64 * 1024
"""The largest request body the API reads. Its bodies are a URL or a few numbers."""


def too_large(limit: int) -> JSONResponse:
    """413, and `Connection: close` so the server reads no more of the body."""
    return JSONResponse({"detail": f"the request body is larger than {limit} bytes"},
                        status_code=413, headers={"Connection": "close"})


class LimitBody:
    """ASGI layer: read at most `limit` bytes of a request body, then hand it on whole."""

    def __init__(self, app: ASGIApp, limit: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length = _content_length(scope)
        if length is not None and length > self.limit:
            await too_large(self.limit)(scope, receive, send)
            return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return  # The client went away before its body was in.
            chunk: bytes = message.get("body", b"")
            size += len(chunk)
            if size > self.limit:
                await too_large(self.limit)(scope, receive, send)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        await self.app(scope, _replay(b"".join(chunks), receive), send)


def _content_length(scope: Scope) -> int | None:
    for key, value in scope.get("headers", []):
        if key.lower() == b"content-length":
            text = value.decode("latin-1").strip()
            return int(text) if text.isdigit() else None
    return None


def _replay(body: bytes, receive: Receive) -> Receive:
    """A `receive` that gives the body read already, then whatever comes next (a disconnect)."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


def json_safe(value: Any) -> Any:
    """`value` with every NaN or infinite float written as text, and every lone surrogate in a
    string (JSON can carry `\\ud8db`, UTF-8 cannot) as a `\\u` escape, so an echo of the
    input can go out as JSON."""
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, str):
        return value.encode("utf-8", "backslashreplace").decode("utf-8")
    if isinstance(value, dict):
        return {json_safe(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    return value


async def validation_error(request: Request, err: Exception) -> JSONResponse:
    """422 with FastAPI's usual body, for any input (NaN, Infinity and lone surrogates too)."""
    errors = err.errors() if isinstance(err, RequestValidationError) else []
    return JSONResponse({"detail": json_safe(jsonable_encoder(errors))}, status_code=422)
