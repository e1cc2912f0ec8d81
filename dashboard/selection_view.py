"""The model-selection page: a BIC/AIC sweep over k and covariance types on the current
data, its progress, its chart (as mclust draws one) and its table.

The sweep fits with the sidebar's start, seed, tolerance, regularization and iteration
limit (and scikit-learn's stopping rule), so with one start per fit the best model opens
on the Explore page as the sweep fitted it. Finished fits
are kept per data set in a shared mapping (``gmm_core.selection.sweep(cache=...)``):
running the same sweep again, or a wider one, fits only what is new. A ``st.cache_data``
around the whole sweep could not feed the progress bar (Streamlit refuses a cached
function that draws into an element made outside it), and would refit every k when only
``k_max`` grew.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass

import pandas as pd
import plotly.graph_objects as go
import streamlit as st
from plotly.subplots import make_subplots

from dashboard import cache, controls
from dashboard.figures import component_colors
from dashboard.fitted_rows import data_key
from dashboard.query_state import K_RANGE
from gmm_core import FitRequest
from gmm_core.request import COVARIANCE_TYPES
from gmm_core.selection import CRITERIA, SweepResult, sweep

DATA_ENTRIES = 8  # data sets (or feature choices) whose fits are kept
N_INIT_RANGE = (1, 20)
CRITERION_TITLES = {"bic": "BIC", "aic": "AIC"}
# mclust draws each model type with its own symbol as well as its own colour.
TYPE_SYMBOLS = dict(zip(COVARIANCE_TYPES, ("circle", "square", "diamond", "triangle-up"),
                        strict=True))
TYPE_COLORS = dict(zip(COVARIANCE_TYPES, component_colors(len(COVARIANCE_TYPES)), strict=True))
SINGULAR_HOVER_WIDTH = 60  # characters per line of a singular fit's reason on hover
BEST_MARKER = {"symbol": "star", "size": 20, "color": "gold",
               "line": {"color": "black", "width": 1.5}}


@dataclass(frozen=True)
class SweepRequest:
    """What the page's form asks for: k = 1…k_max for each of the covariance types."""

    k_max: int = 8
    covariance_types: tuple[str, ...] = COVARIANCE_TYPES
    n_init: int = 1

    def __post_init__(self):
        if not K_RANGE[0] <= int(self.k_max) <= K_RANGE[1]:
            raise ValueError(f"k_max must be a whole number from {K_RANGE[0]} to "
                             f"{K_RANGE[1]}; got {self.k_max}")
        if not self.covariance_types:
            raise ValueError("choose at least one covariance type")
        if not N_INIT_RANGE[0] <= int(self.n_init) <= N_INIT_RANGE[1]:
            raise ValueError(f"n_init must be a whole number from {N_INIT_RANGE[0]} to "
                             f"{N_INIT_RANGE[1]}; got {self.n_init}")


# ---------------------------------------------------------------- the form
# The form's widget keys, and a flag: once a sweep ran, the page shows the sweep of the
# form's values on every run (from the finished fits when nothing changed).
FORM_KEYS = {"sweep_k_max": "k_max", "sweep_types": "covariance_types",
             "sweep_n_init": "n_init"}
_SWEPT = "_sweep_swept"


def form_state() -> None:
    """Start the form on the default sweep, and keep its values across pages."""
    controls.keep_across_pages(FORM_KEYS)
    default = SweepRequest()
    for key, name in FORM_KEYS.items():
        value = getattr(default, name)
        st.session_state.setdefault(key, list(value) if isinstance(value, tuple) else value)


def wanted_sweep(submitted: bool) -> SweepRequest | None:
    """The sweep the form holds, or None before the first "Run"; ValueError if the form
    asks for no covariance type."""
    if submitted:
        st.session_state[_SWEPT] = True
    if not st.session_state.get(_SWEPT):
        return None
    values = {name: st.session_state[key] for key, name in FORM_KEYS.items()}
    values["covariance_types"] = tuple(values["covariance_types"])
    return SweepRequest(**values)


# ---------------------------------------------------------------- running the sweep
# A resource, not data: one mutable mapping per data set that the sweeps read and extend.
@st.cache_resource(max_entries=DATA_ENTRIES, ttl=cache.TTL)
def _finished_fits(key: tuple) -> dict:
    del key  # the cache key only
    return {}


class SweepProgress:
    """Feeds ``sweep(progress=…)`` into a st.progress bar."""

    def __init__(self):
        self.bar = st.progress(0.0, text="Fitting…")

    def __call__(self, done: int, total: int) -> None:
        self.bar.progress(done / total, text=f"Fitted {done} of {total} models")

    def clear(self) -> None:
        self.bar.empty()


def run_sweep(request: FitRequest, fingerprint: str, wanted: SweepRequest,
              progress=None) -> SweepResult:
    """The sweep of ``wanted`` on the data ``request`` fits, with ``request``'s start,
    seed, tolerance, regularization and iteration limit; fits already made are reused."""
    return sweep(cache.prepared(request).X, k_values=range(1, wanted.k_max + 1),
                 covariance_types=wanted.covariance_types, n_init=wanted.n_init,
                 seed=request.seed, tol=request.tol, reg_covar=request.reg_covar,
                 max_iters=request.max_iters, init=request.init, progress=progress,
                 cache=_finished_fits(data_key(request, fingerprint)))


# ---------------------------------------------------------------- what the page shows
def sweep_figure(result: SweepResult) -> go.Figure:
    """BIC and AIC against k, one line per covariance type (lower is better), the best
    model of each criterion marked with a star."""
    table = result.table
    figure = make_subplots(rows=1, cols=len(CRITERIA), horizontal_spacing=0.08,
                           subplot_titles=[f"{CRITERION_TITLES[c]} (lower is better)"
                                           for c in CRITERIA])
    for column, criterion in enumerate(CRITERIA, start=1):
        for covariance_type, rows in table.groupby("covariance_type", sort=False):
            singular = rows["singular"] != ""
            symbol = TYPE_SYMBOLS[covariance_type]
            figure.add_trace(go.Scatter(
                x=rows["k"], y=rows[criterion], mode="lines+markers", name=covariance_type,
                legendgroup=covariance_type, showlegend=column == 1,
                line={"color": TYPE_COLORS[covariance_type]},
                # Hollow: a singular fit, drawn but never chosen.
                marker={"symbol": [f"{symbol}-open" if s else symbol for s in singular],
                        "size": [12 if s else 8 for s in singular]},
                customdata=["<br>singular, never chosen: " + "<br>".join(
                    textwrap.wrap(why, SINGULAR_HOVER_WIDTH)) if why else ""
                    for why in rows["singular"]],
                hovertemplate=f"{covariance_type}, k = %{{x}}<br>{CRITERION_TITLES[criterion]}"
                              " %{y:,.1f}%{customdata}<extra></extra>"), row=1, col=column)
        k, covariance_type = result.best(criterion)
        best = table[(table["k"] == k) & (table["covariance_type"] == covariance_type)]
        figure.add_trace(go.Scatter(
            x=best["k"], y=best[criterion], mode="markers", marker=BEST_MARKER,
            name=f"best by {CRITERION_TITLES[criterion]}", showlegend=False,
            hovertemplate=f"best by {CRITERION_TITLES[criterion]}: k = {k}, {covariance_type}"
                          "<extra></extra>"), row=1, col=column)
        figure.update_xaxes(title_text="number of components k", dtick=1, row=1, col=column)
    figure.update_layout(height=450, legend={"title": {"text": "covariance type"}},
                         margin={"l": 10, "r": 10, "t": 40, "b": 10}, hovermode="closest")
    return figure


def criterion_table(result: SweepResult, criterion: str = "bic") -> pd.DataFrame:
    """The criterion as a k x covariance-type table, one row per k."""
    return result.by_type(criterion)


def best_summary(result: SweepResult, criterion: str = "bic") -> str:
    k, covariance_type = result.best(criterion)
    row = result.table.set_index(["k", "covariance_type"]).loc[(k, covariance_type)]
    name = CRITERION_TITLES[criterion]
    return (f"Lowest {name}: k = {k} with {covariance_type} covariance "
            f"({name} {row[criterion]:,.1f}, log-likelihood {row['mean_loglik']:.4f} per point)")


def singular_fits(result: SweepResult) -> list[str]:
    """The singular fits, as "k = 7 (full)"."""
    return _fit_names(result.table[result.table["singular"] != ""])


def unconverged(result: SweepResult) -> list[str]:
    """The fits that stopped at the iteration cap, as "k = 3 (diag)"."""
    return _fit_names(result.table[~result.table["converged"].astype(bool)])


def _fit_names(rows: pd.DataFrame) -> list[str]:
    return [f"k = {k} ({t})" for k, t in zip(rows["k"], rows["covariance_type"], strict=True)]

