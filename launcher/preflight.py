"""Checks on what the user typed, done before any service starts, so bad input fails in a
second with one clear line instead of a whole mesh sitting idle."""

from __future__ import annotations

import subprocess
from pathlib import Path
from urllib.parse import urlsplit

MEDIA_SUFFIXES = {".mp4", ".mkv", ".ts", ".flv", ".mov", ".webm", ".avi", ".m4v", ".mpg",
                  ".mpeg", ".m4a", ".mp3", ".wav", ".aac", ".ogg", ".opus", ".flac"}
"""A name with no scheme that ends like this is taken for a local file, not a website."""
PROBE_TIMEOUT_S = 15.0


class BadSource(Exception):
    """The URL or file cannot be watched. The message says why in one line."""


def check_source(url: str) -> str:
    """The URL to watch: a local file as an absolute path, anything else as given.
    Raises BadSource for a URL ingest could not use, a missing file, or a file FFmpeg cannot
    read."""
    from services.ingest.sources import SourceError, classify

    text = url.strip()
    local = _local_path(text)
    if local is not None:
        if not local.is_file():
            raise BadSource(f"no such file: {local}")
        _probe(local)
        return str(local.resolve())
    try:
        classify(text)
    except SourceError as err:
        raise BadSource(f"cannot watch {url}: {err}") from None
    return text


def _local_path(text: str) -> Path | None:
    """The file `text` names, or None when it is a URL."""
    scheme = urlsplit(text).scheme
    if scheme == "file":
        return Path(urlsplit(text).path)
    if scheme and len(scheme) > 1:  # One letter is a Windows drive, as in C:\video.mp4.
        return None
    path = Path(text).expanduser()
    if path.exists() or text.startswith(("/", "./", "../", "~")):
        return path
    return path if path.suffix.lower() in MEDIA_SUFFIXES else None


def _probe(path: Path) -> None:
    """Refuse a file that FFmpeg cannot read or that holds no sound and no picture."""
    try:
        done = subprocess.run(
            ["ffprobe", "-v", "error", "-show_entries", "stream=codec_type", "-of", "csv=p=0",
             str(path)], capture_output=True, text=True, timeout=PROBE_TIMEOUT_S, check=False)
    except subprocess.TimeoutExpired:
        raise BadSource(f"{path}: FFmpeg could not read it in {PROBE_TIMEOUT_S:.0f} s") from None
    kinds = set(done.stdout.split())
    if done.returncode != 0 or not kinds & {"audio", "video"}:
        why = done.stderr.strip().splitlines()[-1:] or ["it holds no sound and no picture"]
        raise BadSource(f"{path} is not a media file FFmpeg can read: {why[0]}")
