"""The Explore page's downloads: labels and responsibilities (CSV), the fitted parameters
(JSON), and the animated figure as a standalone web page (HTML).

Each payload is a function of what the page already holds, called only when its button
is clicked (Streamlit's deferred downloads), so the page never builds a file nobody asks
for.
"""

from __future__ import annotations

import re

import plotly.graph_objects as go

from dashboard.fitted_rows import fitted_rows, row_labels, row_responsibilities
from dashboard.pipeline import FitOutcome, PreparedData
from gmm_core import FitRequest
from gmm_core.datasets import Dataset
from gmm_core.export import labels_csv, parameters_json


def file_stem(request: FitRequest) -> str:
    """``gmm_iris_k3_full``: what was fitted, safe as a file name."""
    method = "notebook" if request.algorithm == "notebook" else request.covariance_type
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", f"gmm_{request.dataset}_k{request.k}_{method}")


def labels_csv_text(dataset: Dataset, prepared: PreparedData, outcome: FitOutcome) -> str:
    """One line per fitted row: its features as the data set holds them (before any
    standardizing), its component (``label``) and its responsibilities. ValueError for
    the notebook replay, which has no model to give every row's responsibilities."""
    responsibilities = row_responsibilities(outcome, prepared.X)
    if responsibilities is None:
        raise ValueError("the notebook replay keeps responsibilities for a display "
                         "sample only")
    rows = fitted_rows(dataset, prepared.columns, len(prepared.X))
    features = dataset.frame.iloc[rows][list(prepared.columns)]
    return labels_csv(features, responsibilities, row_labels(outcome, prepared.X))


def parameters_json_text(request: FitRequest, prepared: PreparedData,
                         outcome: FitOutcome) -> str:
    """Weights, means and covariances (in the fitted units, i.e. standardized if the
    request says so), the fit's summary and events, BIC and AIC, and the request."""
    if outcome.model is None:
        return parameters_json(outcome.trace, request)
    return parameters_json(outcome.model, request, X=prepared.X)


def figure_html(figure: go.Figure) -> str:
    """The figure as a web page that works offline: plotly.js inside, no autoplay."""
    return figure.to_html(include_plotlyjs=True, full_html=True, auto_play=False)
