"""init="kmeans" takes scikit-learn's KMeans steps without the estimator: its labels and
its use of the random state must be KMeans's own, on any data."""

import contextlib
import warnings

import numpy as np
import pytest
from sklearn.cluster import KMeans
from sklearn.exceptions import ConvergenceWarning

from gmm_core.init import PARTITION_INITIALIZERS
from gmm_core.threads import single_threaded


def _data_sets():
    rng = np.random.default_rng(7)
    blobs = np.concatenate([rng.normal(c, 0.6, size=(300, 2)) for c in ([0, 0], [4, 1], [1, 5])])
    yield "blobs", blobs
    yield "blobs far from the origin", blobs + 1e6
    yield "float32", blobs.astype(np.float32)
    yield "5-D", rng.normal(size=(500, 5)) * [1, 10, 0.1, 1, 3]
    yield "uniform", rng.uniform(size=(1000, 2))
    # Rows on a small integer grid: many rows tie at equal distance from two centres.
    yield "integer grid (ties)", rng.integers(0, 4, size=(400, 2)).astype(float)
    yield "duplicate rows", np.repeat(rng.normal(size=(40, 3)), 10, axis=0)
    # Fewer distinct rows than k: KMeans leaves clusters empty and relocates them.
    yield "3 distinct rows", np.repeat([[0.0, 0.0], [1.0, 2.0], [5.0, 5.0]], 20, axis=0)
    yield "one column", rng.normal(size=(300, 1))


DATA_SETS = dict(_data_sets())


@pytest.mark.parametrize("name", DATA_SETS)
@pytest.mark.parametrize("threads", ["default", "one"])
def test_kmeans_labels_and_random_state_are_scikit_learns(name, threads):
    X = DATA_SETS[name]
    ours_kmeans = PARTITION_INITIALIZERS["kmeans"]
    threads_context = single_threaded if threads == "one" else contextlib.nullcontext
    for k in (1, 2, 3, 5, 8, 12):
        for seed in (0, 1, 42):
            with warnings.catch_warnings(), threads_context():
                warnings.simplefilter("ignore", ConvergenceWarning)
                ours_rng, their_rng = np.random.RandomState(seed), np.random.RandomState(seed)
                ours = ours_kmeans(X, k, ours_rng)
                theirs = KMeans(n_clusters=k, n_init=1, random_state=their_rng).fit(X).labels_
            np.testing.assert_array_equal(ours, theirs, err_msg=f"{name}, k={k}, seed={seed}")
            assert ours.dtype == theirs.dtype
            # The random state is left where KMeans leaves it (n_init restarts draw on).
            assert ours_rng.randint(2**31) == their_rng.randint(2**31)


def test_kmeans_start_leaves_the_rows_unchanged():
    X = DATA_SETS["blobs"].copy()
    PARTITION_INITIALIZERS["kmeans"](X, 3, np.random.RandomState(0))
    np.testing.assert_array_equal(X, DATA_SETS["blobs"])
