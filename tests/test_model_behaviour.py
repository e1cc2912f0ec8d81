"""GMM behaviour: monotone EM, stopping rules, input checks, the trace and its caps."""

from __future__ import annotations

import numpy as np
import pytest

from gmm_core import GMM
from gmm_core.request import STARTS
from gmm_core.trace import STOP_CONVERGED, STOP_MAX_ITERS

COVARIANCE_TYPES = ["full", "tied", "diag", "spherical"]


@pytest.fixture(scope="module")
def three_blobs():
    rng = np.random.default_rng(11)
    return np.vstack([
        rng.normal((0, 0), 1.0, size=(200, 2)),
        rng.normal((4, 1), 0.7, size=(150, 2)),
        rng.multivariate_normal((1, 5), [[2.0, 1.2], [1.2, 1.0]], size=150),
    ])


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
@pytest.mark.parametrize("init", STARTS)
def test_log_likelihood_never_decreases(three_blobs, covariance_type, init):
    # A placed start: four means as a user might click them.
    placed = [[0, 0], [4, 1], [1, 5], [2, 2]] if init == "placed" else None
    model = GMM(k=4, covariance_type=covariance_type, init=init, tol=0.0, max_iters=60,
                seed=5, means_init=placed).fit(three_blobs)
    ll = model.trace_.mean_log_likelihood
    assert len(ll) == 61
    assert np.all(np.diff(ll) >= -1e-10 * np.abs(ll[1:]).clip(min=1.0))
    assert ll[-1] > ll[0]


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_predict_proba_rows_sum_to_one_and_predict_is_their_argmax(three_blobs, covariance_type):
    model = GMM(k=3, covariance_type=covariance_type).fit(three_blobs)
    proba = model.predict_proba(three_blobs)
    assert proba.shape == (len(three_blobs), 3)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-12)
    np.testing.assert_array_equal(model.predict(three_blobs), proba.argmax(axis=1))
    np.testing.assert_array_equal(model.fit_predict(three_blobs), model.predict(three_blobs))


def test_tol_zero_runs_exactly_max_iters(three_blobs):
    model = GMM(k=3, tol=0.0, max_iters=37).fit(three_blobs)
    assert model.n_iter_ == 37
    assert not model.converged_
    assert model.trace_.stop_reason == STOP_MAX_ITERS
    assert model.trace_.n_iter == 37


def test_loglik_rule_converges_and_says_so(three_blobs):
    model = GMM(k=3, tol=1e-6, max_iters=500).fit(three_blobs)
    assert model.converged_ and model.trace_.stop_reason == STOP_CONVERGED
    ll = model.trace_.mean_log_likelihood
    assert abs(ll[-2] - ll[-3]) < 1e-6 <= abs(ll[-3] - ll[-4])


def test_means_rule_stops_when_means_stop_moving(three_blobs):
    model = GMM(k=3, tol=1e-5, convergence="means", max_iters=500).fit(three_blobs)
    shift = model.trace_.mean_shift
    assert model.converged_
    assert shift[-1] < 1e-5
    assert np.all(shift[1:-1] >= 1e-5)


def test_lower_bound_is_the_last_e_step_and_score_the_final_parameters(three_blobs):
    model = GMM(k=3, tol=1e-3).fit(three_blobs)
    ll = model.trace_.mean_log_likelihood
    assert model.lower_bound_ == pytest.approx(ll[-2])
    assert model.score(three_blobs) == pytest.approx(ll[-1])


def test_n_init_keeps_the_best_run(three_blobs):
    # The first of several runs starts exactly like a single run with the same seed.
    first = GMM(k=5, n_init=1, seed=0, init="random").fit(three_blobs)
    best = GMM(k=5, n_init=6, seed=0, init="random").fit(three_blobs)
    assert best.lower_bound_ >= first.lower_bound_


def test_same_seed_same_fit_and_other_seed_other_start(three_blobs):
    a = GMM(k=4, seed=1).fit(three_blobs)
    b = GMM(k=4, seed=1).fit(three_blobs)
    c = GMM(k=4, seed=2).fit(three_blobs)
    np.testing.assert_array_equal(a.means_, b.means_)
    assert not np.allclose(a.trace_.means[0], c.trace_.means[0])


def test_trace_shapes_and_display_subsample(three_blobs):
    model = GMM(k=3, covariance_type="diag", trace_points=100, max_iters=20, tol=0).fit(three_blobs)
    trace = model.trace_
    t, m = trace.n_iter + 1, len(trace.sample_index)
    assert m == 100
    assert np.all(np.diff(trace.sample_index) > 0)
    assert trace.weights.shape == (t, 3)
    assert trace.means.shape == (t, 3, 2)
    assert trace.covariances.shape == (t, 3, 2, 2)
    assert trace.responsibilities.shape == (t, 100, 3)
    assert trace.responsibilities.dtype == np.float32
    # The display rows' final responsibilities are the model's.
    proba = model.predict_proba(three_blobs[trace.sample_index])
    np.testing.assert_allclose(trace.responsibilities[-1], proba, atol=1e-6)
    np.testing.assert_allclose(trace.means[-1], model.means_)
    assert trace.to_dict()["n_iter"] == 20


def test_trace_memory_cap_bounds_the_responsibilities():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(20_000, 2))
    cap_mb = 1
    model = GMM(k=8, tol=0, max_iters=50, trace_points=20_000, trace_memory_mb=cap_mb).fit(X)
    assert model.trace_.responsibilities.nbytes <= cap_mb * 2**20
    assert len(model.trace_.sample_index) < 20_000


def test_sample_draws_from_the_fitted_mixture(three_blobs):
    model = GMM(k=3, seed=0).fit(three_blobs)
    draws, labels = model.sample(20_000)
    assert draws.shape == (20_000, 2)
    counts = np.bincount(labels, minlength=3) / 20_000
    np.testing.assert_allclose(counts, model.weights_, atol=0.02)
    for component in range(3):
        np.testing.assert_allclose(draws[labels == component].mean(axis=0),
                                   model.means_[component], atol=0.1)


@pytest.mark.parametrize(
    ("X", "message"),
    [
        (np.arange(10.0), "2-D"),
        (np.zeros((5, 0)), "no features"),
        (np.array([[1.0, np.nan], [2.0, 3.0], [4.0, 5.0]]), "NaN or infinite values in 1 row"),
        (np.array([[1.0, np.inf], [2.0, 3.0], [4.0, 5.0]]), "first at row 0"),
        (np.array([["a", "b"], ["c", "d"]]), "numeric"),
        (np.array([[1.0, 2.0]]), "at least 2 rows"),
    ],
)
def test_bad_data_gives_a_clear_error(X, message):
    with pytest.raises(ValueError, match=message):
        GMM(k=2).fit(X)


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"k": 0}, "k must be a positive integer"),
        ({"covariance_type": "banana"}, "covariance_type must be one of"),
        ({"init": "magic"}, "init must be one of"),
        ({"convergence": "vibes"}, "convergence must be one of"),
        ({"tol": -1.0}, "tol must be a finite number"),
        ({"reg_covar": float("nan")}, "reg_covar must be a finite number"),
        ({"on_degenerate": "ignore"}, "on_degenerate must be one of"),
        ({"weights_init": [0.5, 0.6]}, "weights_init must sum to 1; got sum 1.1"),
        ({"means_init": np.zeros((3, 2))}, "means_init must have shape"),
        ({"covariances_init": np.zeros((2, 2))}, "covariances_init must have shape"),
    ],
)
def test_bad_parameters_give_a_clear_error(three_blobs, params, message):
    with pytest.raises(ValueError, match=message):
        GMM(k=params.pop("k", 2), **params).fit(three_blobs)


def test_predict_checks_the_feature_count(three_blobs):
    model = GMM(k=2).fit(three_blobs)
    with pytest.raises(ValueError, match="fitted on 2"):
        model.predict(np.zeros((4, 3)))
    with pytest.raises(RuntimeError, match="not fitted"):
        GMM(k=2).predict(three_blobs)


def test_a_placed_start_keeps_its_means_and_takes_the_rest_from_the_nearest_rows():
    rng = np.random.default_rng(5)
    X = np.vstack([rng.normal((0, 0), 1, (100, 2)), rng.normal((8, 1), 1, (50, 2))])
    placed = np.array([[1.0, 1.0], [7.0, 0.0], [30.0, 30.0]])  # the last one is far away
    model = GMM(k=3, init="placed", means_init=placed, max_iters=5).fit(X)
    np.testing.assert_array_equal(model.trace_.means[0], placed)
    nearest = np.argmin(((X[:, None] - placed[None]) ** 2).sum(axis=2), axis=1)
    for component in (0, 1):
        rows = X[nearest == component]
        assert model.trace_.weights[0, component] == pytest.approx(len(rows) / 151, rel=1e-6)
        np.testing.assert_allclose(model.trace_.covariances[0, component],
                                   np.cov(rows, rowvar=False, bias=True) + 1e-6 * np.eye(2),
                                   rtol=1e-6)
    # No row is nearest to the far mean: it starts with the data's covariance.
    np.testing.assert_allclose(model.trace_.covariances[0, 2],
                               np.cov(X, rowvar=False) + 1e-6 * np.eye(2), rtol=1e-6)


def test_a_placed_start_without_means_says_what_is_missing():
    with pytest.raises(ValueError, match="init='placed' needs the means: pass means_init"):
        GMM(k=2, init="placed").fit(np.random.default_rng(0).normal(size=(20, 2)))
