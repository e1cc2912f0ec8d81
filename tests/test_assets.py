"""The scripts served to the browser: the plotly.js bundle matches the plotly package."""

from __future__ import annotations

import re
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
