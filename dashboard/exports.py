"""The Explore page's downloads: labels and responsibilities (CSV), the fitted parameters
(JSON), and the animated figure as a standalone web page (HTML), with the pairs plot
under it for a fit in more than two features.

Each payload is a function of what the page already holds, called only when its button
is clicked (Streamlit's deferred downloads), so the page never builds a file nobody asks
for.
"""

from __future__ import annotations

import base64
import html
import json
import re

import plotly.graph_objects as go
import plotly.io as pio

from dashboard import assets
from dashboard.figures import PLOTLY_CONFIG
from dashboard.fitted_rows import fitted_rows, row_responsibilities
from dashboard.pipeline import FitOutcome, PreparedData
from gmm_core import FitRequest
from gmm_core.datasets import Dataset
from gmm_core.export import labels_csv, parameters_json
from gmm_core.noise import labels_from_responsibilities


def file_stem(request: FitRequest) -> str:
    """``gmm_iris_k3_full``: what was fitted, safe as a file name."""
    method = "notebook" if request.algorithm == "notebook" else request.covariance_type
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", f"gmm_{request.dataset}_k{request.k}_{method}")


LABELS_HELP = ("Every fitted row: its number in the data set (rows left out of the fit "
               "are gaps), its features, its component and its responsibilities.")
REPLAY_LABELS_HELP = (LABELS_HELP + " For the notebook's algorithm they come from its final "
                      "parameters by its own rule, π·pdf / (Σ π·pdf + ε): a row with zero "
                      "density under every component has responsibilities 0 and component "
                      "0, as the notebook's predict gives.")


def labels_help(outcome: FitOutcome) -> str:
    return LABELS_HELP if outcome.model is not None else REPLAY_LABELS_HELP


def labels_csv_text(dataset: Dataset, prepared: PreparedData, outcome: FitOutcome) -> str:
    """One line per fitted row: its number in the data set (``Dataset.row_numbers``: an
    uploaded file's data rows as its notes number them), its features as the data set
    holds them (before any standardizing), its component (``label``) and its
    responsibilities (for the notebook replay, by the notebook's own rule:
    ``fitted_rows.row_responsibilities``)."""
    responsibilities = row_responsibilities(outcome, prepared.X)
    rows = fitted_rows(dataset, prepared.columns, len(prepared.X))
    features = dataset.frame.iloc[rows][list(prepared.columns)]
    noise = outcome.trace.has_noise
    return labels_csv(features, responsibilities,
                      labels_from_responsibilities(responsibilities, noise),
                      rows=dataset.row_numbers[rows], noise=noise)


def parameters_json_text(request: FitRequest, prepared: PreparedData,
                         outcome: FitOutcome) -> str:
    """Weights, means and covariances (in the fitted units, i.e. standardized if the
    request says so), the fit's summary and events, BIC and AIC, the request, and the
    standardization that maps the data's units to the fitted ones."""
    if outcome.model is None:
        return parameters_json(outcome.trace, request, prepared.preprocessing)
    return parameters_json(outcome.model, request, prepared.preprocessing, X=prepared.X)


_PAIRS = """<h2>Classification across every dimension</h2>
<div id="pairs"></div>
<script>
{{ const figure = {figure};
  window.Plotly.newPlot("pairs", figure.data, figure.layout, {config}); }}
</script>
"""

_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{title}</title>
<style>body {{ font-family: sans-serif; margin: 1rem 2rem; }}
{css}</style>
<script>{plotly_js}</script>
<script>globalThis.gmmExplorerPlotly = window.Plotly;</script>
</head>
<body>
<h1>{title}</h1>
<div id="figure"></div>
<script type="module">
{view_js}
mountStandalone(document.getElementById("figure"), {payload});
</script>
{pairs}</body>
</html>
"""


def _script_json(value: str) -> str:
    """JSON that cannot end the <script> it sits in."""
    return value.replace("</", "<\\/")


def animation_html(payload: bytes, title: str, pairs: go.Figure | None = None) -> str:
    """The animation as a web page that works offline: plotly.js and the page's own
    drawing script inside, the payload (with its points) as base64; no autoplay.
    ``pairs``, the pairs plot (``dashboard.pairs_plot``), is drawn under it."""
    pairs_html = "" if pairs is None else _PAIRS.format(
        figure=_script_json(pio.to_json(pairs, validate=False)),
        config=json.dumps(PLOTLY_CONFIG))
    return _PAGE.format(
        title=html.escape(title), css=assets.read_text("fit_view.css"),
        plotly_js=assets.read_text("plotly.min.js"), view_js=assets.read_text("fit_view.js"),
        payload=json.dumps(base64.b64encode(payload).decode("ascii")), pairs=pairs_html)
