"""BIC/AIC sweeps: the right model wins, scores match GMM, parallel equals sequential."""

from __future__ import annotations

import os

import numpy as np
import pandas as pd
import pytest

from gmm_core import GMM, selection
from gmm_core.covariance import n_parameters
from gmm_core.init import PARTITION_INITIALIZERS
from gmm_core.model import criterion_order
from gmm_core.selection import COLUMNS, SweepSettings, fit_key, score_fit, sweep


@pytest.fixture(scope="module")
def three_blobs():
    """Three well-separated blobs, each with its own tilted, elongated covariance."""
    rng = np.random.default_rng(11)
    parts = []
    for center, angle, (a, b) in [((0, 0), 0.3, (2.0, 0.3)), ((12, 2), 1.4, (1.5, 0.5)),
                                  ((4, 12), 2.4, (0.4, 1.8))]:
        rotation = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
        parts.append(center + rng.normal(size=(150, 2)) * (a, b) @ rotation.T)
    return np.vstack(parts)


@pytest.fixture(scope="module")
def small_sweep(three_blobs):
    return sweep(three_blobs, k_values=range(1, 6), n_jobs=1)


def test_best_bic_model_is_three_full_components(small_sweep):
    assert small_sweep.best("bic") == (3, "full")
    assert small_sweep.best("aic")[1] == "full"


def test_table_has_one_row_per_fit_in_order(small_sweep):
    table = small_sweep.table
    assert list(table.columns) == list(COLUMNS)
    assert len(table) == 5 * 4
    assert list(table["covariance_type"].unique()) == ["full", "tied", "diag", "spherical"]
    assert list(table["k"][:5]) == [1, 2, 3, 4, 5]
    assert table["converged"].all()
    wide = small_sweep.by_type("bic")
    assert wide.shape == (5, 4) and wide.loc[3, "full"] == table["bic"].min()


@pytest.mark.parametrize(("k", "covariance_type"), [(1, "full"), (3, "tied"), (4, "diag"),
                                                      (2, "spherical")])
def test_scores_equal_gmm_with_the_same_settings(three_blobs, small_sweep, k, covariance_type):
    model = GMM(k=k, covariance_type=covariance_type, tol=1e-3, reg_covar=1e-6, max_iters=100,
                init="kmeans", seed=42).fit(three_blobs)
    row = small_sweep.table.set_index(["k", "covariance_type"]).loc[(k, covariance_type)]
    assert row["bic"] == pytest.approx(model.bic(three_blobs), rel=1e-12)
    assert row["aic"] == pytest.approx(model.aic(three_blobs), rel=1e-12)
    assert row["mean_loglik"] == pytest.approx(model.score(three_blobs), rel=1e-12)
    assert row["n_iter"] == model.n_iter_


def test_n_init_restarts_never_lower_the_likelihood(three_blobs):
    one = sweep(three_blobs, k_values=[4], covariance_types=["full"], init="random", n_jobs=1)
    five = sweep(three_blobs, k_values=[4], covariance_types=["full"], init="random",
                 n_init=5, n_jobs=1)
    assert five.table["mean_loglik"][0] >= one.table["mean_loglik"][0] - 1e-12


def test_progress_is_called_once_per_fit(three_blobs):
    calls = []
    sweep(three_blobs, k_values=[1, 2, 3], covariance_types=["full", "diag"], n_jobs=1,
          progress=lambda done, total: calls.append((done, total)))
    assert calls == [(done, 6) for done in range(1, 7)]


def test_parallel_and_sequential_tables_are_identical(three_blobs):
    calls = []
    parallel = sweep(three_blobs, k_values=range(1, 5), n_jobs=2,
                     progress=lambda done, total: calls.append(done))
    sequential = sweep(three_blobs, k_values=range(1, 5), n_jobs=1)
    assert parallel.n_jobs == 2 and sequential.n_jobs == 1
    pd.testing.assert_frame_equal(parallel.table, sequential.table, check_exact=True)
    assert calls == list(range(1, 17))


def test_small_sweeps_stay_in_this_process(three_blobs):
    assert sweep(three_blobs, k_values=[1, 2]).n_jobs == 1


def test_cache_supplies_fits_and_receives_new_ones(three_blobs):
    cache = {}
    first = sweep(three_blobs, k_values=[1, 2], covariance_types=["full"], n_jobs=1,
                  cache=cache)
    assert first.n_cached == 0 and len(cache) == 2
    calls = []
    wider = sweep(three_blobs, k_values=[1, 2, 3], covariance_types=["full"], n_jobs=1,
                  cache=cache, progress=lambda done, total: calls.append((done, total)))
    assert wider.n_cached == 2 and len(cache) == 3
    assert calls == [(1, 3), (2, 3), (3, 3)]
    pd.testing.assert_frame_equal(wider.table.iloc[:2], first.table, check_exact=True)
    settings = SweepSettings()
    assert cache[fit_key(3, "full", settings)] == score_fit(three_blobs, 3, "full", settings)
    other = SweepSettings(seed=1)
    assert fit_key(3, "full", other) not in cache


def test_bad_requests_are_refused_with_clear_messages(three_blobs, small_sweep):
    with pytest.raises(ValueError, match="k must lie between 1 and the number of rows"):
        sweep(three_blobs[:5], k_values=range(1, 8))
    with pytest.raises(ValueError, match="covariance types must be among"):
        sweep(three_blobs, covariance_types=["full", "banana"])
    with pytest.raises(ValueError, match="n_jobs must be a positive integer"):
        sweep(three_blobs, k_values=[1], n_jobs=0)
    with pytest.raises(ValueError, match="tol must be a finite number"):
        sweep(three_blobs, k_values=[1], tol=-1)
    with pytest.raises(ValueError, match="init must be one of"):
        sweep(three_blobs, k_values=[1], init="magic")
    with pytest.raises(ValueError, match="criterion must be one of"):
        small_sweep.best("entropy")


def test_big_sweeps_go_to_worker_processes(three_blobs, monkeypatch):
    monkeypatch.setattr(selection, "PARALLEL_MIN_WORK", len(three_blobs) * 3)
    big = sweep(three_blobs, k_values=[1, 2], covariance_types=["full"])
    assert big.n_jobs == min(os.cpu_count() or 1, 2)
    small = sweep(three_blobs, k_values=[1], covariance_types=["full"])
    assert small.n_jobs == 1


def test_criteria_apart_by_rounding_are_equal_and_real_differences_are_not(three_blobs):
    model = GMM(k=3, seed=0).fit(three_blobs)
    bic = model.bic(three_blobs)
    # The same BIC summed in another order: what another BLAS kernel would print.
    reordered = model.bic(three_blobs[::-1])
    assert criterion_order(reordered, bic) == "equal"
    assert criterion_order(bic + 3.638e-12, bic) == "equal"
    assert criterion_order(bic + 1e-3, bic) == "higher"
    assert criterion_order(bic - 1e-3, bic) == "lower"


@pytest.mark.parametrize("covariance_type", ["full", "diag", "VEV"])
@pytest.mark.parametrize("noise", [False, True])
def test_fit_evaluate_is_fit_then_evaluate_without_a_trace(three_blobs, covariance_type,
                                                           noise):
    # Units far from 1 make the fit run scaled (gmm_core.scaling): the evaluation comes
    # back in the data's units.
    X = three_blobs * [1e30, 1.0]
    settings = dict(k=3, covariance_type=covariance_type, tol=1e-3, init="kmeans",
                    noise=noise)
    fitted = GMM(**settings).fit(X)
    ours = GMM(**settings)
    log_likelihood, responsibilities = ours.fit_evaluate(X)
    expected_ll, expected_resp = fitted.evaluate(X)
    np.testing.assert_array_equal(log_likelihood, expected_ll)
    np.testing.assert_array_equal(responsibilities, expected_resp)
    _assert_same_fit(ours, fitted)
    assert ours.trace_ is None


def _assert_same_fit(ours, fitted):
    np.testing.assert_array_equal(ours.means_, fitted.means_)
    np.testing.assert_array_equal(ours.covariances_, fitted.covariances_)
    assert (ours.n_iter_, ours.converged_, ours.lower_bound_, ours.singular_) == (
        fitted.n_iter_, fitted.converged_, fitted.lower_bound_, fitted.singular_)


def test_fit_evaluate_finds_the_singular_components_fit_finds():
    # A component on one row (singular) and, with a second start, one that recovers.
    rng = np.random.default_rng(0)
    X = np.vstack([rng.normal(0, 1, (60, 2)), rng.normal(8, 1, (60, 2)), [[30.0, -30.0]]])
    means = np.array([[0.0, 0.0], [8.0, 8.0], [30.0, -30.0]])
    for settings in (dict(means_init=means), dict(init="kmeans", n_init=3, seed=1)):
        fitted = GMM(k=3, max_iters=50, **settings).fit(X)
        ours = GMM(k=3, max_iters=50, **settings)
        ours.fit_evaluate(X)
        _assert_same_fit(ours, fitted)
    assert set(GMM(k=3, max_iters=50, means_init=means).fit(X).singular_) == {2}


def test_a_given_partition_is_the_start_init_draws(three_blobs):
    labels = PARTITION_INITIALIZERS["kmeans"](three_blobs, 4, np.random.RandomState(5))
    given = GMM(k=4, init="kmeans", seed=5).fit(three_blobs, partition=labels)
    drawn = GMM(k=4, init="kmeans", seed=5).fit(three_blobs)
    np.testing.assert_array_equal(given.means_, drawn.means_)
    np.testing.assert_array_equal(given.trace_.mean_log_likelihood,
                                  drawn.trace_.mean_log_likelihood)
    for refused in (dict(n_init=2), dict(means_init=drawn.means_)):
        with pytest.raises(ValueError, match="single run"):
            GMM(k=4, init="kmeans", **refused).fit(three_blobs, partition=labels)


@pytest.fixture(scope="module")
def blobs_with_outliers(three_blobs):
    """The three blobs and a uniform scatter of outliers over a wider box."""
    rng = np.random.default_rng(3)
    return np.vstack([three_blobs, rng.uniform((-15, -15), (25, 25), size=(40, 2))])


@pytest.mark.parametrize("init", ["kmeans", "hierarchical"])
def test_a_sweep_with_noise_scores_each_fit_as_gmm_with_noise(blobs_with_outliers, init):
    X = blobs_with_outliers
    types = ["full", "VEV", "EII"]
    result = sweep(X, k_values=[1, 2, 3], covariance_types=types, init=init, noise=True,
                   n_jobs=1)
    plain = sweep(X, k_values=[1, 2, 3], covariance_types=types, init=init, n_jobs=1)
    assert result.settings.noise and not plain.settings.noise
    rows = result.table.set_index(["k", "covariance_type"])
    for k in (1, 2, 3):
        for covariance_type in types:
            model = GMM(k=k, covariance_type=covariance_type, tol=1e-3, reg_covar=1e-6,
                        max_iters=100, init=init, seed=42, noise=True).fit(X)
            # The noise component's weight is one more parameter, as in GMM's criteria.
            assert model.n_parameters() == n_parameters(covariance_type, k, 2) + 1
            row = rows.loc[(k, covariance_type)]
            assert row["bic"] == pytest.approx(model.bic(X), rel=1e-12)
            assert row["aic"] == pytest.approx(model.aic(X), rel=1e-12)
            assert row["icl"] == pytest.approx(model.icl(X), rel=1e-12)
            assert row["mean_loglik"] == pytest.approx(model.score(X), rel=1e-12)
            assert row["n_iter"] == model.n_iter_
    # The noise component takes the outliers: at three blobs it explains them better than
    # Gaussians stretched over them, at one more parameter.
    assert rows.loc[(3, "full"), "bic"] < plain.table.set_index(
        ["k", "covariance_type"]).loc[(3, "full"), "bic"]


def test_noise_is_part_of_a_fits_name_in_the_cache(three_blobs):
    cache = {}
    sweep(three_blobs, k_values=[2], covariance_types=["full"], n_jobs=1, cache=cache)
    with_noise = sweep(three_blobs, k_values=[2], covariance_types=["full"], n_jobs=1,
                       noise=True, cache=cache)
    assert with_noise.n_cached == 0 and len(cache) == 2
    assert fit_key(2, "full", SweepSettings(noise=True)) != fit_key(2, "full", SweepSettings())
    with pytest.raises(ValueError, match="noise must be True or False"):
        sweep(three_blobs, k_values=[1], noise="yes")
