"""The Large catalog page: a catalog the server is configured with, fitted on a Dask
cluster with a progress bar, drawn as a sample with the fitted ellipses.

The server names the catalog in ``$GMM_CATALOG`` (a Parquet file, directory or glob, a
CSV glob or a Zarr group) and the cluster in ``$DASK_SCHEDULER_ADDRESS`` (else two local worker
processes). This process holds the catalog's metadata, a sample of rows to draw and the
fitted parameters, never the table: the fit's passes run on the workers.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from dashboard.cache import TTL
from dashboard.figures import EQUAL, component_colors, data_axes, outline_xy
from dashboard.plain_text import plotly_plain
from gmm_core import GMM
from gmm_core.catalog import Catalog, catalog_files, open_catalog
from gmm_core.distributed import SCHEDULER_ADDRESS, connect
from gmm_core.geometry import ellipse_outlines

CATALOG_ENV = "GMM_CATALOG"
SAMPLE_ROWS = 2_000  # rows drawn on the figure
FIT_ENTRIES = 16
_log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CatalogRequest:
    columns: tuple[str, str]
    k: int = 3
    covariance_type: str = "full"
    seed: int = 42
    tol: float = 1e-3
    max_iters: int = 100

    def model(self, on_iteration=None) -> GMM:
        return GMM(k=self.k, covariance_type=self.covariance_type, seed=self.seed,
                   tol=self.tol, max_iters=self.max_iters, trace_points=SAMPLE_ROWS,
                   on_iteration=on_iteration)


def configured_source() -> str | None:
    return os.environ.get(CATALOG_ENV) or None


def report(exc: BaseException) -> None:
    """Log why the catalog failed: its message names the server's files and cluster,
    which the page does not show."""
    _log.error("Large catalog %s: %s", configured_source(), exc, exc_info=exc)


def scheduler_address() -> str | None:
    return os.environ.get(SCHEDULER_ADDRESS) or None


def catalog_stamp(source: str) -> str:
    """Changes when a file of the catalog is added, removed or rewritten."""
    files, _ = catalog_files(source)
    stats = [(name, stat.st_size, stat.st_mtime_ns)
             for name, stat in ((name, Path(name).stat()) for name in files)]
    return hashlib.sha256(repr(stats).encode()).hexdigest()[:16]


@functools.cache  # not st.cache_resource: it refuses a Client, which is awaitable
def cluster(address: str | None):
    """One client per server and scheduler: the default client every fit runs on."""
    return connect(address)


def workers() -> int:
    return len(cluster(scheduler_address()).scheduler_info()["workers"])


@st.cache_resource(max_entries=8, ttl=TTL, show_spinner="Reading the catalog's columns…")
def catalog(source: str, stamp: str, columns: tuple[str, ...]) -> Catalog:
    del stamp  # the cache key only
    cluster(scheduler_address())
    return open_catalog(source, columns)


@st.cache_resource(max_entries=8, ttl=TTL, show_spinner="Drawing a sample of the catalog…")
def sample(source: str, stamp: str, columns: tuple[str, ...]) -> np.ndarray:
    return catalog(source, stamp, columns).sample(SAMPLE_ROWS)


# A resource, not data: the progress bar is drawn while fitting, which a cached function
# may not do, so finished fits are kept in a mapping instead.
@st.cache_resource(ttl=TTL)
def _finished_fits() -> dict:
    return {}


def fit(request: CatalogRequest, source: str, stamp: str, progress=None) -> GMM:
    """The fitted model, from the finished fits or fitted now on the cluster."""
    fits = _finished_fits()
    key = (request, source, stamp)
    if key not in fits:
        rows = catalog(source, stamp, request.columns).rows
        fits[key] = request.model(progress).fit(rows)
        while len(fits) > FIT_ENTRIES:
            del fits[next(iter(fits))]
    return fits[key]


class FitProgress:
    """Feeds ``GMM(on_iteration=…)`` into a st.progress bar."""

    def __init__(self, max_iters: int):
        self.max_iters = max_iters
        self.bar = st.progress(0.0, text="Fitting on the cluster…")

    def __call__(self, iteration: int, mean_log_likelihood: float) -> None:
        self.bar.progress(iteration / self.max_iters,
                          text=f"Iteration {iteration}: mean log-likelihood "
                               f"{mean_log_likelihood:.6g}")

    def clear(self) -> None:
        self.bar.empty()


def catalog_figure(points: np.ndarray, model: GMM, columns: tuple[str, str],
                   aspect: str = EQUAL) -> go.Figure:
    """The sample coloured by its most likely component, with 1- and 2-sigma ellipses;
    true to scale unless ``aspect`` is ``FILL`` (``dashboard.figures.data_axes``)."""
    colors = component_colors(model.k)
    labels = model.predict(points)
    outlines = ellipse_outlines(model.means_, model.trace_.covariances[-1], levels=(1, 2))
    figure = go.Figure()
    figure.add_trace(go.Scattergl(
        x=points[:, 0], y=points[:, 1], mode="markers", name="sample",
        marker={"color": [colors[label] for label in labels], "size": 4, "opacity": 0.6},
        hovertemplate="%{x:.4g}, %{y:.4g}<extra></extra>"))
    for component, outline in enumerate(outlines):
        x, y = outline_xy(outline)
        figure.add_trace(go.Scatter(x=x, y=y, mode="lines", name=f"component {component}",
                                    line={"color": colors[component], "width": 2}))
    x_scale, y_scale = data_axes(aspect)
    figure.update_layout(height=560, margin={"l": 10, "r": 10, "t": 30, "b": 10},
                         xaxis={"title": {"text": plotly_plain(columns[0])}, **x_scale},
                         yaxis={"title": {"text": plotly_plain(columns[1])}, **y_scale})
    return figure
