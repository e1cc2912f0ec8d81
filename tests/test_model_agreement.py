"""GMM against scikit-learn's GaussianMixture started from identical parameters."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning
from sklearn.mixture import GaussianMixture

from gmm_core import GMM
from gmm_core.covariance import structure_for

COVARIANCE_TYPES = ["full", "tied", "diag", "spherical"]


def _blobs(rng, centers, scale, n_per):
    return np.vstack([rng.normal(c, scale, size=(n_per, len(c))) for c in centers])


def well_separated(rng):
    return _blobs(rng, [(0, 0), (10, 0), (0, 10)], 1.0, 150), 3


def overlapping(rng):
    return _blobs(rng, [(0, 0), (1.5, 0.5), (0.5, 1.5)], 1.0, 150), 3


def one_dimensional(rng):
    return _blobs(rng, [(0,), (4,)], [1.0], 200), 2


def ten_dimensional(rng):
    centers = rng.normal(scale=4.0, size=(4, 10))
    return _blobs(rng, centers, 1.0, 100), 4


OFFSET = 1e6


def offset_by_1e6(rng):
    X, k = well_separated(rng)
    return X + OFFSET, k


def float32(rng):
    X, k = overlapping(rng)
    return X.astype(np.float32), k


def near_duplicates(rng):
    base = np.array([[0.0, 0.0], [1.0, 1.0], [3.0, -1.0]])
    X = np.repeat(base, 80, axis=0) + rng.normal(scale=1e-4, size=(240, 2))
    return X, 3


DATASETS = [well_separated, overlapping, one_dimensional, ten_dimensional, offset_by_1e6,
            float32, near_duplicates]


def shared_start(X, k, covariance_type, rng):
    """Distinct random rows as means, the data covariance per component, equal weights."""
    X = np.asarray(X, dtype=float)
    d = X.shape[1]
    means = X[rng.choice(len(X), size=k, replace=False)]
    data_cov = np.atleast_2d(np.cov(X, rowvar=False)) / k + 1e-3 * np.eye(d)
    weights = np.full(k, 1.0 / k)
    structure = structure_for(covariance_type, k, d)
    covariances = structure.from_full(np.repeat(data_cov[None], k, axis=0), weights)
    return weights, means, covariances


def precisions_of(covariances, covariance_type):
    if covariance_type in ("full", "tied"):
        return np.linalg.inv(covariances)
    return 1.0 / covariances


def assert_relative(ours, theirs, rtol=1e-6):
    scale = np.abs(theirs).max()
    np.testing.assert_allclose(ours, theirs, rtol=rtol, atol=rtol * 1e-3 * scale)


def assert_normwise(ours, theirs, covariance_type, rtol=1e-6):
    """Each component's covariance (or precision factor) within ``rtol`` in norm.

    Rounding bounds the error of a covariance or Cholesky factor relative to the
    matrix's norm (about its condition number times machine epsilon per iteration),
    not entry by entry: an off-diagonal entry a thousand times smaller than the
    diagonal carries the diagonal's absolute error. Which BLAS kernel sums the
    products decides those last digits, so an entrywise check passes on one machine
    and fails on another.
    """
    per_component = 1 if covariance_type == "tied" else len(ours)
    ours = np.reshape(ours, (per_component, -1))
    theirs = np.reshape(theirs, (per_component, -1))
    errors = np.linalg.norm(ours - theirs, axis=1) / np.linalg.norm(theirs, axis=1)
    assert errors.max() <= rtol, f"normwise relative errors {errors} exceed {rtol}"


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
@pytest.mark.parametrize("make_data", DATASETS, ids=lambda f: f.__name__)
def test_same_start_same_result_as_sklearn(make_data, covariance_type):
    rng = np.random.default_rng(7)
    X, k = make_data(rng)
    weights, means, covariances = shared_start(X, k, covariance_type, rng)
    iterations = 25
    ours = GMM(k=k, covariance_type=covariance_type, tol=0.0, max_iters=iterations,
               weights_init=weights, means_init=means, covariances_init=covariances).fit(X)
    # scikit-learn computes in the input dtype; ours reads float32 but computes in
    # float64, so the reference gets the same values as float64. For data offset by
    # 1e6 the reference runs on the data moved back to the origin (a fit is translation
    # invariant): scikit-learn's tied estimate forms raw second moments and loses about
    # four digits there, while ours centres the data first.
    shift = OFFSET if make_data is offset_by_1e6 else 0.0
    theirs = GaussianMixture(
        k, covariance_type=covariance_type, tol=0.0, max_iter=iterations, reg_covar=1e-6,
        weights_init=weights, means_init=means - shift,
        precisions_init=precisions_of(covariances, covariance_type))
    X64 = np.asarray(X, dtype=np.float64)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        theirs.fit(X64 - shift)
    assert ours.n_iter_ == theirs.n_iter_ == iterations
    assert_relative(ours.weights_, theirs.weights_)
    assert_relative(ours.means_ - shift, theirs.means_)
    assert_normwise(ours.covariances_, theirs.covariances_, covariance_type)
    assert_normwise(ours.precisions_cholesky_, theirs.precisions_cholesky_, covariance_type)
    assert ours.lower_bound_ == pytest.approx(theirs.lower_bound_, rel=1e-6)
    assert_relative(ours.score_samples(X), theirs.score_samples(X64 - shift))
    assert ours.bic(X) == pytest.approx(theirs.bic(X64 - shift), rel=1e-6)
    assert ours.aic(X) == pytest.approx(theirs.aic(X64 - shift), rel=1e-6)


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_convergence_iteration_matches_sklearn_rule(covariance_type):
    """With a tolerance, both stop at the same iteration (same log-likelihood rule)."""
    rng = np.random.default_rng(3)
    X, k = overlapping(rng)
    weights, means, covariances = shared_start(X, k, covariance_type, rng)
    ours = GMM(k=k, covariance_type=covariance_type, tol=1e-3, max_iters=500,
               weights_init=weights, means_init=means, covariances_init=covariances).fit(X)
    theirs = GaussianMixture(k, covariance_type=covariance_type, tol=1e-3, max_iter=500,
                             weights_init=weights, means_init=means,
                             precisions_init=precisions_of(covariances, covariance_type)).fit(X)
    assert ours.converged_ and theirs.converged_
    assert ours.n_iter_ == theirs.n_iter_
    assert ours.trace_.n_iter == ours.n_iter_


def test_float32_input_gives_float64_result_of_the_same_values():
    rng = np.random.default_rng(0)
    X, k = overlapping(rng)
    X32 = X.astype(np.float32)
    a = GMM(k=k, seed=1, max_iters=30).fit(X32)
    b = GMM(k=k, seed=1, max_iters=30).fit(X32.astype(np.float64))
    assert a.means_.dtype == np.float64
    np.testing.assert_allclose(a.means_, b.means_, rtol=1e-12)
