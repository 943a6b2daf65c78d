"""Save what `clip-live eval` found: `report.json`, and `report.html` with its plots.

The page draws with Plotly.js, the same file the dashboard serves: the one inside the
installed `plotly` Python package, copied next to the page. No CDN, so the page opens with
no internet.
"""

from __future__ import annotations

import html
import json
import shutil
from pathlib import Path
from typing import Any

from shared.plotly_js import plotly_js_path

Figure = dict[str, Any]
"""A Plotly figure as plain data: {"data": [...], "layout": {...}}."""

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<script src="plotly.min.js"></script>
<style>body{{font-family:sans-serif;margin:2em;max-width:1100px}}
table{{border-collapse:collapse}}td,th{{border:1px solid #ccc;padding:.2em .6em;text-align:left}}
.plot{{height:420px;margin:1em 0}}</style></head>
<body><h1>{title}</h1>
<table>{rows}</table>
{plots}
<script>
const figures = {figures};
figures.forEach((f, i) => Plotly.newPlot("plot" + i, f.data, f.layout, {{responsive: true}}));
</script>
</body></html>
"""


def write_report(out: Path, result: dict[str, Any], figures: list[Figure],
                 headline: dict[str, Any]) -> Path:
    """Write report.json, report.html and plotly.min.js into `out`; return the page's path."""
    out.mkdir(parents=True, exist_ok=True)
    (out / "report.json").write_text(json.dumps(result, indent=1) + "\n")
    plotly = plotly_js_path()
    if plotly is not None:
        shutil.copyfile(plotly, out / "plotly.min.js")
    rows = "".join(f"<tr><th>{html.escape(str(k))}</th><td>{html.escape(_shown(v))}</td></tr>"
                   for k, v in headline.items())
    plots = "".join(f'<div class="plot" id="plot{i}"></div>' for i in range(len(figures)))
    if plotly is None:
        plots = "<p>The plots need the <code>plotly</code> Python package.</p>" + plots
    page = PAGE.format(title=html.escape(f"clip-live eval {result.get('kind', '')}"),
                       rows=rows, plots=plots,
                       figures=json.dumps(figures).replace("</", "<\\/"))
    (out / "report.html").write_text(page)
    return out / "report.html"


def voice_figures(result: dict[str, Any]) -> list[Figure]:
    """The ROC curve of the arousal, each clip's arousal against its label, and the AUC of
    each feature on its own."""
    roc = result.get("roc") or {}
    files = result.get("files") or []
    aucs = result.get("auc_by_feature") or {}
    voted = [f for f in files if f.get("vote")]
    quiet = [f for f in files if not f.get("vote")]
    return [
        {"data": [{"x": roc.get("fpr", []), "y": roc.get("tpr", []), "mode": "lines",
                   "name": "voice_arousal"},
                  {"x": [0, 1], "y": [0, 1], "mode": "lines", "name": "chance",
                   "line": {"dash": "dot"}}],
         "layout": {"title": {"text": f"ROC of the arousal (AUC {result.get('arousal_auc')})"},
                    "xaxis": {"title": {"text": "calm clips above the line"}},
                    "yaxis": {"title": {"text": "excited clips above the line"}}}},
        {"data": [{"x": [f["label"] for f in group], "y": [f["arousal"] for f in group],
                   "text": [f["file"] for f in group], "mode": "markers", "name": name}
                  for group, name in ((voted, "voice vote on"), (quiet, "voice vote off"))],
         "layout": {"title": {"text": "Arousal of each clip against its label"},
                    "xaxis": {"title": {"text": "label (-1 calm .. 1 excited)"}},
                    "yaxis": {"title": {"text": "mean voice_arousal"}}}},
        {"data": [{"type": "bar", "x": list(aucs), "y": [aucs[k] for k in aucs]}],
         "layout": {"title": {"text": "AUC of each feature on its own"},
                    "yaxis": {"range": [0, 1], "title": {"text": "AUC"}}}},
    ]


def chat_figures(result: dict[str, Any]) -> list[Figure]:
    """The spikes on the log's time line, with the highlights shaded."""
    spikes = result.get("spikes") or []
    shapes = [{"type": "rect", "xref": "x", "yref": "paper", "x0": h["start"], "x1": h["end"],
               "y0": 0, "y1": 1, "fillcolor": "#2ca02c" if h["found"] else "#d62728",
               "opacity": 0.2, "line": {"width": 0}}
              for h in result.get("highlight_list") or []]
    hits = [s for s in spikes if s["hit"]]
    misses = [s for s in spikes if not s["hit"]]
    return [{"data": [{"x": [s["offset"] for s in group], "y": [s["strength"] for s in group],
                       "mode": "markers", "name": name}
                      for group, name in ((hits, "spike in a highlight"),
                                          (misses, "spike outside"))],
             "layout": {"title": {"text": "Chat spikes and highlights (green: found, red: missed)"},
                        "xaxis": {"title": {"text": "seconds into the log"}},
                        "yaxis": {"title": {"text": "spike strength"}}, "shapes": shapes}}]


def face_figures(result: dict[str, Any]) -> list[Figure]:
    """The confusion matrix (label down, guess across) and each label's vote share."""
    confusion: dict[str, dict[str, int]] = result.get("confusion") or {}
    labels = list(confusion)
    guesses = sorted({g for row in confusion.values() for g in row})
    shares: dict[str, float] = result.get("vote_share") or {}
    return [
        {"data": [{"type": "heatmap", "x": guesses, "y": labels, "colorscale": "Blues",
                   "z": [[confusion[label].get(g, 0) for g in guesses] for label in labels]}],
         "layout": {"title": {"text": f"Confusion (accuracy {result.get('accuracy')})"},
                    "xaxis": {"title": {"text": "read as"}},
                    "yaxis": {"title": {"text": "labelled"}}}},
        {"data": [{"type": "bar", "x": list(shares), "y": [shares[k] for k in shares]}],
         "layout": {"title": {"text": "Share of each label's faces that cast the face vote"},
                    "yaxis": {"range": [0, 1]}}},
    ]


def asr_figures(result: dict[str, Any]) -> list[Figure]:
    """Each file's word error rate, streaming beside one pass over the whole file."""
    rows = result.get("file_list") or []
    names = [r["file"] for r in rows]
    return [{"data": [{"type": "bar", "name": "streaming", "x": names,
                       "y": [r["wer_streaming"] for r in rows]},
                      {"type": "bar", "name": "whole file", "x": names,
                       "y": [r["wer_whole_file"] for r in rows]}],
             "layout": {"title": {"text": f"Word error rate (streaming "
                                          f"{result.get('wer_streaming')}, whole file "
                                          f"{result.get('wer_whole_file')})"},
                        "barmode": "group", "yaxis": {"title": {"text": "WER"}}}}]


def _shown(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return "-" if value is None else str(value)
