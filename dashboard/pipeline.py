"""From a FitRequest to what the Explore page shows: the data prepared, our fit (or the
notebook's replay), scikit-learn's fit beside it, and the figures.

Plain functions without Streamlit, so tests and benchmarks call them directly;
``dashboard.cache`` wraps them in Streamlit's caches.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from dashboard.figures import (
    MAX_POINTS,
    FigureOptions,
    component_colors,
    fit_animation,
    matched_colors,
    mixture_figure,
    plot_data,
)
from gmm_core import GMM, FitRequest, FitTrace
from gmm_core.compare import Comparison, SklearnFit, compare_fits, fit_sklearn, match_components
from gmm_core.datasets import Dataset, DatasetError, preprocess
from gmm_core.notebook import explain_notebook_failure, fit_notebook


@dataclass(frozen=True)
class PreparedData:
    """The matrix a request fits: its columns' rows that are all finite, standardized if
    asked. ``X`` keeps the data set's dtype unless standardized (the notebook's float32)."""

    X: np.ndarray
    columns: tuple[str, ...]
    axis_titles: tuple[str, ...]
    notes: tuple[str, ...]


@dataclass(frozen=True)
class FitOutcome:
    """One fit's result. ``model`` is None for the notebook replay, which has no GMM."""

    trace: FitTrace
    model: GMM | None
    bic: float | None
    explanation: tuple[str, ...] = ()  # why the notebook replay went wrong, if it did


@dataclass(frozen=True)
class ComparisonOutcome:
    """scikit-learn's fit of the same data; ``comparison`` needs our GMM (EM only)."""

    theirs: SklearnFit
    permutation: np.ndarray  # scikit-learn component matched to each of ours
    comparison: Comparison | None


@dataclass(frozen=True)
class ExploreFigures:
    animation: object  # plotly Figure
    ours: object
    theirs: object


def prepare_data(dataset: Dataset, request: FitRequest) -> PreparedData:
    columns = tuple(dataset.check_columns(request.features))
    if len(columns) < 2:
        raise DatasetError("choose two features to plot (X and Y)")
    X = dataset.frame[list(columns)].to_numpy()
    notes = list(dataset.notes)
    finite = np.isfinite(X).all(axis=1)
    if not finite.all():
        if not finite.any():
            raise DatasetError(f"every row has a NaN or infinite value in {', '.join(columns)}")
        notes.append(f"{int((~finite).sum())} of {len(X)} rows with NaN or infinite values "
                     "were left out of the fit")
        X = X[finite]
    titles = [dataset.features[name].axis_title for name in columns]
    if request.standardize:
        X, preprocessing = preprocess(X, "standardize", columns)
        notes += preprocessing.notes
        titles = [f"{title} (standardized)" for title in titles]
    return PreparedData(X, columns, tuple(titles), tuple(notes))


def run_fit(prepared: PreparedData, request: FitRequest) -> FitOutcome:
    """Our EM fit, or the notebook's algorithm replayed when ``request.algorithm`` says so.

    Responsibilities are recorded for the rows the figure draws only.
    """
    if request.algorithm == "notebook":
        trace = fit_notebook(prepared.X, k=int(request.k), tol=float(request.tol),
                             max_iters=int(request.max_iters), seed=int(request.seed),
                             trace_points=MAX_POINTS)
        return FitOutcome(trace, None, None, tuple(explain_notebook_failure(trace)))
    model = GMM(**request.model_params(), trace_points=MAX_POINTS).fit(prepared.X)
    return FitOutcome(model.trace_, model, float(model.bic(prepared.X)))


def run_comparison(prepared: PreparedData, request: FitRequest,
                   outcome: FitOutcome) -> ComparisonOutcome:
    """scikit-learn's GaussianMixture with our k, tolerance, seed and limits (its own
    k-means start); the notebook replay is compared with a full-covariance fit, as the
    notebook did."""
    replay = outcome.model is None
    theirs = fit_sklearn(prepared.X, k=int(request.k),
                         covariance_type="full" if replay else request.covariance_type,
                         tol=float(request.tol), seed=int(request.seed),
                         reg_covar=float(request.reg_covar), max_iters=int(request.max_iters))
    if replay:
        permutation = match_components(outcome.trace.means[-1], theirs.means)
        return ComparisonOutcome(theirs, permutation, None)
    comparison = compare_fits(prepared.X, outcome.model, theirs, prepared.columns)
    return ComparisonOutcome(theirs, comparison.permutation, comparison)


def build_figures(prepared: PreparedData, outcome: FitOutcome, compared: ComparisonOutcome,
                  color_by: str = "responsibility") -> ExploreFigures:
    """The animation of our fit, and our final fit beside scikit-learn's on the same axes.
    The plot shows the first two columns; further ones take part in the fit only."""
    trace = outcome.trace
    data = plot_data(prepared.X, trace.sample_index, (0, 1), prepared.axis_titles[:2])
    options = FigureOptions(color_by=color_by)
    ours_name = "The notebook's algorithm" if outcome.model is None else "Ours (gmm_core)"
    theirs = compared.theirs
    return ExploreFigures(
        animation=fit_animation(data, trace, options),
        ours=mixture_figure(data, trace.means[-1], trace.covariances[-1],
                            trace.labels(-1)[data.positions],
                            component_colors(trace.n_components), ours_name, options),
        theirs=mixture_figure(data, theirs.means, theirs.full_covariances,
                              theirs.labels[data.rows], matched_colors(compared.permutation),
                              "scikit-learn GaussianMixture", options),
    )
