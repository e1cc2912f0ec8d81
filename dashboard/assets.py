"""The scripts the Explore page's figures run in the browser, served by ``app.py``.

``fit_view.js`` (``dashboard/static``) draws the figures with Plotly.js, served from here
so nothing is fetched from the internet. It draws only scatter and bar traces, so it gets
plotly.js's "basic" bundle (npm ``plotly.js-basic-dist-min``, kept in
``dashboard/static/vendor``): 1.2 MB where the full bundle in the plotly package is 4.8 MB,
and a first visit's browser fetches and compiles a quarter of the code. Its version is
the plotly package's own plotly.js (``tests/test_assets.py`` checks). Addresses carry a
digest of what they serve, so a browser may cache them for good and never runs a stale
copy after an upgrade.
"""

from __future__ import annotations

import functools
import hashlib
from pathlib import Path

import streamlit as st
from starlette.requests import Request
from starlette.responses import FileResponse, PlainTextResponse, Response
from starlette.routing import Route

STATIC = Path(__file__).resolve().parent / "static"
FILES = {"fit_view.js": STATIC / "fit_view.js", "fit_view.css": STATIC / "fit_view.css",
         "plotly.min.js": STATIC / "vendor" / "plotly-basic.min.js"}
MEDIA_TYPES = {".js": "text/javascript", ".css": "text/css"}
ROUTE_PREFIX = "gmm-assets"
CACHE_FOREVER = "public, max-age=31536000, immutable"


def _prefix() -> str:
    base = (st.get_option("server.baseUrlPath") or "").strip("/")
    return f"/{base}/{ROUTE_PREFIX}" if base else f"/{ROUTE_PREFIX}"


@functools.cache
def version() -> str:
    """A digest of the served files: part of every address, so caches stay right."""
    digest = hashlib.blake2b(digest_size=8)
    for path in FILES.values():
        digest.update(path.read_bytes())
    return digest.hexdigest()


def asset_url(name: str) -> str:
    """The address of one served file, e.g. ``/gmm-assets/fit_view.js?v=…``."""
    return f"{_prefix()}/{name}?v={version()}"


async def _serve(request: Request) -> Response:
    path = FILES.get(request.path_params["name"])
    if path is None:
        return PlainTextResponse("not found", status_code=404)
    return FileResponse(path, media_type=MEDIA_TYPES[path.suffix],
                        headers={"Cache-Control": CACHE_FOREVER})


def asset_routes() -> list[Route]:
    """The routes ``st.App`` mounts beside Streamlit's own."""
    return [Route(f"{_prefix()}/{{name}}", _serve, methods=["GET"])]


@functools.cache
def read_text(name: str) -> str:
    """A served file's text (for what inlines it: the component's style, the offline
    HTML export)."""
    return FILES[name].read_text(encoding="utf-8")
