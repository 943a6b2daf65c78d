"""Clip records: read the clipper's Redis hashes and turn them into what the API shows.

The clipper keeps each clip's metadata in a hash (`shared.streams.clip_key`): text values as
they are, every other value as JSON. The index `CLIP_INDEX_KEY` is a sorted set of clip ids,
scored by the Unix time the clip was made. The same metadata sits in a JSON file beside the mp4.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError
from redis.asyncio import Redis

from services.api.models import ClipOut
from shared.contracts import Clip, ClipWhy
from shared.streams import CLIP_INDEX_KEY, clip_key
from shared.text import as_text

CLIP_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,199}$")
"""What a clip id may look like (`<channel>-clip_<stamp>`). Anything else is not found."""

TEXT_FIELDS = {
    name for name, field in Clip.model_fields.items() if field.annotation is str
} | {"source_url", "spike_utc", "spike_from", "worker", "verdict"}
"""Hash fields stored as plain text; the others hold JSON."""

FILE_FIELDS = ("video", "captions", "metadata", "thumbnail")
"""Server paths: never shown, only linked."""
PAGE = 500


def valid_clip_id(clip_id: str) -> bool:
    return bool(CLIP_ID.match(clip_id))


def decode_record(raw: dict[Any, Any]) -> dict[str, Any]:
    """A clip hash as plain values: text fields as text, the rest read as JSON."""
    record: dict[str, Any] = {}
    for key, value in raw.items():
        name = as_text(key)
        text = as_text(value)
        if name in TEXT_FIELDS:
            record[name] = text
            continue
        try:
            record[name] = json.loads(text)
        except json.JSONDecodeError:
            record[name] = text
    return record


def clip_out(clip_id: str, record: dict[str, Any]) -> ClipOut:
    """The API's view of a clip: the main fields, links to its files, and every other detail."""
    main = {name: record.get(name) for name in ClipOut.model_fields if name in record}
    details = {k: v for k, v in record.items() if k not in ClipOut.model_fields
               and k not in FILE_FIELDS}
    verdict = record.get("verdict")
    return ClipOut.model_validate({
        **main,
        "clip_id": clip_id,
        "channel": str(record.get("channel", "")),
        "verdict": verdict if verdict in ("keep", "drop") else None,
        "file": _name(record.get("video")),
        "video_url": f"/api/clip/{clip_id}/video",
        "captions_url": f"/api/clip/{clip_id}/srt",
        "thumbnail_url": thumbnail_url(clip_id, record.get("thumbnail")),
        "why": _why(record.get("why")),
        "details": details,
    })


def event_clip(clip: Clip) -> dict[str, Any]:
    """The `new_clip` event: the Clip message, with links instead of server paths."""
    data = clip.model_dump(mode="json", exclude=set(FILE_FIELDS))
    data["file"] = _name(clip.video)
    data["video_url"] = f"/api/clip/{clip.clip_id}/video"
    data["captions_url"] = f"/api/clip/{clip.clip_id}/srt"
    data["thumbnail_url"] = thumbnail_url(clip.clip_id, clip.thumbnail)
    return data


def thumbnail_url(clip_id: str, path: Any) -> str:
    """The link to a clip's picture, or '' when it has none."""
    return f"/api/clip/{clip_id}/thumbnail" if path else ""


@dataclass(frozen=True)
class ClipFilter:
    """Which clips a listing shows."""

    channel: str | None = None
    verdict: str | None = None
    """"keep", "drop", or "none" (not judged yet)."""
    reason: str | None = None
    since: float | None = None
    until: float | None = None

    def only_by_time(self) -> bool:
        return self.channel is None and self.verdict is None and self.reason is None

    def wants(self, record: dict[str, Any]) -> bool:
        if self.channel is not None and record.get("channel") != self.channel:
            return False
        if self.reason is not None and record.get("reason") != self.reason:
            return False
        if self.verdict is not None:
            have = record.get("verdict") or "none"
            if have != self.verdict:
                return False
        return True


async def load_record(redis: Redis, clip_id: str) -> dict[str, Any] | None:
    """One clip's record, or None when there is no such clip."""
    if not valid_clip_id(clip_id):
        return None
    raw: dict[Any, Any] = await redis.hgetall(clip_key(clip_id))
    return decode_record(raw) if raw else None


async def list_clips(redis: Redis, where: ClipFilter, offset: int,
                     limit: int) -> tuple[int, list[ClipOut]]:
    """Clips newest first: how many match in all, and the page asked for."""
    high = "+inf" if where.until is None else repr(where.until)
    low = "-inf" if where.since is None else repr(where.since)
    if where.only_by_time():
        total = int(await redis.zcount(CLIP_INDEX_KEY, low, high))
        ids = [as_text(i) for i in await redis.zrevrangebyscore(
            CLIP_INDEX_KEY, high, low, start=offset, num=limit)]
        records = await _records(redis, ids)
        return total, [clip_out(i, r) for i, r in zip(ids, records, strict=True) if r]
    ids = [as_text(i) for i in await redis.zrevrangebyscore(CLIP_INDEX_KEY, high, low)]
    matched: list[ClipOut] = []
    total = 0
    for start in range(0, len(ids), PAGE):
        chunk = ids[start:start + PAGE]
        for clip_id, record in zip(chunk, await _records(redis, chunk), strict=True):
            if record and where.wants(record):
                if offset <= total < offset + limit:
                    matched.append(clip_out(clip_id, record))
                total += 1
    return total, matched


async def _records(redis: Redis, ids: list[str]) -> list[dict[str, Any] | None]:
    if not ids:
        return []
    async with redis.pipeline(transaction=False) as pipe:
        for clip_id in ids:
            pipe.hgetall(clip_key(clip_id))
        replies = await pipe.execute()
    return [decode_record(raw) if raw else None for raw in replies]


def _why(value: Any) -> ClipWhy | None:
    """The clip's reasons, or None when it has none (older clips) or they do not fit."""
    try:
        return ClipWhy.model_validate(value) if isinstance(value, dict) else None
    except ValidationError:
        return None


def _name(path: Any) -> str:
    text = str(path or "")
    return text.replace("\\", "/").rsplit("/", 1)[-1]
