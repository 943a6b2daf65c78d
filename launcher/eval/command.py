"""The `clip-live eval` command: read the data, run the kind's evaluation, print the headline
numbers (JSON), and save report.json and report.html.

Built: `voice`, `chat`, `face` and `asr`. `clips` is named so that the command's shape is
fixed, but says "not built yet" and exits 2.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

if TYPE_CHECKING:  # `clip-live --help` builds this parser: no pydantic, no models.
    from shared.settings import Settings

KINDS = ("chat", "voice", "face", "asr", "clips")
BUILT = ("chat", "voice", "face", "asr")
BASELINES = ("calm", "speaker", "file")
"""voice: what each clip is measured against (see `launcher.eval.voice`)."""
HEADLINE_SKIP = {"files", "roc", "spikes", "highlight_list", "auc_by_feature", "file_list",
                 "pictures_judged", "confusion", "vote_share", "mean_excitement"}
"""Long parts of a result: in report.json, not on the terminal."""


def add_parser(sub: Any) -> None:
    """The `eval` sub-command and its options. Only light imports here: `clip-live --help`
    builds every sub-command."""
    parser = sub.add_parser(
        "eval", help="measure a detector on your own labelled data",
        description="Run labelled data through the code the live services run and score it. "
                    "voice: DATA is a folder of audio files with a CSV of arousal labels "
                    "(`file,score[,speaker]`, score -1 calm .. 1 excited). chat: DATA is a "
                    "chat log (as chat-spikes reads it) and --highlights a file of `start "
                    "end` lines. face: DATA is a folder of pictures with labels.csv "
                    "(`file,label`). asr: DATA is a folder of audio files, each with its "
                    "exact text beside it (talk.wav + talk.txt). Prints the headline numbers "
                    "as JSON and saves report.json and report.html (plots) in --out. clips: "
                    "not built yet.")
    parser.add_argument("kind", choices=KINDS, help="what to measure")
    parser.add_argument("data", type=Path,
                        help="voice, asr: a folder of audio files; face: a folder of pictures; "
                             "chat: a log")
    parser.add_argument("--labels", type=Path,
                        help="voice: the labels CSV (default: DATA/arousal.csv); face: the "
                             "labels CSV (default: DATA/labels.csv)")
    parser.add_argument("--highlights", type=Path,
                        help="chat: the highlights, one `start end` per line (seconds into "
                             "the log, or H:MM:SS)")
    parser.add_argument("--baseline", choices=BASELINES, default="calm",
                        help="voice: what each clip is measured against: the speaker's other "
                             "calm clips (calm, the default: a channel whose normal is calm "
                             "talk), all the speaker's other clips (speaker), or nothing but "
                             "the file itself from its start (file)")
    parser.add_argument("--no-level", action="store_true",
                        help="voice: leave the speech level out of the arousal (for files "
                             "normalised in loudness)")
    parser.add_argument("--split", type=float, default=0.0,
                        help="voice: labels above this are excited, below it calm (default 0)")
    parser.add_argument("--tolerance", type=float, default=15.0,
                        help="chat: a spike this close to a highlight (seconds) finds it "
                             "(default 15)")
    parser.add_argument("--out", type=Path,
                        help="folder for the report (default: DATA_DIR/eval/KIND-TIME)")


def run_eval(args: argparse.Namespace, settings: Settings, out: TextIO = sys.stdout,
             err: TextIO = sys.stderr) -> int:
    """Run one evaluation. 0: done; 1: the data could not be read; 2: kind not built yet."""
    if args.kind not in BUILT:
        print(f"clip-live: eval {args.kind} is not built yet (built: {', '.join(BUILT)})",
              file=err)
        return 2
    from launcher.eval import asr, chat, face, voice
    from launcher.eval.report import (
        asr_figures,
        chat_figures,
        face_figures,
        voice_figures,
        write_report,
    )

    try:
        if args.kind == "asr":
            result = asr.evaluate(args.data, settings)
            figures = asr_figures(result)
        elif args.kind == "face":
            result = face.evaluate(args.data, args.labels, settings)
            figures = face_figures(result)
        elif args.kind == "voice":
            from services.fuser.service import vote_rules

            result = voice.evaluate(args.data, args.labels or args.data / "arousal.csv",
                                    vote_rules(settings), settings.fuser_warmup_s,
                                    baseline=args.baseline, split=args.split,
                                    no_level=args.no_level, ffmpeg=settings.ffmpeg_path)
            figures = voice_figures(result)
        else:
            if args.highlights is None:
                print("clip-live: eval chat needs --highlights FILE", file=err)
                return 1
            result = chat.evaluate(args.data, args.highlights, settings, args.tolerance)
            figures = chat_figures(result)
    except (voice.EvalError, chat.EvalError) as problem:
        print(f"clip-live: {problem}", file=err)
        return 1
    stamp = time.strftime("%Y%m%dT%H%M%S")
    folder = args.out or settings.data_dir / "eval" / f"{args.kind}-{stamp}"
    headline = {k: v for k, v in result.items() if k not in HEADLINE_SKIP}
    page = write_report(folder, result, figures, _flat(headline))
    print(json.dumps(headline, indent=1), file=out)
    print(f"report: {page} (numbers: {folder / 'report.json'})", file=out)
    return 0


def _flat(values: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested numbers as one level, `vote.precision` style, for the page's table."""
    flat: dict[str, Any] = {}
    for key, value in values.items():
        if isinstance(value, dict):
            flat.update(_flat(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat
