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
from starlette.datastructures import MutableHeaders
from starlette.requests import Request
from starlette.responses import FileResponse, PlainTextResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

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


def _preload_tags() -> bytes:
    # ``defer``: run once the page is parsed, after Streamlit's own module script, so
    # Streamlit starts first. fit_view.js then finds plotly.js loaded.
    plotly = asset_url("plotly.min.js")
    return (f'<link rel="modulepreload" href="{asset_url("fit_view.js")}">'
            f'<script defer src="{plotly}" onload="performance.mark(\'gmm-plotly-loaded\')">'
            "</script>").encode()


class PreloadFigureScripts:
    """ASGI middleware (``app.py``): Streamlit's HTML page gets plotly.js and the figure's
    script in its ``<head>``. A new tab then compiles plotly.js while Streamlit starts and
    the server runs the page, when the browser has little else to do, instead of after
    the figure's payload has arrived behind the rest of the page. Only page loads
    (``Sec-Fetch-Dest: document``) that answer with HTML are edited; they are asked for
    uncompressed (a few KB, on the loopback or a proxy that compresses anyway)."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (scope["type"] != "http"
                or dict(scope["headers"]).get(b"sec-fetch-dest") != b"document"):
            await self.app(scope, receive, send)
            return
        scope = {**scope, "headers": [(name, value) for name, value in scope["headers"]
                                      if name != b"accept-encoding"]}
        start: Message = {}
        page = bytearray()

        async def edit_html(message: Message) -> None:
            if message["type"] == "http.response.start":
                if not MutableHeaders(raw=message["headers"]).get(
                        "content-type", "").startswith("text/html"):
                    await send(message)  # anything else passes as it comes
                    return
                start.update(message)
                return
            if not start or message["type"] != "http.response.body":
                await send(message)
                return
            page.extend(message.get("body", b""))
            if message.get("more_body"):
                return
            body = bytes(page).replace(b"</head>", _preload_tags() + b"</head>", 1)
            headers = MutableHeaders(raw=list(start["headers"]))
            headers["content-length"] = str(len(body))
            await send({**start, "headers": headers.raw})
            await send({"type": "http.response.body", "body": body})

        await self.app(scope, receive, edit_html)
