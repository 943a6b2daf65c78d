"""The dashboard: one HTML page, a small JS file, a style sheet, and Plotly.js.

Plotly.js comes from the installed `plotly` Python package (never from a CDN), so the page works
with no internet.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, HTTPException
from fastapi.responses import FileResponse, Response

from shared.plotly_js import plotly_js_path

STATIC_DIR = Path(__file__).resolve().parent / "static"

router = APIRouter(include_in_schema=False)


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
