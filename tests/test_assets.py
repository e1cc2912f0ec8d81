"""The scripts served to the browser: the plotly.js bundle matches the plotly package."""

from __future__ import annotations

import asyncio
import re
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import plotly

from dashboard import assets

FULL_BUNDLE = Path(plotly.__file__).resolve().parent / "package_data" / "plotly.min.js"


def _version(text: str) -> str:
    return re.search(r"plotly\.js(?: \([^)]*\))? v(\d+\.\d+\.\d+)", text[:500]).group(1)


def test_the_served_bundle_is_the_plotly_packages_version():
    # An upgrade of plotly must bring the basic bundle of its plotly.js along.
    assert _version(assets.read_text("plotly.min.js")) == _version(FULL_BUNDLE.read_text())


def test_the_served_bundle_has_every_trace_type_the_view_draws():
    view = assets.read_text("fit_view.js")
    used = set(re.findall(r'type: "([a-z0-9]+)"', view))
    # plotly.js-basic-dist carries bar, pie and scatter (dashboard/static/vendor/README.md).
    assert used and used <= {"scatter", "bar", "pie"}


PAGE = b"<html><head><title>Streamlit</title></head><body></body></html>"


def _serve_through_preload(content_type: bytes, request_headers: list[tuple[bytes, bytes]]):
    """What PreloadFigureScripts passes on for a page served in two chunks, and the
    request headers the page's server saw."""
    seen, sent = {}, []

    async def page_server(scope, receive, send):
        seen["headers"] = dict(scope["headers"])
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", content_type),
                                (b"content-length", str(len(PAGE)).encode())]})
        await send({"type": "http.response.body", "body": PAGE[:20], "more_body": True})
        await send({"type": "http.response.body", "body": PAGE[20:]})

    async def receive():
        return {"type": "http.request", "body": b""}

    async def send(message):
        sent.append(message)

    scope = {"type": "http", "method": "GET", "path": "/", "headers": request_headers}
    # A thread of its own: an earlier test in the session may leave an event loop
    # running in this one (asyncio.run refuses to start inside it).
    with ThreadPoolExecutor(1) as thread:
        thread.submit(asyncio.run,
                      assets.PreloadFigureScripts(page_server)(scope, receive, send)).result()
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return seen["headers"], dict(sent[0]["headers"]), body


PAGE_LOAD = [(b"sec-fetch-dest", b"document"), (b"accept-encoding", b"gzip, br")]


def test_a_page_load_gets_plotly_and_the_figures_script_in_its_head():
    seen, headers, body = _serve_through_preload(b"text/html; charset=utf-8", PAGE_LOAD)
    head = body.split(b"</head>")[0].decode()
    assert f'<script defer src="{assets.asset_url("plotly.min.js")}"' in head
    assert f'<link rel="modulepreload" href="{assets.asset_url("fit_view.js")}">' in head
    assert body.endswith(b"</head><body></body></html>")
    assert int(headers[b"content-length"]) == len(body)
    assert b"accept-encoding" not in seen  # asked uncompressed, so it can be edited


def test_other_requests_and_other_content_pass_unchanged():
    for content_type, request in ((b"text/html", [(b"sec-fetch-dest", b"script")]),
                                  (b"text/html", []),
                                  (b"text/csv", PAGE_LOAD)):
        _, headers, body = _serve_through_preload(content_type, request)
        assert body == PAGE
        assert headers[b"content-length"] == str(len(PAGE)).encode()
