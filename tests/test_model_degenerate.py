"""Degenerate fits never crash: they are detected, recorded as events, and handled."""

from __future__ import annotations

import numpy as np
import pytest

from gmm_core import GMM, DegenerateFitError
from gmm_core.trace import (
    IDENTICAL_COMPONENTS,
    NOT_POSITIVE_DEFINITE,
    REGULARIZED,
    REINITIALIZED,
    WEIGHT_COLLAPSE,
)


def notebook_like_data(seed=0):
    """Built like the SDSS blue bins: a block of zero rows, small values, a few outliers."""
    rng = np.random.default_rng(seed)
    return np.vstack([
        np.zeros((3600, 2)),
        rng.uniform(0.0, 0.3, size=(380, 2)),
        rng.normal((41.3, 37.9), 3.0, size=(20, 2)),
    ])


def seed_drawing_two_identical_rows(X):
    for seed in range(100):
        rows = np.random.RandomState(seed).choice(len(X), 2, replace=False)
        if np.array_equal(X[rows[0]], X[rows[1]]):
            return seed
    raise AssertionError("no seed draws two identical rows")


def kinds(model):
    return [event.kind for event in model.trace_.events]


def test_identical_start_is_recorded_and_they_never_separate():
    X = notebook_like_data()
    seed = seed_drawing_two_identical_rows(X)
    model = GMM(k=2, init="notebook", seed=seed, max_iters=200).fit(X)
    assert kinds(model) == [IDENTICAL_COMPONENTS]
    event = model.trace_.events[0]
    assert event.iteration == 0 and "never separate" in event.message
    np.testing.assert_allclose(model.means_[0], model.means_[1])


def test_identical_start_raises_under_raise_policy():
    X = notebook_like_data()
    seed = seed_drawing_two_identical_rows(X)
    with pytest.raises(DegenerateFitError, match="components 0 and 1") as caught:
        GMM(k=2, init="notebook", seed=seed, on_degenerate="raise").fit(X)
    assert caught.value.component == 1 and caught.value.iteration == 0


def test_identical_start_is_repaired_under_reinit_policy():
    X = notebook_like_data()
    seed = seed_drawing_two_identical_rows(X)
    model = GMM(k=2, init="notebook", seed=seed, on_degenerate="reinit", max_iters=300).fit(X)
    assert kinds(model)[:2] == [IDENTICAL_COMPONENTS, REINITIALIZED]
    assert not np.allclose(model.means_[0], model.means_[1])


def test_kmeans_plus_plus_finds_the_outliers_the_notebook_start_misses():
    X = notebook_like_data()
    model = GMM(k=2, init="kmeans++", seed=42).fit(X)
    far = np.argmax(model.means_[:, 0])
    np.testing.assert_allclose(model.means_[far], X[-20:].mean(axis=0), rtol=1e-3)
    assert IDENTICAL_COMPONENTS not in kinds(model)


def identical_points_and_a_blob():
    rng = np.random.default_rng(1)
    return np.vstack([np.tile([5.0, 5.0], (50, 1)), rng.normal(size=(200, 2))])


@pytest.mark.parametrize("covariance_type", ["full", "diag"])
def test_collapse_onto_a_point_is_regularized_without_reg_covar(covariance_type):
    X = identical_points_and_a_blob()
    model = GMM(k=2, covariance_type=covariance_type, reg_covar=0.0, seed=0).fit(X)
    assert NOT_POSITIVE_DEFINITE in kinds(model) and REGULARIZED in kinds(model)
    event = next(e for e in model.trace_.events if e.kind == NOT_POSITIVE_DEFINITE)
    assert event.component is not None and f"component {event.component}" in event.message
    assert np.all(np.isfinite(model.means_)) and np.all(np.isfinite(model.covariances_))
    assert np.isfinite(model.score(X))


def test_collapse_raises_naming_component_and_iteration():
    X = identical_points_and_a_blob()
    with pytest.raises(DegenerateFitError, match="not positive definite") as caught:
        GMM(k=2, reg_covar=0.0, seed=0, on_degenerate="raise").fit(X)
    # The k-means++ partition already puts the identical rows alone in one component.
    assert caught.value.iteration == 0 and "at iteration 0" in str(caught.value)
    assert f"component {caught.value.component}" in str(caught.value)


def test_weight_collapse_is_recorded_once_with_the_component():
    rng = np.random.default_rng(2)
    X = rng.normal(size=(300, 2))
    means = np.array([[0.0, 0.0], [50.0, 50.0]])
    model = GMM(k=2, means_init=means, weights_init=[0.5, 0.5],
                covariances_init=np.array([np.eye(2), 1e-3 * np.eye(2)]), max_iters=20).fit(X)
    collapses = [e for e in model.trace_.events if e.kind == WEIGHT_COLLAPSE]
    assert len(collapses) == 1
    assert collapses[0].component == 1 and collapses[0].iteration == 1
    assert "under 1/N" in collapses[0].message


def test_weight_collapse_reinit_restarts_at_the_worst_explained_point():
    rng = np.random.default_rng(2)
    X = np.vstack([rng.normal(size=(300, 2)), rng.normal((8, 8), 0.5, size=(100, 2))])
    means = np.array([[0.0, 0.0], [-50.0, -50.0]])
    model = GMM(k=2, means_init=means, weights_init=[0.5, 0.5], on_degenerate="reinit",
                covariances_init=np.array([np.eye(2), 1e-3 * np.eye(2)]), max_iters=200).fit(X)
    assert kinds(model)[:2] == [WEIGHT_COLLAPSE, REINITIALIZED]
    assert "explained worst" in model.trace_.events[1].message
    # With the component restarted, the two blobs are found.
    found = sorted(model.means_[:, 0])
    assert found[0] == pytest.approx(0.0, abs=0.3) and found[1] == pytest.approx(8.0, abs=0.3)
