"""`clip-live export CLIP_ID`: make a post-ready 9:16 short of a clip (face framed, words
burned in), next to the clip as `<clip>_short.mp4` and `<clip>_short.jpg`."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # `clip-live --help` builds this parser: no pydantic here.
    from shared.settings import Settings


def add_parser(sub: Any) -> None:
    """Add the `export` command to the CLI's subcommands."""
    from services.export.captions import STYLES
    from services.export.layout import LAYOUTS

    export = sub.add_parser(
        "export", help="make a 9:16 short of a clip, face framed and words burned in",
        description="Make a vertical short of CLIP_ID in one FFmpeg pass: a 9:16 window that "
                    "follows the streamer's face (crop), or the facecam above the gameplay "
                    "(stack); the clip's words burned in, a few at a time, the spoken one "
                    "highlighted; H.264 + AAC at -14 LUFS. Needs the running mesh (or "
                    "CLIP_LIVE_REDIS_URL) for the clip's record, words and faces.")
    export.add_argument("clip_id", help="the clip's id, e.g. demo-clip_20261121T045012Z")
    export.add_argument("--layout", choices=LAYOUTS, default="auto",
                        help="crop: follow the face; stack: facecam on top, game below; "
                             "auto (default): stack when a facecam corner is found")
    export.add_argument("--size", default="1080x1920", help="WIDTHxHEIGHT (default 1080x1920)")
    export.add_argument("--style", choices=sorted(STYLES), default="bold",
                        help="caption look (default bold)")
    export.add_argument("--facecam", default="", metavar="X,Y,W,H",
                        help="where the facecam is, in pixels of the clip (default: the "
                             "channel's CLIP_LIVE_EXPORT_FACECAMS entry, else found from the "
                             "faces)")
    export.add_argument("--json", action="store_true", help="print the result as JSON")


def run_export(settings: Settings, args: argparse.Namespace, out: Any,
               errors: Any = None) -> int:
    """Run `clip-live export`; print where the short is. Exit code 0, or 1 with the reason
    (on `errors`, standard error by default)."""
    from dataclasses import asdict

    from launcher import control
    from services.export.runner import export_clip
    from services.export.sources import ExportError

    async def go() -> Any:
        bus = await control.connect(settings)
        try:
            return await export_clip(bus, args.clip_id, layout=args.layout, size=args.size,
                                     style=args.style, facecam=args.facecam,
                                     facecams=settings.export_facecams)
        finally:
            await bus.close()

    try:
        result = asyncio.run(go())
    except (ExportError, control.MeshNotFound) as err:
        print(f"clip-live: {err}", file=errors or sys.stderr)
        return 1
    if args.json:
        print(json.dumps(asdict(result), indent=2), file=out)
        return 0
    print(f"short: {result.video}", file=out)
    print(f"thumbnail: {result.thumbnail}", file=out)
    print(f"layout {result.layout}, {result.size}, {result.words} word(s) captioned, "
          f"faces from {result.faces_from}, {result.timings['total_s']:.1f} s", file=out)
    for note in result.notes:
        print(f"note: {note}", file=out)
    return 0
