"""The rows a fit used: which rows of the data set they are, and the component each one
belongs to.

A fit's trace keeps responsibilities for a display sample only, and the fitted matrix
leaves out rows with a NaN or infinite value; the data page and the downloads need
every fitted row, placed back in the data set.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from dashboard import cache
from dashboard.pipeline import FitOutcome
from gmm_core import FitRequest
from gmm_core.datasets import Dataset
from gmm_core.notebook import notebook_responsibilities

LABEL_ENTRIES = 16


def data_key(request: FitRequest, fingerprint: str) -> tuple:
    """What decides the fitted matrix: the data set and how its columns are prepared."""
    return (fingerprint, request.dataset, request.dataset_params, request.features,
            request.standardize)


def fitted_rows(dataset: Dataset, columns, n_fitted: int) -> np.ndarray:
    """Positions in ``dataset`` of the ``n_fitted`` rows of the fitted matrix (in order):
    those whose ``columns`` are all finite."""
    rows = np.flatnonzero(dataset.finite_rows(columns))
    if len(rows) != n_fitted:
        raise ValueError(f"the fit has {n_fitted} rows but {dataset.title} has {len(rows)} "
                         f"finite rows in {', '.join(columns)}")
    return rows


def row_labels(outcome: FitOutcome, X) -> np.ndarray:
    """Every fitted row's most responsible component (for the notebook replay, the
    notebook's own ``predict``: see ``row_responsibilities``)."""
    if outcome.model is not None:
        return outcome.model.predict(X)
    return row_responsibilities(outcome, X).argmax(axis=1)


def row_responsibilities(outcome: FitOutcome, X) -> np.ndarray:
    """Every fitted row's responsibilities ``(n, k)``. For the notebook replay, whose
    trace keeps a display sample only, they are computed again from its final
    parameters by the notebook's rule, π·pdf / (Σ π·pdf + ε) in probability space
    (``gmm_core.notebook.notebook_responsibilities``)."""
    if outcome.model is not None:
        return outcome.model.predict_proba(X)
    return notebook_responsibilities(X, outcome.trace)


@st.cache_data(max_entries=LABEL_ENTRIES, ttl=cache.TTL, show_spinner=False)
def cluster_labels(request: FitRequest, fingerprint: str) -> pd.Series:
    """The component of every fitted row, indexed by the row's position in the data set."""
    dataset = cache.dataset(request.dataset, request.dataset_params)
    prepared = cache.prepared(request)
    labels = row_labels(cache.fit(request, fingerprint), prepared.X)
    rows = fitted_rows(dataset, prepared.columns, len(prepared.X))
    return pd.Series(labels, index=rows, name="cluster")
