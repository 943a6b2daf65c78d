"""How a message looks in a stream entry: one field `data` (the JSON of its contract) plus the
raw binary parts its topic declares (`Topic.parts`), and the delivery a reader gets back."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from pydantic import ValidationError

from shared.contracts import Contract
from shared.streams import Topic
from shared.text import as_text

C = TypeVar("C", bound=Contract)
log = logging.getLogger("clip_live.bus")

DATA_FIELD = "data"


class BadPart(ValueError):
    """A message lacks a binary part its topic declares, or the part does not fit the message."""


INVALID = (ValidationError, KeyError, UnicodeDecodeError, BadPart)
"""Errors that mean a stream entry is not a valid message of its topic."""


@dataclass(frozen=True)
class Delivery(Generic[C]):
    """One message handed to a worker."""

    stream: str
    id: str
    message: C
    blobs: dict[str, bytes] = field(default_factory=dict)
    deliveries: int = 1


def encode(message: Contract, blobs: Mapping[str, bytes] | None) -> dict[Any, Any]:
    """The fields of the stream entry for a message and its binary parts."""
    fields: dict[Any, Any] = {DATA_FIELD: message.model_dump_json()}
    for name, blob in (blobs or {}).items():
        if name == DATA_FIELD:
            raise ValueError(f"a binary part may not be called {DATA_FIELD!r}")
        fields[name] = blob
    return fields


def decode(stream: str, topic: Topic[C], entry_id: Any, fields: Any, count: int) -> Delivery[C]:
    """The delivery of one stream entry; raises one of `INVALID` when it is not a valid
    message of `topic`."""
    raw = {as_text(k): v for k, v in fields.items()}
    message = topic.model.model_validate_json(raw.pop(DATA_FIELD))
    missing = [part for part in topic.parts if part not in raw]
    if missing:
        raise BadPart(f"missing its binary part {missing[0]!r}")
    problem = topic.check_parts(message, raw) if topic.check_parts else None
    if problem:
        raise BadPart(problem)
    return Delivery(stream, as_text(entry_id), message, raw, count)


def decode_valid(stream: str, topic: Topic[C], entries: Any) -> list[Delivery[C]]:
    """The entries that are valid messages of `topic`; the others are logged and left out
    (a plain read has no group to bury them for)."""
    found = []
    for entry_id, fields in entries:
        try:
            found.append(decode(stream, topic, entry_id, fields, 1))
        except INVALID as err:
            log.warning("skipping a message that is not a valid %s: %s",
                        topic.model.__name__, err, extra={"stream": stream, "id": entry_id})
    return found
