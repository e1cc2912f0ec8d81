"""Our fit beside scikit-learn's: the reference fit, matched components, and why they differ.

scikit-learn runs as a user would run it (``GaussianMixture`` with its own default
k-means start), so the two fits may legitimately differ; ``compare_fits`` says which
of the usual reasons it is, in one sentence.
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

from gmm_core.covariance import structure_for
from gmm_core.model import GMM
from gmm_core.trace import (
    COVARIANCE_COLLAPSE,
    IDENTICAL_COMPONENTS,
    NOT_POSITIVE_DEFINITE,
    WEIGHT_COLLAPSE,
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
DEGENERATE_EVENTS = (WEIGHT_COLLAPSE, NOT_POSITIVE_DEFINITE, COVARIANCE_COLLAPSE,
                     IDENTICAL_COMPONENTS)


@dataclass(frozen=True)
class SklearnFit:
    """What ``sklearn.mixture.GaussianMixture`` found, in plain arrays."""

    covariance_type: str
    reg_covar: float
    seed: int
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
    """Fit scikit-learn's GaussianMixture with its default start, as a user would."""
    X = validate_data(X, min_rows=k)
    model = GaussianMixture(n_components=k, covariance_type=covariance_type, tol=tol,
                            reg_covar=reg_covar, max_iter=max_iters, random_state=seed)
    with warnings.catch_warnings():
        # Not converging is recorded in ``converged``, and explained by compare_fits.
        warnings.simplefilter("ignore", ConvergenceWarning)
        labels = model.fit_predict(X)
    return SklearnFit(
        covariance_type=covariance_type,
        reg_covar=float(reg_covar),
        seed=seed,
        weights=model.weights_,
        means=model.means_,
        covariances=model.covariances_,
        labels=labels,
        converged=bool(model.converged_),
        n_iter=int(model.n_iter_),
        mean_log_likelihood=float(model.score(X)),
        bic=float(model.bic(X)),
    )


def match_components(means_a, means_b) -> np.ndarray:
    """``perm`` with ``means_b[perm[i]]`` the partner of ``means_a[i]`` (least total distance)."""
    means_a, means_b = np.atleast_2d(means_a), np.atleast_2d(means_b)
    if means_a.shape != means_b.shape:
        raise ValueError(f"cannot match {means_a.shape[0]} components of {means_a.shape[1]} "
                         f"features with {means_b.shape[0]} of {means_b.shape[1]}")
    rows, cols = linear_sum_assignment(cdist(means_a, means_b))
    return cols[np.argsort(rows)]


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


def compare_fits(X, ours: GMM, theirs: SklearnFit, feature_names=None,
                 loglik_tolerance: float | None = None) -> Comparison:
    """Match components, compare likelihoods and labelings, and say why the fits differ.

    Two fits count as the same optimum when their labelings agree (adjusted Rand index
    at least 0.99) and their mean log-likelihoods differ by at most
    ``loglik_tolerance`` (default: ten times the stopping tolerance, at least 1e-6).
    """
    X = validate_data(X, n_features=ours.means_.shape[1])
    n, d = X.shape
    names = list(feature_names) if feature_names is not None else [f"x{i}" for i in range(d)]
    if len(names) != d:
        raise ValueError(f"feature_names has {len(names)} names for {d} features")
    permutation = match_components(ours.means_, theirs.means)
    matched_means = theirs.means[permutation]
    table = pd.DataFrame({
        "component": np.arange(len(permutation)),
        "sklearn component": permutation,
        "weight (ours)": ours.weights_,
        "weight (sklearn)": theirs.weights[permutation],
        **{f"mean {name} (ours)": ours.means_[:, i] for i, name in enumerate(names)},
        **{f"mean {name} (sklearn)": matched_means[:, i] for i, name in enumerate(names)},
        "distance between means": np.linalg.norm(ours.means_ - matched_means, axis=1),
    })
    ours_ll = float(ours.score(X))
    ari = float(adjusted_rand_score(ours.predict(X), theirs.labels))
    if loglik_tolerance is None:
        loglik_tolerance = max(10 * float(ours.tol), 1e-6)
    verdict, explanation = _explain(ours, theirs, n, ours_ll, ari, loglik_tolerance)
    return Comparison(
        table=table,
        permutation=permutation,
        ours_mean_log_likelihood=ours_ll,
        theirs_mean_log_likelihood=theirs.mean_log_likelihood,
        ours_bic=float(ours.bic(X)),
        theirs_bic=theirs.bic,
        adjusted_rand_index=ari,
        verdict=verdict,
        explanation=explanation,
    )


def _collapsed_components(weights, full_covariances, reg_covar: float, n: int) -> str | None:
    """A phrase naming the first degenerate component, or None."""
    for component in np.flatnonzero(weights < 1.0 / n):
        return f"component {component}'s weight is {weights[component]:.1e}, under 1/N"
    # A covariance at the regularization floor spans (almost) nothing in some direction:
    # the component sits on repeated points or a line.
    smallest = np.linalg.eigvalsh(full_covariances)[:, 0]
    for component in np.flatnonzero(smallest <= 2 * reg_covar):
        return (f"component {component}'s covariance has shrunk to the regularization "
                f"floor (smallest variance {smallest[component]:.1e}), a collapse onto "
                "repeated points")
    return None


def _degenerate_detail(ours: GMM, theirs: SklearnFit, n: int) -> str | None:
    events = [e for e in ours.trace_.events if e.kind in DEGENERATE_EVENTS]
    if events:
        return f"ours had a degenerate component ({events[0].message.rstrip('.')})"
    k, d = ours.means_.shape
    ours_full = structure_for(ours.covariance_type, k, d).to_full(ours.covariances_)
    detail = _collapsed_components(ours.weights_, ours_full, ours.reg_covar, n)
    if detail:
        return f"ours has a degenerate component ({detail})"
    detail = _collapsed_components(theirs.weights, theirs.full_covariances, theirs.reg_covar, n)
    if detail:
        return f"scikit-learn's fit has a degenerate component ({detail})"
    return None


def _start_of(ours: GMM) -> str:
    given = (ours.weights_init, ours.means_init, ours.covariances_init)
    if any(value is not None for value in given):
        return "the given initial parameters"
    return f"{ours.init}, seed {ours.seed}"


def _explain(ours: GMM, theirs: SklearnFit, n: int, ours_ll: float, ari: float,
             tolerance: float) -> tuple[str, str]:
    theirs_ll = theirs.mean_log_likelihood
    gap = abs(ours_ll - theirs_ll)
    if ari >= SAME_PARTITION_ARI and gap <= tolerance:
        return SAME_OPTIMUM, (
            f"Both reached the same optimum: the labelings agree (adjusted Rand index "
            f"{ari:.3f}) and the mean log-likelihoods differ by only {gap:.1e}."
        )
    degenerate = _degenerate_detail(ours, theirs, n)
    if degenerate:
        return DEGENERATE, f"They differ because {degenerate}."
    capped = [name for name, converged in (("ours", ours.converged_),
                                           ("scikit-learn's", theirs.converged))
              if not converged]
    if capped:
        who = "both fits" if len(capped) == 2 else f"{capped[0]} fit"
        return ITERATION_CAP, (
            f"They differ because {who} stopped at the iteration cap before converging; "
            "raise Max iterations to let it finish."
        )
    if ours.convergence == "means":
        return CONVERGENCE_RULE, (
            f"They differ because ours stops on the notebook's rule (the means move by less "
            f"than tol = {ours.tol:g} in all) while scikit-learn stops when the mean "
            "log-likelihood changes by less than tol, so they stop at different points."
        )
    if gap > tolerance:
        better = "ours" if ours_ll > theirs_ll else "scikit-learn's"
        return LOCAL_OPTIMUM, (
            f"Both converged, but to different local optima from different starts (ours: "
            f"{_start_of(ours)}; scikit-learn: k-means, seed {theirs.seed}); {better} fits "
            f"better (mean log-likelihood: ours {ours_ll:.4f}, scikit-learn {theirs_ll:.4f})."
        )
    return LOCAL_OPTIMUM, (
        f"Both converged to optima of equal likelihood ({ours_ll:.4f}) that split the "
        f"points differently (adjusted Rand index {ari:.2f}): the data do not single out "
        "one partition."
    )
