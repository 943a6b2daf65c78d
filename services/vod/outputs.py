"""Write a VOD's results: each picked clip as `NN.mp4`, `.srt`, `.jpg` and `.json` (rank,
score, why), `seconds.json` (every second judged), `vod.json` (what was skipped and why, and
the clips in rank order) and `report.html` beside them."""

from __future__ import annotations

import json
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from services.vod.media import source_name
from services.vod.parts import Skipped
from services.vod.rank import Moment
from services.vod.report import write_vod_report
from shared.contracts import ChatSecond, Clip, EventRow

if TYPE_CHECKING:
    from services.vod.job import VodPlan


def clip_name(rank: int) -> str:
    """The file stem of the clip at `rank` (1 is the best)."""
    return f"{rank:02d}"


def write_outputs(plan: VodPlan, picked: Sequence[Moment], clips: Sequence[Clip],
                  rows: Sequence[EventRow], chat: Sequence[ChatSecond],
                  skipped: Sequence[Skipped] = ()) -> Path:
    """Copy each clip into `plan.out` under its rank, write its .json and the report; return
    the report's path."""
    plan.out.mkdir(parents=True, exist_ok=True)
    for old in plan.out.glob("[0-9][0-9].*"):  # an earlier run's clips: start plainly over
        old.unlink()
    for rank, (moment, clip) in enumerate(zip(picked, clips, strict=True), 1):
        stem = plan.out / clip_name(rank)
        shutil.copyfile(clip.video, stem.with_suffix(".mp4"))
        if clip.captions and Path(clip.captions).exists():
            shutil.copyfile(clip.captions, stem.with_suffix(".srt"))
        if clip.thumbnail and Path(clip.thumbnail).exists():
            shutil.copyfile(clip.thumbnail, stem.with_suffix(".jpg"))
        meta = {"rank": rank, "score": moment.score, "why": moment.why,
                "moment": {"start": moment.start, "end": moment.end, "peak": moment.peak},
                "p": moment.p, "votes": moment.votes, "chat_strength": moment.chat,
                "clip": {"start": clip.start, "duration": clip.duration,
                         "partial": clip.partial},
                "source": plan.source}
        stem.with_suffix(".json").write_text(json.dumps(meta, indent=1) + "\n")
    seconds = [{"t": r.t, "p": r.excited_prob, "votes": r.votes, "features": r.features,
                "missing": r.missing} for r in sorted(rows, key=lambda r: r.t)]
    (plan.out / "seconds.json").write_text(json.dumps(seconds) + "\n")
    summary = {"source": plan.source, "length_s": plan.length_s,
               "clips": [f"{clip_name(rank)}.mp4" for rank in range(1, len(clips) + 1)],
               "skipped": [{"start": s.start, "end": s.end, "why": s.why} for s in skipped]}
    (plan.out / "vod.json").write_text(json.dumps(summary, indent=1) + "\n")
    return write_vod_report(plan.out, source_name(plan.source), picked, rows, chat, skipped)
