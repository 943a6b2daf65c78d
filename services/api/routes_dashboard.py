"""The dashboard: one HTML page, a small JS file, a style sheet, and Plotly.js.

Plotly.js comes from the installed `plotly` Python package (never from a CDN), so the page works
with no internet.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

from fastapi import APIRouter, HTTPException
from fastapi.responses import FileResponse, Response

STATIC_DIR = Path(__file__).resolve().parent / "static"
PLOTLY_JS = Path("package_data") / "plotly.min.js"

router = APIRouter(include_in_schema=False)


def plotly_js_path() -> Path | None:
    """Where the `plotly` package keeps plotly.min.js (found without importing plotly)."""
    spec = importlib.util.find_spec("plotly")
    for folder in (spec.submodule_search_locations or []) if spec else []:
        candidate = Path(folder) / PLOTLY_JS
        if candidate.is_file():
            return candidate
    return None


@router.get("/")
async def page() -> FileResponse:
    return FileResponse(STATIC_DIR / "index.html", media_type="text/html; charset=utf-8",
                        headers={"Cache-Control": "no-cache"})


@router.get("/static/plotly.min.js")
async def plotly_js() -> FileResponse:
    path = plotly_js_path()
    if path is None:
        raise HTTPException(404, "the plotly Python package is not installed")
    return FileResponse(path, media_type="text/javascript; charset=utf-8",
                        headers={"Cache-Control": "max-age=86400"})


@router.get("/favicon.ico")
async def favicon() -> Response:
    return Response(status_code=204)
