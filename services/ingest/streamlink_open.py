"""Opening a stream with streamlink, used as a library.

`open_stream` blocks (it talks to the network), so the service calls it in a thread through
`open_in_thread`, which also makes sure a stream opened after the caller gave up gets closed.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from streamlink import Streamlink
from streamlink.exceptions import NoPluginError, PluginError, StreamError
from streamlink.options import Options

from services.ingest.process import Reader
from services.ingest.reasons import short_reason


class OpenError(Exception):
    """streamlink could not open the stream. The message is a short plain reason."""


class NoPlugin(Exception):
    """No streamlink plugin knows this URL."""


def make_session(stall_timeout_s: float, open_timeout_s: float,
                 low_latency: bool = False) -> Streamlink:
    """A streamlink session with time limits that fit ours. `low_latency`: a segment's bytes are
    passed on while it downloads, not once it is whole, so audio comes as the source sends it."""
    session = Streamlink()
    session.set_option("hls-segment-stream-data", low_latency)
    session.set_option("http-timeout", max(1.0, min(20.0, open_timeout_s)))
    # Reads give up a little after our own stall check would have stopped them anyway.
    session.set_option("stream-timeout", stall_timeout_s + 5.0)
    return session


def pick_quality(names: list[str], wanted: str) -> str:
    """The stream to watch. `wanted` may list fallbacks: `"720p60,720p,best"`.

    Raises OpenError naming the qualities on offer when none of them is there."""
    if not names:
        raise OpenError("no stream found (is the channel offline?)")
    for choice in (w.strip() for w in wanted.split(",")):
        if choice in names:
            return choice
    raise OpenError(f"quality {wanted!r} is not offered; the stream has: {', '.join(names)}")


def plugin_options(low_latency: bool) -> Options:
    """Options for the plugin that opens a URL (a plugin reads the ones it has). `low-latency`:
    Twitch's low-latency stream, whose segments are sent while they are made (HLS delivers
    audio in 2 s bursts otherwise)."""
    return Options({"low-latency": low_latency})


def open_stream(session: Streamlink, url: str, quality: str, low_latency: bool = False) -> Reader:
    """Find the stream at `url`, pick the quality, and open it for reading. Blocks."""
    try:
        streams: dict[str, Any] = session.streams(url, plugin_options(low_latency))
    except NoPluginError:
        raise NoPlugin(url) from None
    except (PluginError, StreamError, OSError) as err:
        raise OpenError(short_reason(str(err))) from None
    stream = streams[pick_quality(list(streams), quality)]
    try:
        reader: Reader = stream.open()
    except (StreamError, OSError) as err:
        raise OpenError(short_reason(str(err))) from None
    return reader


async def open_in_thread(session: Streamlink, url: str, quality: str,
                         low_latency: bool = False) -> Reader:
    """`open_stream` in a thread. If we are cancelled meanwhile, the stream is closed once it
    opens, so no streamlink threads are left running."""
    loop = asyncio.get_running_loop()
    future = loop.run_in_executor(None, open_stream, session, url, quality, low_latency)
    try:
        return await asyncio.shield(future)
    except asyncio.CancelledError:
        future.add_done_callback(_close_late)
        raise


def _close_late(future: asyncio.Future[Reader]) -> None:
    if future.cancelled() or future.exception() is not None:
        return
    with contextlib.suppress(Exception):
        future.result().close()
