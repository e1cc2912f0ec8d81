"""Streamlit caches around the pipeline, keyed on the request and the data's fingerprint.

No array is ever hashed: a fit is keyed on the ``FitRequest`` (plain values) and the
data set's ``fingerprint``, and looks the data up in the data-set cache itself.
"""

from __future__ import annotations

import os

import streamlit as st

from dashboard.pipeline import (
    ComparisonOutcome,
    ExploreFigures,
    FitOutcome,
    PreparedData,
    build_figures,
    prepare_data,
    run_comparison,
    run_fit,
)
from gmm_core import FitRequest
from gmm_core.datasets import Dataset, load_dataset, sdss_file_path

TTL = "1h"
DATASET_ENTRIES = 4
FIT_ENTRIES = 64
FIGURE_ENTRIES = 16


def _source_stamp(name: str) -> str:
    """What identifies a data set's file on disk, so a new download is not served stale."""
    if name != "sdss":
        return ""
    try:
        stat = os.stat(sdss_file_path())
    except OSError:
        return "absent"
    return f"{sdss_file_path()}:{stat.st_size}:{stat.st_mtime_ns}"


# A resource, not data: the SDSS table is tens of MB, and st.cache_data would copy it on
# every rerun. The pages only read it.
@st.cache_resource(max_entries=DATASET_ENTRIES, ttl=TTL, show_spinner="Loading the data…")
def _dataset(name: str, params: tuple, source_stamp: str) -> Dataset:
    del source_stamp  # part of the cache key only
    return load_dataset(name, **dict(params))


def dataset(name: str, params: tuple = ()) -> Dataset:
    return _dataset(name, tuple(params), _source_stamp(name))


def prepared(request: FitRequest) -> PreparedData:
    """The matrix a request fits (cheap: the data set itself is cached)."""
    return prepare_data(dataset(request.dataset, request.dataset_params), request)


@st.cache_data(max_entries=FIT_ENTRIES, ttl=TTL, show_spinner="Fitting…")
def fit(request: FitRequest, fingerprint: str) -> FitOutcome:
    """Our fit of ``request``; ``fingerprint`` (the data set's) makes new data a new key."""
    return run_fit(prepared(request), request)


@st.cache_data(max_entries=FIT_ENTRIES, ttl=TTL, show_spinner="Fitting scikit-learn…")
def comparison(request: FitRequest, fingerprint: str) -> ComparisonOutcome:
    return run_comparison(prepared(request), request, fit(request, fingerprint))


# Figures are shared read-only objects: unpickling a Plotly figure (what st.cache_data
# would do on every rerun) costs more than building it.
@st.cache_resource(max_entries=FIGURE_ENTRIES, ttl=TTL, show_spinner="Drawing…")
def figures(request: FitRequest, fingerprint: str, color_by: str) -> ExploreFigures:
    return build_figures(prepared(request), fit(request, fingerprint),
                         comparison(request, fingerprint), color_by)
