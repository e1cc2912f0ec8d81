"""From a FitRequest to what the Explore page shows: the data prepared, our fit (or the
notebook's replay), scikit-learn's fit beside it, and the figures' payloads.

Plain functions without Streamlit, so tests and benchmarks call them directly;
``dashboard.cache`` wraps them in Streamlit's caches.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, replace

import numpy as np

from dashboard.figures import (
    MAX_POINTS,
    NOISE_COLOR,
    FigureOptions,
    PlotData,
    component_colors,
    histogram,
    matched_colors,
    plot_data,
    plotted_dims,
)
from dashboard.fit_payload import (
    Panel,
    animation_payload,
    density_animation_payload,
    density_panels_payload,
    panels_payload,
)
from gmm_core import GMM, FitRequest, FitTrace
from gmm_core.compare import (
    Comparison,
    SklearnFit,
    compare_fits,
    fit_sklearn,
    match_components,
    no_such_model,
    score_final_mixture,
)
from gmm_core.datasets import Dataset, DatasetError, Preprocessing, prepare_features
from gmm_core.datasets.sketch import SKETCH
from gmm_core.model import bic_from
from gmm_core.model_names import scikit_learn_type
from gmm_core.notebook import explain_notebook_failure, fit_notebook
from gmm_core.request import PLACED
from gmm_core.scaling import RegularizationWarning

# Responsibilities kept per fit (the trace's only part that grows with the data): with
# FIT_ENTRIES cached fits this bounds what the shared server holds (README, "Hosting").
TRACE_MEMORY_MB = 16


@dataclass(frozen=True)
class PreparedData:
    """The matrix a request fits: its columns' rows that are all finite, standardized if
    asked. ``X`` keeps the data set's dtype unless standardized (the notebook's float32)."""

    X: np.ndarray
    columns: tuple[str, ...]
    axis_titles: tuple[str, ...]
    notes: tuple[str, ...]
    preprocessing: Preprocessing  # how X was scaled from the data set's units


@dataclass(frozen=True)
class FitOutcome:
    """One fit's result. ``model`` is None for the notebook replay, which has no GMM.

    ``mean_log_likelihood`` and ``bic`` score the final mixture exactly (log space), as
    scikit-learn scores its own; for the replay they can differ from the trace's, which
    adds the notebook's ε to every density. They are None, and ``unscored_because`` says
    why, when the replay ends on a covariance too singular to score.
    """

    trace: FitTrace
    model: GMM | None
    mean_log_likelihood: float | None
    bic: float | None
    explanation: tuple[str, ...] = ()  # why the notebook replay went wrong, if it did
    unscored_because: str = ""
    # Features whose variance reg_covar swamps, each with the fit's warning about it.
    swamped: tuple[RegularizationWarning, ...] = ()


@dataclass(frozen=True)
class ComparisonOutcome:
    """scikit-learn's fit of the same data, matched with ours.

    ``theirs.labels`` are those of the trace's display rows (``trace.sample_index``)
    only: the figures draw no others, and a cached comparison then stays small however
    many rows were fitted. ``comparison`` is None when our fit could not be scored.
    """

    theirs: SklearnFit
    permutation: np.ndarray  # scikit-learn component matched to each of ours
    comparison: Comparison | None


def prepare_data(dataset: Dataset, request: FitRequest) -> PreparedData:
    if not request.features:
        raise DatasetError("choose a feature to plot (X)")
    features = prepare_features(dataset, request.features,
                                "standardize" if request.standardize else "none")
    titles = [dataset.features[name].axis_title for name in features.columns]
    if request.standardize:
        titles = [f"{title} (standardized)" for title in titles]
    return PreparedData(features.X, features.columns, tuple(titles), features.notes,
                        features.preprocessing)


def placed_start(X: np.ndarray, request: FitRequest) -> np.ndarray | None:
    """The means of a start placed by hand (None for any other start): the placed
    points on the plotted features, the data's mean on the others."""
    if request.init != PLACED:
        return None
    means = np.tile(np.asarray(X, dtype=float).mean(axis=0), (len(request.placed_means), 1))
    plotted = min(2, means.shape[1])
    means[:, :plotted] = np.asarray(request.placed_means)[:, :plotted]
    return means


def run_fit(prepared: PreparedData, request: FitRequest) -> FitOutcome:
    """Our EM fit, or the notebook's algorithm replayed when ``request.algorithm`` says so.

    Responsibilities are recorded for the rows the figure draws only, within
    ``TRACE_MEMORY_MB``.
    """
    X = prepared.X
    if request.algorithm == "notebook":
        trace = fit_notebook(X, k=int(request.k), tol=float(request.tol),
                             max_iters=int(request.max_iters), seed=int(request.seed),
                             trace_points=MAX_POINTS, trace_memory_mb=TRACE_MEMORY_MB)
        explanation = tuple(explain_notebook_failure(trace))
        try:
            score = score_final_mixture(X, trace)
        except ValueError as exc:
            return FitOutcome(trace, None, None, None, explanation, str(exc))
        return FitOutcome(trace, None, score.mean_log_likelihood, score.bic, explanation)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", RegularizationWarning)
        model = GMM(**request.model_params(), means_init=placed_start(X, request),
                    trace_points=MAX_POINTS, trace_memory_mb=TRACE_MEMORY_MB).fit(X)
    swamped = []
    for warning in caught:  # the page says these; any other warning goes on as it came
        if isinstance(warning.message, RegularizationWarning):
            swamped.append(warning.message)
        else:
            warnings.warn_explicit(warning.message, warning.category, warning.filename,
                                   warning.lineno)
    mean_log_likelihood = model.score(X)
    return FitOutcome(model.trace_, model, mean_log_likelihood,
                      float(bic_from(mean_log_likelihood, len(X), model.n_parameters())),
                      swamped=tuple(swamped))


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
    drawn = replace(theirs, labels=theirs.labels[outcome.trace.sample_index])
    if outcome.bic is None:
        return ComparisonOutcome(drawn, match_components(outcome.trace.means[-1], theirs.means),
                                 None)
    comparison = compare_fits(prepared.X, outcome.model or outcome.trace, theirs,
                              prepared.columns)
    return ComparisonOutcome(drawn, comparison.permutation, comparison)


def no_scikit_learn_model(prepared: PreparedData, request: FitRequest) -> str | None:
    """Why scikit-learn cannot fit the model ours fits (one of mclust's it lacks), or None
    when it can (the notebook replay is compared with full covariances)."""
    if request.algorithm == "notebook" or scikit_learn_type(request.covariance_type,
                                                            prepared.X.shape[1]):
        return None
    return no_such_model(request.covariance_type)


def drawn_points(prepared: PreparedData, trace: FitTrace) -> PlotData:
    """The rows the figures draw (the trace's display sample, at most MAX_POINTS) on the
    first two fitted columns (the only one, for a fit of one feature); further columns
    take part in the fit only."""
    return plot_data(prepared.X, trace.sample_index, plotted_dims(prepared.X),
                     prepared.axis_titles[:2])


def one_feature(prepared: PreparedData) -> bool:
    """Whether the figures draw a histogram under densities instead of a scatter."""
    return prepared.X.shape[1] == 1


def animation_bytes(prepared: PreparedData, request: FitRequest, outcome: FitOutcome,
                    options: FigureOptions, include_points: bool) -> bytes:
    """The animation of our fit (or the replay), for ``dashboard/static/fit_view.js``; a
    new start may be placed on our fit, not on the replay (which draws its own), and
    points added to a sketch; a fit of one feature is drawn over its histogram (no start
    placed, no points drawn there: both take two coordinates)."""
    data = drawn_points(prepared, outcome.trace)
    if one_feature(prepared):
        return density_animation_payload(data, histogram(prepared.X), outcome.trace, options,
                                         include_points)
    return animation_payload(data, outcome.trace, options,
                             include_points, placed_start=request.init == PLACED,
                             can_place=request.algorithm == "em",
                             can_sketch=request.dataset == SKETCH)


def panels_bytes(prepared: PreparedData, outcome: FitOutcome, compared: ComparisonOutcome,
                 options: FigureOptions) -> bytes:
    """Our final fit beside scikit-learn's, on the same axes and drawn points, its
    components in the colours of ours they are matched to."""
    trace, theirs = outcome.trace, compared.theirs
    data = drawn_points(prepared, trace)
    ours_name = "The notebook's algorithm" if outcome.model is None else "Ours (gmm_core)"
    panels = [
        Panel(ours_name, trace.labels(-1)[data.positions], trace.weights[-1], trace.means[-1],
              trace.covariances[-1], component_colors(trace.n_components, options.palette)
              + [NOISE_COLOR] * trace.has_noise),
        Panel("scikit-learn GaussianMixture", theirs.labels[data.positions], theirs.weights,
              theirs.means, theirs.full_covariances,
              matched_colors(compared.permutation, options.palette)),
    ]
    if one_feature(prepared):
        return density_panels_payload(data, histogram(prepared.X), panels, options)
    return panels_payload(data, panels, options)
