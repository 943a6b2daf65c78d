"""The OpenAPI docs page (`/docs`), with Swagger UI served from the `fastapi-offline` package.

FastAPI's own docs page loads Swagger UI from a CDN, which fails on a machine with no internet.
When the package is missing, the app falls back to FastAPI's page (see `docs_assets`).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

from fastapi import APIRouter
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse

ASSETS_URL = "/docs-assets"
PACKAGE = "fastapi_offline"
STATIC = "static"

router = APIRouter(include_in_schema=False)


def docs_assets() -> Path | None:
    """The Swagger UI files inside `fastapi_offline` (found without importing it)."""
    spec = importlib.util.find_spec(PACKAGE)
    for folder in (spec.submodule_search_locations or []) if spec else []:
        candidate = Path(folder) / STATIC
        if (candidate / "swagger-ui-bundle.js").is_file():
            return candidate
    return None


@router.get("/docs")
async def docs() -> HTMLResponse:
    return get_swagger_ui_html(
        openapi_url="/openapi.json", title="Clip Live API",
        swagger_js_url=f"{ASSETS_URL}/swagger-ui-bundle.js",
        swagger_css_url=f"{ASSETS_URL}/swagger-ui.css", swagger_favicon_url="data:,")
