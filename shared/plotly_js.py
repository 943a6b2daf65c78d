"""Where Plotly.js lies on this machine: in the installed `plotly` Python package. The
dashboard and the HTML reports use it from there, never from a CDN, so they work offline."""

from __future__ import annotations

import importlib.util
from pathlib import Path

PLOTLY_JS = Path("package_data") / "plotly.min.js"


def plotly_js_path() -> Path | None:
    """Where the `plotly` package keeps plotly.min.js (found without importing plotly)."""
    spec = importlib.util.find_spec("plotly")
    for folder in (spec.submodule_search_locations or []) if spec else []:
        candidate = Path(folder) / PLOTLY_JS
        if candidate.is_file():
            return candidate
    return None
