"""Fetch a past broadcast named by a URL (a Twitch VOD, an HLS playlist, anything streamlink
opens) into a local file, so the job can check it, split it and cut it like any recording.

streamlink, not yt-dlp: the mesh already opens live streams with it (the same session
settings, the same Twitch plugin), and it writes the stream as it comes (MPEG-TS for HLS),
which FFmpeg reads, seeks and cuts as a file. Fetching first costs a wait before analysis
starts, but a VOD comes down faster than the workers read it, and it lets the job skip a
damaged stretch and spread parts over workers.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from services.ingest.streamlink_open import NoPlugin, OpenError, make_session, open_stream
from shared.settings import Settings

CHUNK = 1 << 20
REPORT_EVERY = 16 * CHUNK


class FetchFailed(Exception):
    """The URL could not be fetched; the message says why."""


class FetchStopped(Exception):
    """Told to stop before the whole VOD was fetched."""


def fetch(url: str, dest: Path, settings: Settings, progress: Callable[[int], None],
          stopped: Callable[[], bool]) -> Path:
    """Write the stream at `url` (best quality, or the `ingest_quality` setting) to `dest`,
    calling `progress(bytes so far)` now and then. Blocks: run it in a thread."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    session = make_session(settings.stall_timeout_s, settings.ingest_open_timeout_s)
    try:
        reader = open_stream(session, url, settings.ingest_quality or "best")
    except OpenError as err:
        raise FetchFailed(f"cannot open {url}: {err}") from None
    except NoPlugin:
        raise FetchFailed(f"streamlink knows no way to open {url}") from None
    partial = dest.with_suffix(dest.suffix + ".part")
    done = 0
    try:
        with partial.open("wb") as out:
            while chunk := reader.read(CHUNK):
                out.write(chunk)
                done += len(chunk)
                if done % REPORT_EVERY < len(chunk):
                    progress(done)
                if stopped():
                    raise FetchStopped
    except OSError as err:
        raise FetchFailed(f"fetching {url} broke off after {done >> 20} MB: {err}") from None
    finally:
        reader.close()
    if done == 0:
        partial.unlink(missing_ok=True)
        raise FetchFailed(f"{url} sent nothing")
    partial.rename(dest)
    return dest
