"""`report.html` for one VOD: a timeline of the whole VOD (loudness, motion, chat rate and
excitement) with the picked moments marked, then the ranked clips with their pictures and
players. Plotly.js comes from the installed `plotly` package, copied beside the page, as
`clip-live eval` does: the page opens with no internet."""

from __future__ import annotations

import html
import json
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from services.vod.parts import Skipped
from services.vod.rank import Moment
from shared.contracts import ChatSecond, EventRow
from shared.plotly_js import plotly_js_path

Figure = dict[str, Any]

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<script src="plotly.min.js"></script>
<style>body{{font-family:sans-serif;margin:2em;max-width:1100px}}
.plot{{height:640px;margin:1em 0}}.clip{{display:flex;gap:1em;margin:1em 0}}
.clip img{{width:240px}}video{{width:480px}}</style></head>
<body><h1>{title}</h1>{note}{skipped}
<div class="plot" id="timeline"></div>
<h2>The best moments</h2>{clips}
<script>
const f = {figure};
Plotly.newPlot("timeline", f.data, f.layout, {{responsive: true}});
</script>
</body></html>
"""


def timeline_figure(rows: Sequence[EventRow], chat: Sequence[ChatSecond],
                    picked: Sequence[Moment], skipped: Sequence[Skipped] = ()) -> Figure:
    """Four stacked lines over stream time, an orange band over each picked moment and a grey
    one over each stretch that was skipped."""
    ordered = sorted(rows, key=lambda r: r.t)
    t = [r.t for r in ordered]
    lines = [("loudness (dB)", [r.loud_db for r in ordered], "y"),
             ("motion", [r.motion_avg for r in ordered], "y2"),
             ("chat (messages/s)", None, "y3"),
             ("excitement (P)", [r.excited_prob for r in ordered], "y4")]
    data = []
    for name, values, axis in lines:
        xs, ys = (t, values) if values is not None else (
            [c.t for c in chat], [float(c.messages) for c in chat])
        data.append({"type": "scatter", "mode": "lines", "name": name, "x": xs, "y": ys,
                     "yaxis": axis})
    layout = {
        "grid": {"rows": 4, "columns": 1, "pattern": "coupled"},
        "xaxis": {"title": "seconds into the VOD"},
        "shapes": [{"type": "rect", "xref": "x", "yref": "paper", "x0": m.start, "x1": m.end,
                    "y0": 0, "y1": 1, "fillcolor": "orange", "opacity": 0.3, "line": {"width": 0}}
                   for m in picked] + [
                   {"type": "rect", "xref": "x", "yref": "paper", "x0": s.start, "x1": s.end,
                    "y0": 0, "y1": 1, "fillcolor": "grey", "opacity": 0.4, "line": {"width": 0}}
                   for s in skipped],
        "annotations": [{"x": m.peak, "y": 1.02, "xref": "x", "yref": "paper",
                         "text": f"#{rank}", "showarrow": False}
                        for rank, m in enumerate(picked, 1)],
    }
    return {"data": data, "layout": layout}


def write_vod_report(out: Path, title: str, picked: Sequence[Moment],
                     rows: Sequence[EventRow], chat: Sequence[ChatSecond],
                     skipped: Sequence[Skipped] = ()) -> Path:
    """Write report.html (and plotly.min.js) into `out`, where the clips `NN.*` lie."""
    plotly = plotly_js_path()
    if plotly is not None:
        shutil.copyfile(plotly, out / "plotly.min.js")
    note = "" if plotly else "<p>The timeline needs the <code>plotly</code> Python package.</p>"
    clips = "".join(_clip_html(rank, m) for rank, m in enumerate(picked, 1))
    page = PAGE.format(title=html.escape(f"Highlights of {title}"), note=note,
                       skipped=_skipped_html(skipped),
                       clips=clips or "<p>No moment stood out.</p>",
                       figure=json.dumps(timeline_figure(rows, chat, picked, skipped))
                       .replace("</", "<\\/"))
    path = out / "report.html"
    path.write_text(page)
    return path


def _clip_html(rank: int, m: Moment) -> str:
    name = f"{rank:02d}"
    why = ", ".join(f"{k} {v:.2f}" for k, v in m.why.items())
    return (f'<div class="clip"><img src="{name}.jpg" alt="clip {rank}">'
            f'<video controls preload="none" poster="{name}.jpg" src="{name}.mp4"></video>'
            f"<div><b>#{rank}</b> at {m.peak:.0f} s, score {m.score:.2f}<br>{html.escape(why)}"
            f'<br><a href="{name}.json">{name}.json</a></div></div>')


def _skipped_html(skipped: Sequence[Skipped]) -> str:
    """The stretches that were not analysed (grey on the timeline), or nothing."""
    if not skipped:
        return ""
    items = "".join(f"<li>{s.start:.1f}-{s.end:.1f} s: {html.escape(s.why)}</li>"
                    for s in skipped)
    return f'<div class="skipped"><h2>Skipped</h2><ul>{items}</ul></div>'
