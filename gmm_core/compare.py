"""Our fit beside scikit-learn's: the reference fit, matched components, and why they differ.

Our side is a fitted ``GMM`` or the trace of the notebook replay. scikit-learn runs as a
user would run it (``GaussianMixture`` with its own default k-means start), so the two
fits may legitimately differ; ``compare_fits`` says which of the usual reasons it is, in
one sentence.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.optimize import linear_sum_assignment
from scipy.spatial.distance import cdist
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import adjusted_rand_score
from sklearn.mixture import GaussianMixture

from gmm_core.covariance import NotPositiveDefiniteError, n_parameters, structure_for
from gmm_core.model import GMM, bic_from
from gmm_core.model_names import mclust_name, scikit_learn_type
from gmm_core.mstep import MixtureParameters, evaluate_mixture
from gmm_core.trace import (
    COVARIANCE_COLLAPSE,
    IDENTICAL_COMPONENTS,
    NOT_POSITIVE_DEFINITE,
    WEIGHT_COLLAPSE,
    ZERO_DENSITY,
    Event,
    FitTrace,
)
from gmm_core.validation import validate_data

SAME_OPTIMUM = "same_optimum"
LOCAL_OPTIMUM = "local_optimum"
DEGENERATE = "degenerate"
ITERATION_CAP = "iteration_cap"
CONVERGENCE_RULE = "convergence_rule"

# Labelings this close (adjusted Rand index) are the same partition up to a few
# boundary points.
SAME_PARTITION_ARI = 0.99
# Events that explain a difference, and what they say happened to the fit.
DEGENERATE_EVENTS = {
    WEIGHT_COLLAPSE: "a degenerate component",
    NOT_POSITIVE_DEFINITE: "a degenerate component",
    COVARIANCE_COLLAPSE: "a degenerate component",
    IDENTICAL_COMPONENTS: "a degenerate component",
    ZERO_DENSITY: "rows whose density underflowed to zero",
}


@dataclass(frozen=True)
class SklearnFit:
    """What ``sklearn.mixture.GaussianMixture`` found, in plain arrays."""

    covariance_type: str
    reg_covar: float
    seed: int
    tol: float
    weights: np.ndarray  # (k,)
    means: np.ndarray  # (k, d)
    covariances: np.ndarray  # scikit-learn's shape for covariance_type
    labels: np.ndarray  # (n,) hard assignment of the fitted rows
    converged: bool
    n_iter: int
    mean_log_likelihood: float  # score(X): mean per-row log-likelihood
    bic: float

    @property
    def full_covariances(self) -> np.ndarray:
        k, d = self.means.shape
        return structure_for(self.covariance_type, k, d).to_full(self.covariances)


def fit_sklearn(X, k: int, covariance_type: str = "full", tol: float = 1e-4, seed: int = 42,
                reg_covar: float = 1e-6, max_iters: int = 100) -> SklearnFit:
    """Fit scikit-learn's GaussianMixture with its default start, as a user would.

    ``covariance_type`` may be one of mclust's names when scikit-learn has the same model
    (VVV is ``full``; in one dimension, E is ``tied`` and V ``full``); for any other
    mclust model, ValueError: scikit-learn has no such model.
    """
    X = validate_data(X, min_rows=k)
    theirs = scikit_learn_type(covariance_type, X.shape[1])
    if theirs is None:
        raise ValueError(no_such_model(covariance_type))
    model = GaussianMixture(n_components=k, covariance_type=theirs, tol=tol,
                            reg_covar=reg_covar, max_iter=max_iters, random_state=seed)
    with warnings.catch_warnings():
        # Not converging is recorded in ``converged``, and explained by compare_fits.
        warnings.simplefilter("ignore", ConvergenceWarning)
        labels = model.fit_predict(X)
    return SklearnFit(
        covariance_type=theirs,
        reg_covar=float(reg_covar),
        seed=seed,
        tol=float(tol),
        weights=model.weights_,
        means=model.means_,
        covariances=model.covariances_,
        labels=labels,
        converged=bool(model.converged_),
        n_iter=int(model.n_iter_),
        mean_log_likelihood=float(model.score(X)),
        bic=float(model.bic(X)),
    )


def no_such_model(covariance_type: str) -> str:
    """Why scikit-learn cannot fit ``covariance_type`` (one of mclust's models)."""
    return (f"scikit-learn's GaussianMixture has no {mclust_name(covariance_type)} model: "
            "its four covariance types are mclust's VVV (full), EEE (tied), VVI (diag) and "
            "VII (spherical)")


def match_components(means_a, means_b) -> np.ndarray:
    """``perm`` with ``means_b[perm[i]]`` the partner of ``means_a[i]`` (least total distance)."""
    means_a, means_b = np.atleast_2d(means_a), np.atleast_2d(means_b)
    if means_a.shape != means_b.shape:
        raise ValueError(f"cannot match {means_a.shape[0]} components of {means_a.shape[1]} "
                         f"features with {means_b.shape[0]} of {means_b.shape[1]}")
    rows, cols = linear_sum_assignment(cdist(means_a, means_b))
    return cols[np.argsort(rows)]


@dataclass(frozen=True)
class MixtureScore:
    """How a fitted mixture explains the rows it was fitted to, in log space."""

    labels: np.ndarray  # (n,) the most responsible component of each row
    mean_log_likelihood: float
    bic: float


def score_final_mixture(X, trace: FitTrace) -> MixtureScore:
    """The exact fit of a trace's last snapshot to ``X``.

    For the notebook replay this is not the log-likelihood it records: that one adds ε
    to every row's density, so rows whose density underflows still count log ε. This
    one is computed in log space, as scikit-learn scores, so the two can be compared.
    """
    X = validate_data(X, n_features=trace.n_features)
    k, d = trace.n_components, trace.n_features
    structure = structure_for("full", k, d)  # the trace stores full matrices
    params = MixtureParameters(trace.weights[-1], trace.means[-1], trace.covariances[-1])
    try:
        precision = structure.precision_cholesky(params.covariances)
    except NotPositiveDefiniteError as exc:
        raise ValueError(f"the final covariance of component(s) {exc.components} is singular "
                         "in floating point, so the final mixture has no finite "
                         "log-likelihood") from None
    shift = X.mean(axis=0, dtype=np.float64)
    log_likelihood, responsibilities = evaluate_mixture(X, structure, params, precision, shift)
    mean_log_likelihood = float(log_likelihood.mean())
    return MixtureScore(
        labels=responsibilities.argmax(axis=1),
        mean_log_likelihood=mean_log_likelihood,
        bic=float(bic_from(mean_log_likelihood, len(X),
                           n_parameters(trace.covariance_type, k, d))),
    )


@dataclass(frozen=True)
class Comparison:
    """Our fit and scikit-learn's side by side, components matched."""

    table: pd.DataFrame  # one row per matched pair: weights, means, distance
    permutation: np.ndarray  # scikit-learn component matched to each of ours
    ours_mean_log_likelihood: float
    theirs_mean_log_likelihood: float
    ours_bic: float
    theirs_bic: float
    adjusted_rand_index: float
    verdict: str  # one of SAME_OPTIMUM, LOCAL_OPTIMUM, DEGENERATE, ITERATION_CAP, ...
    explanation: str


@dataclass(frozen=True)
class _OurFit:
    """Our side of a comparison, whether a GMM or the notebook replay's trace fitted it."""

    label: str  # in the table's column names
    who: str  # in sentences: "ours fit", "the notebook's fits better"
    subject: str  # in sentences: "ours had a degenerate component"
    weights: np.ndarray
    means: np.ndarray
    full_covariances: np.ndarray
    score: MixtureScore
    converged: bool
    events: list[Event]
    collapse_floor: float  # a smallest variance at or under this is a collapse
    start: str
    tol: float
    stopping_rule: str | None  # why its stopping rule differs from scikit-learn's, if it does


def _our_fit(X, ours: GMM | FitTrace, theirs: SklearnFit) -> _OurFit:
    if isinstance(ours, FitTrace):
        notebook = ours.algorithm == "notebook"
        return _OurFit(
            label="notebook" if notebook else "ours",
            who="the notebook's" if notebook else "ours",
            subject="the notebook's fit" if notebook else "ours",
            weights=ours.weights[-1], means=ours.means[-1],
            full_covariances=ours.covariances[-1], score=score_final_mixture(X, ours),
            converged=ours.converged, events=ours.events,
            # The replay's own watch records its collapses (at its ε) as events.
            collapse_floor=0.0,
            start=("k random data rows as means, Cov(X) for all" if notebook
                   else "its own start"),
            # The notebook stops on the change of the total log-likelihood, n times
            # stricter than scikit-learn's mean: it never stops earlier for that reason.
            tol=theirs.tol, stopping_rule=None)
    mean_log_likelihood = float(ours.score(X))
    k, d = ours.means_.shape
    means_rule = (f"ours stops on the notebook's rule (the means move by less than tol = "
                  f"{ours.tol:g} in all) while scikit-learn stops when the mean "
                  "log-likelihood changes by less than tol")
    return _OurFit(
        label="ours", who="ours", subject="ours",
        weights=ours.weights_, means=ours.means_,
        full_covariances=structure_for(ours.covariance_type, k, d).to_full(ours.covariances_),
        score=MixtureScore(ours.predict(X), mean_log_likelihood,
                           float(bic_from(mean_log_likelihood, len(X), ours.n_parameters()))),
        converged=bool(ours.converged_), events=ours.trace_.events,
        collapse_floor=2 * ours.reg_covar, start=_start_of(ours), tol=float(ours.tol),
        stopping_rule=means_rule if ours.convergence == "means" else None)


def compare_fits(X, ours: GMM | FitTrace, theirs: SklearnFit, feature_names=None,
                 loglik_tolerance: float | None = None) -> Comparison:
    """Match components, compare likelihoods and labelings, and say why the fits differ.

    ``ours`` is a fitted GMM, or the trace of a run (the notebook replay), whose last
    snapshot is scored on ``X`` in log space (see ``score_final_mixture``).
    Two fits count as the same optimum when their labelings agree (adjusted Rand index
    at least 0.99) and their mean log-likelihoods differ by at most
    ``loglik_tolerance`` (default: ten times the stopping tolerance, at least 1e-6).
    """
    d = (ours.n_features if isinstance(ours, FitTrace) else ours.means_.shape[1])
    X = validate_data(X, n_features=d)
    n = len(X)
    names = list(feature_names) if feature_names is not None else [f"x{i}" for i in range(d)]
    if len(names) != d:
        raise ValueError(f"feature_names has {len(names)} names for {d} features")
    fit = _our_fit(X, ours, theirs)
    permutation = match_components(fit.means, theirs.means)
    matched_means = theirs.means[permutation]
    table = pd.DataFrame({
        "component": np.arange(len(permutation)),
        "sklearn component": permutation,
        f"weight ({fit.label})": fit.weights,
        "weight (sklearn)": theirs.weights[permutation],
        **{f"mean {name} ({fit.label})": fit.means[:, i] for i, name in enumerate(names)},
        **{f"mean {name} (sklearn)": matched_means[:, i] for i, name in enumerate(names)},
        "distance between means": np.linalg.norm(fit.means - matched_means, axis=1),
    })
    ari = float(adjusted_rand_score(fit.score.labels, theirs.labels))
    if loglik_tolerance is None:
        loglik_tolerance = max(10 * fit.tol, 1e-6)
    verdict, explanation = _explain(fit, theirs, n, ari, loglik_tolerance)
    return Comparison(
        table=table,
        permutation=permutation,
        ours_mean_log_likelihood=fit.score.mean_log_likelihood,
        theirs_mean_log_likelihood=theirs.mean_log_likelihood,
        ours_bic=fit.score.bic,
        theirs_bic=theirs.bic,
        adjusted_rand_index=ari,
        verdict=verdict,
        explanation=explanation,
    )


def _collapsed_components(weights, full_covariances, floor: float, n: int) -> str | None:
    """A phrase naming the first degenerate component, or None."""
    for component in np.flatnonzero(weights < 1.0 / n):
        return f"component {component}'s weight is {weights[component]:.1e}, under 1/N"
    # A covariance at the regularization floor spans (almost) nothing in some direction:
    # the component sits on repeated points or a line.
    smallest = np.linalg.eigvalsh(full_covariances)[:, 0]
    for component in np.flatnonzero(smallest <= floor):
        return (f"component {component}'s covariance has shrunk to the regularization "
                f"floor (smallest variance {smallest[component]:.1e}), a collapse onto "
                "repeated points")
    return None


def _degenerate_detail(fit: _OurFit, theirs: SklearnFit, n: int) -> str | None:
    events = [e for e in fit.events if e.kind in DEGENERATE_EVENTS]
    if events:
        what = DEGENERATE_EVENTS[events[0].kind]
        return f"{fit.subject} had {what} ({events[0].message.rstrip('.')})"
    detail = _collapsed_components(fit.weights, fit.full_covariances, fit.collapse_floor, n)
    if detail:
        return f"{fit.subject} has a degenerate component ({detail})"
    detail = _collapsed_components(theirs.weights, theirs.full_covariances,
                                   2 * theirs.reg_covar, n)
    if detail:
        return f"scikit-learn's fit has a degenerate component ({detail})"
    return None


def _start_of(ours: GMM) -> str:
    given = (ours.weights_init, ours.means_init, ours.covariances_init)
    if any(value is not None for value in given):
        return "the given initial parameters"
    return f"{ours.init}, seed {ours.seed}"


def _explain(fit: _OurFit, theirs: SklearnFit, n: int, ari: float,
             tolerance: float) -> tuple[str, str]:
    ours_ll, theirs_ll = fit.score.mean_log_likelihood, theirs.mean_log_likelihood
    gap = abs(ours_ll - theirs_ll)
    if ari >= SAME_PARTITION_ARI and gap <= tolerance:
        return SAME_OPTIMUM, (
            f"Both reached the same optimum: the labelings agree (adjusted Rand index "
            f"{ari:.3f}) and the mean log-likelihoods differ by only {gap:.1e}."
        )
    degenerate = _degenerate_detail(fit, theirs, n)
    if degenerate:
        return DEGENERATE, f"They differ because {degenerate}."
    capped = [name for name, converged in ((fit.who, fit.converged),
                                           ("scikit-learn's", theirs.converged))
              if not converged]
    if capped:
        who = "both fits" if len(capped) == 2 else f"{capped[0]} fit"
        return ITERATION_CAP, (
            f"They differ because {who} stopped at the iteration cap before converging; "
            "raise Max iterations to let it finish."
        )
    if fit.stopping_rule:
        return CONVERGENCE_RULE, (
            f"They differ because {fit.stopping_rule}, so they stop at different points."
        )
    if gap > tolerance:
        better = fit.who if ours_ll > theirs_ll else "scikit-learn's"
        return LOCAL_OPTIMUM, (
            f"Both converged, but to different local optima from different starts "
            f"({fit.who}: {fit.start}; scikit-learn: k-means, seed {theirs.seed}); {better} "
            f"fits better (mean log-likelihood: {fit.who} {ours_ll:.4f}, scikit-learn "
            f"{theirs_ll:.4f})."
        )
    return LOCAL_OPTIMUM, (
        f"Both converged to optima of equal likelihood ({ours_ll:.4f}) that split the "
        f"points differently (adjusted Rand index {ari:.2f}): the data do not single out "
        "one partition."
    )
