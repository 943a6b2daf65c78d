"""The `clip-live vod` arguments. Light on purpose: `clip-live --help` builds every
sub-command, and must load no model or pydantic library."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def add_parser(sub: Any) -> None:
    vod = sub.add_parser(
        "vod", help="find and cut the best moments of a recorded stream",
        description="Run every detector over a video file as fast as this machine allows, "
                    "rank the moments they find, and cut the best. Ctrl-C stops.")
    vod.add_argument("source", help="a local video file, or the URL of a past broadcast "
                                     "(a Twitch VOD, an HLS playlist: fetched with streamlink "
                                     "first)")
    vod.add_argument("--chat", type=Path, help="the VOD's chat: a TwitchDownloader JSON, or "
                                               "lines '<time> <user>: <message>'")
    vod.add_argument("--top", type=int, default=10, help="how many clips (default: 10)")
    vod.add_argument("--out", type=Path, help="folder for the clips and report.html "
                                              "(default: <data folder>/vods/<file name>)")
    vod.add_argument("--workers", type=int, default=1,
                     help="copies of each worker to run on this machine (default: 1); each "
                          "takes a part of the VOD")
    vod.add_argument("--parts", type=int,
                     help="split the VOD into this many parts, analysed side by side "
                          "(default: one per worker copy)")
    vod.add_argument("-v", "--verbose", action="store_true",
                     help="show every service's log lines here too")
