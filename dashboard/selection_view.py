"""The model-selection page: a sweep over k and mclust's covariance models on the current
data, its progress, its chart of BIC, ICL or AIC (as mclust draws one), mclust's "top 3
models" and its tables.

The sweep fits with the sidebar's start, seed, tolerance, regularization, iteration
limit and noise component (and scikit-learn's stopping rule), so with one start per fit
the best model opens on the Explore page as the sweep fitted it. Finished fits
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

from dashboard import cache, controls
from dashboard.figures import component_colors
from dashboard.fitted_rows import data_key
from dashboard.query_state import K_RANGE
from gmm_core import FitRequest
from gmm_core.model_names import (
    DIAGONAL,
    ELLIPSOIDAL,
    MODELS,
    SPHERICAL,
    UNIVARIATE,
    covariance_type_of,
    family,
    label,
    models_for,
)
from gmm_core.request import MCLUST_UNIVARIATE
from gmm_core.selection import SweepResult, sweep
from gmm_core.selection import top_models as sweep_top

DATA_ENTRIES = 8  # data sets (or feature choices) whose fits are kept
N_INIT_RANGE = (1, 20)
# mclust's criteria, in the order it prints them (every one: lower is better here).
CRITERION_TITLES = {"bic": "BIC", "icl": "ICL", "aic": "AIC"}
TOP = 3  # mclust's summary names the three best models
# As mclust, each model has its own symbol and colour (the Explore page's palette, which
# repeats after its 9 or 12 colours) and, here, its family's dash: no two models of a
# family share a colour, and no two models a symbol. A family's colours stay 20 apart
# (CIEDE2000) in the colour-blind safe palette; Plotly's puts some closer (blue and
# purple), and the symbols tell those apart (tests/test_palettes.py).
ALL_MODELS = (*MODELS, *MCLUST_UNIVARIATE)
MODEL_SYMBOLS = dict(zip(ALL_MODELS, (
    "circle", "square", "diamond", "cross", "x", "triangle-up", "triangle-down",
    "triangle-left", "triangle-right", "pentagon", "hexagon", "hexagram",
    "star-triangle-up", "hourglass", "bowtie", "diamond-wide"), strict=True))
FAMILY_DASHES = {SPHERICAL: "dot", DIAGONAL: "dash", ELLIPSOIDAL: "solid", UNIVARIATE: "solid"}
SINGULAR_HOVER_WIDTH = 60  # characters per line of a singular fit's reason on hover
BEST_MARKER = {"symbol": "star", "size": 20, "color": "gold",
               "line": {"color": "black", "width": 1.5}}


def model_style(covariance_type: str, palette: str = "plotly") -> dict:
    """The colour, marker symbol and line dash of a model's line in the sweep's chart
    (VVV's are full's: the same model)."""
    model = covariance_type_of(covariance_type)
    colors = component_colors(len(ALL_MODELS), palette)
    return {"color": colors[ALL_MODELS.index(model)], "symbol": MODEL_SYMBOLS[model],
            "dash": FAMILY_DASHES[family(model)]}


@dataclass(frozen=True)
class SweepRequest:
    """What the page's form asks for: k = 1…k_max for each of the covariance models (by
    default all of mclust's 14, as ``mclustBIC`` sweeps; E and V on one feature)."""

    k_max: int = 8
    covariance_types: tuple[str, ...] = MODELS
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


def form_state(n_features: int) -> tuple[str, ...]:
    """Start the form on the default sweep, keep its values across pages, and return the
    models the form offers for data of ``n_features``; a choice made for data of another
    number of features (E and V against the 14) becomes all the models of this data."""
    controls.keep_across_pages(FORM_KEYS)
    models = models_for(n_features)
    default = SweepRequest(covariance_types=models)
    for key, name in FORM_KEYS.items():
        value = getattr(default, name)
        st.session_state.setdefault(key, list(value) if isinstance(value, tuple) else value)
    chosen = st.session_state["sweep_types"]
    kept = [model for model in chosen if model in models]
    st.session_state["sweep_types"] = kept if kept or not chosen else list(models)
    return models


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
    seed, tolerance, regularization, iteration limit and noise component; fits already
    made are reused."""
    return sweep(cache.prepared(request).X, k_values=range(1, wanted.k_max + 1),
                 covariance_types=wanted.covariance_types, n_init=wanted.n_init,
                 seed=request.seed, tol=request.tol, reg_covar=request.reg_covar,
                 max_iters=request.max_iters, init=request.init, noise=request.noise,
                 progress=progress,
                 cache=_finished_fits(data_key(request, fingerprint)))


# ---------------------------------------------------------------- what the page shows
def sweep_figure(result: SweepResult, criterion: str = "bic",
                 palette: str = "plotly") -> go.Figure:
    """The criterion against k, one line per model as mclust plots them (lower is better
    here, scikit-learn's sign), the best model marked with a star."""
    table, name = result.table, CRITERION_TITLES[criterion]
    figure = go.Figure()
    for covariance_type, rows in table.groupby("covariance_type", sort=False):
        singular = rows["singular"] != ""
        style, model = model_style(covariance_type, palette), label(covariance_type)
        figure.add_trace(go.Scatter(
            x=rows["k"], y=rows[criterion], mode="lines+markers", name=model,
            line={"color": style["color"], "dash": style["dash"]},
            # Hollow: a singular fit, drawn but never chosen.
            marker={"symbol": [f"{style['symbol']}-open" if s else style["symbol"]
                               for s in singular],
                    "size": [12 if s else 9 for s in singular]},
            customdata=["<br>singular, never chosen: " + "<br>".join(
                textwrap.wrap(why, SINGULAR_HOVER_WIDTH)) if why else ""
                for why in rows["singular"]],
            hovertemplate=f"{model}, k = %{{x}}<br>{name} %{{y:,.1f}}%{{customdata}}"
                          "<extra></extra>"))
    k, covariance_type = result.best(criterion)
    best = table[(table["k"] == k) & (table["covariance_type"] == covariance_type)]
    figure.add_trace(go.Scatter(
        x=best["k"], y=best[criterion], mode="markers", marker=BEST_MARKER,
        name=f"best by {name}", showlegend=False,
        hovertemplate=f"best by {name}: {label(covariance_type)}, k = {k}<extra></extra>"))
    figure.update_xaxes(title_text="number of components k", dtick=1)
    figure.update_yaxes(title_text=f"{name} (lower is better)")
    figure.update_layout(height=480, legend={"title": {"text": "model"}},
                         margin={"l": 10, "r": 10, "t": 30, "b": 10}, hovermode="closest")
    return figure


def criterion_table(result: SweepResult, criterion: str = "bic") -> pd.DataFrame:
    """The criterion as a k x model table, one row per k, models under mclust's names."""
    return result.by_type(criterion).rename(columns=label).rename_axis(columns="model")


def best_summary(result: SweepResult, criterion: str = "bic") -> str:
    k, covariance_type = result.best(criterion)
    row = result.table.set_index(["k", "covariance_type"]).loc[(k, covariance_type)]
    name = CRITERION_TITLES[criterion]
    return (f"Lowest {name}: k = {k} with {label(covariance_type)} covariance "
            f"({name} {row[criterion]:,.1f}, log-likelihood {row['mean_loglik']:.4f} per point)")


def top_models(result: SweepResult, criterion: str = "bic", n: int = TOP) -> pd.DataFrame:
    """mclust's "Top 3 models" (``gmm_core.selection.top_models``), the criterion's
    column under its name ("BIC")."""
    return sweep_top(result, criterion, n).rename(columns=CRITERION_TITLES)


def singular_fits(result: SweepResult) -> list[str]:
    """The singular fits, as "VVV (full) at k = 7"."""
    return _fit_names(result.table[result.table["singular"] != ""])


def unconverged(result: SweepResult) -> list[str]:
    """The fits that stopped at the iteration cap, as "VVI (diag) at k = 3"."""
    return _fit_names(result.table[~result.table["converged"].astype(bool)])


def _fit_names(rows: pd.DataFrame) -> list[str]:
    return [f"{label(t)} at k = {k}"
            for k, t in zip(rows["k"], rows["covariance_type"], strict=True)]
