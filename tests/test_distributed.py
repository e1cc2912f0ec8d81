"""The EM pass on a Dask cluster (two local worker processes) against the in-memory fit."""

from __future__ import annotations

import itertools
import os
import signal

import dask.array as da
import numpy as np
import pytest

from gmm_core import GMM
from gmm_core.covariance import structure_for

# scikit-learn's four and some of mclust's other models, whose M-steps (closed-form or
# iterative, gmm_core.parsimonious) take the same summed statistics.
COVARIANCE_TYPES = ["full", "tied", "diag", "spherical", "EII", "VEI", "EVE", "VEV", "EEV"]
ITERATIONS = 15
CHUNK_ROWS = 3_000


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(5)
    centres = np.array([[0.0, 0.0, 0.0], [4.0, 4.0, 0.0], [0.0, 5.0, 3.0]])
    X = np.vstack([rng.normal(c, [1.0, 0.5, 1.5], size=(4_000, 3)) for c in centres])
    return X[rng.permutation(len(X))]


def shared_start(X, covariance_type):
    """Distinct rows as means, the data covariance, equal weights."""
    k = 3
    means = X[[0, 1, 2]]
    weights = np.full(k, 1 / k)
    full = np.repeat(np.cov(X, rowvar=False)[None], k, axis=0)
    return dict(weights_init=weights, means_init=means,
                covariances_init=structure_for(covariance_type, k, 3).from_full(full, weights))


def assert_close(ours, theirs):
    np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-10 * np.abs(theirs).max())


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_a_cluster_fit_is_the_in_memory_fit_from_the_same_start(dask_client, data, covariance_type):
    settings = dict(k=3, covariance_type=covariance_type, tol=0.0, max_iters=ITERATIONS,
                    **shared_start(data, covariance_type))
    in_memory = GMM(**settings).fit(data)
    with dask_client.as_current():
        on_cluster = GMM(**settings).fit(da.from_array(data, chunks=(CHUNK_ROWS, 3)))
    # The chunks' sums are added in another order than the blocks': rounding only.
    for name in ("weights_", "means_", "covariances_", "precisions_cholesky_"):
        assert_close(getattr(on_cluster, name), getattr(in_memory, name))
    assert_close(on_cluster.trace_.mean_log_likelihood, in_memory.trace_.mean_log_likelihood)
    assert on_cluster.n_iter_ == in_memory.n_iter_ == ITERATIONS
    # The trace keeps the display rows' responsibilities, the same rows as in memory.
    np.testing.assert_array_equal(on_cluster.trace_.sample_index, in_memory.trace_.sample_index)
    assert_close(on_cluster.trace_.responsibilities, in_memory.trace_.responsibilities)


def test_a_fit_survives_a_worker_killed_in_the_middle(dask_client, data):
    settings = dict(k=3, tol=0.0, max_iters=6, **shared_start(data, "full"))
    expected = GMM(**settings).fit(data)
    worker_pids = dask_client.run(os.getpid)

    def kill_a_worker(iteration, _):
        if iteration == 2:
            os.kill(next(iter(worker_pids.values())), signal.SIGKILL)

    rows = da.from_array(data, chunks=(CHUNK_ROWS, 3))
    with dask_client.as_current():
        survived = GMM(**settings, on_iteration=kill_a_worker).fit(rows)
    assert_close(survived.means_, expected.means_)
    assert_close(survived.covariances_, expected.covariances_)
    dask_client.wait_for_workers(2, timeout=60)  # the nanny restarts it for the next test
    assert set(dask_client.run(os.getpid).values()) != set(worker_pids.values())


def test_progress_is_reported_once_per_iteration(dask_client, data):
    seen = []
    with dask_client.as_current():
        GMM(k=3, max_iters=4, tol=0.0, seed=1,
            on_iteration=lambda iteration, ll: seen.append((iteration, ll))).fit(
            da.from_array(data, chunks=(CHUNK_ROWS, 3)))
    assert [iteration for iteration, _ in seen] == [1, 2, 3, 4]
    assert all(b >= a - 1e-12 for (_, a), (_, b) in itertools.pairwise(seen))


def test_bad_rows_on_a_cluster_get_a_clear_error(dask_client, data):
    with_nan = data.copy()
    with_nan[7, 1] = np.nan
    with dask_client.as_current(), pytest.raises(ValueError, match="NaN or infinite"):
        GMM(k=3).fit(da.from_array(with_nan, chunks=(CHUNK_ROWS, 3)))
    with dask_client.as_current(), pytest.raises(ValueError, match="at least 3 are needed"):
        GMM(k=3).fit(da.from_array(data[:2], chunks=(1, 3)))
