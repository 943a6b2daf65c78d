"""Redis answers in bytes; the code wants str."""

from __future__ import annotations

from typing import Any


def as_text(value: Any) -> str:
    """`value` as str: bytes are decoded as UTF-8 (bytes that are not become U+FFFD, so bad
    input can never stop a reader), anything else goes through `str()`."""
    return value.decode(errors="replace") if isinstance(value, bytes) else str(value)
