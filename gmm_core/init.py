"""Initializers: the starting mixture for EM.

Most start from a partition of the rows (hard labels or soft responsibilities) and take
one M-step from it, as scikit-learn does; "hierarchical" is mclust's partition
(gmm_core.hierarchical), deterministic: it ignores the seed. The notebook's start is a
parameter choice instead: random rows as means, the data covariance for every component,
equal weights.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import numpy as np
from sklearn.cluster import kmeans_plusplus
from sklearn.cluster._kmeans import _kmeans_plusplus, _kmeans_single_lloyd, _tolerance
from sklearn.metrics import pairwise_distances_argmin
from sklearn.utils._openmp_helpers import _openmp_effective_n_threads
from sklearn.utils.extmath import row_norms

from gmm_core.covariance import CovarianceStructure
from gmm_core.estep import DesignBlocks, statistics_from_responsibilities
from gmm_core.hierarchical import HierarchicalTree
from gmm_core.mstep import MixtureParameters, parameters_from_statistics
from gmm_core.request import PLACED

# KMeans's defaults for its stopping rule, which its start keeps.
KMEANS_TOL, KMEANS_MAX_ITER = 1e-4, 300


def _labels_kmeans_plusplus(X, k, rng):
    centers, _ = kmeans_plusplus(X, k, random_state=rng)
    return pairwise_distances_argmin(X, centers)


def _labels_random_from_data(X, k, rng):
    # scikit-learn gives each chosen row alone to its component, which starts every
    # covariance at reg_covar; assigning all rows to the nearest chosen row starts
    # from covariances the data can support.
    centers = X[rng.choice(len(X), size=k, replace=False)]
    return pairwise_distances_argmin(X, centers)


class KMeansRows:
    """Rows ready for ``KMeans(n_clusters=k, n_init=1, random_state=rng).fit(X).labels_``
    at any k, by the steps of scikit-learn's ``KMeans.fit`` (pinned in requirements.txt;
    tests/test_init_kmeans.py checks the labels are KMeans's).

    The estimator's own fit adds about 1 ms of fixed cost per call (parameter validation,
    thread-pool limits, its checks of the OpenMP and BLAS libraries), as much as its
    k-means++ and Lloyd steps together on a few thousand rows; and what depends on the
    rows alone (a centred copy, its squared norms, the tolerance) is made once here for
    every k of a model-selection sweep.
    """

    def __init__(self, X: np.ndarray):
        # KMeans.fit fits a copy centred on its mean, in float32 if given float32.
        X = np.array(X, dtype=X.dtype if X.dtype == np.float32 else np.float64, order="C")
        self.tol = _tolerance(X, KMEANS_TOL)  # of the rows before centring, as KMeans
        X -= X.mean(axis=0)
        self.X = X
        self.squared_norms = row_norms(X, squared=True)
        self.sample_weight = np.ones(len(X), dtype=X.dtype)

    def labels(self, k: int, rng: np.random.RandomState) -> np.ndarray:
        centers, _ = _kmeans_plusplus(self.X, k, self.squared_norms, self.sample_weight, rng)
        labels, *_ = _kmeans_single_lloyd(self.X, self.sample_weight, centers,
                                          max_iter=KMEANS_MAX_ITER, tol=self.tol,
                                          n_threads=_openmp_effective_n_threads())
        return labels


def _labels_kmeans(X, k, rng):
    return KMeansRows(X).labels(k, rng)


def _hierarchical_responsibilities(X, k, rng):
    return _responsibilities_from_tree(HierarchicalTree(X), k)


def _responsibilities_from_tree(tree: HierarchicalTree, k: int) -> np.ndarray:
    # On a subset, mclust takes the M-step from the subset's rows alone: the other rows
    # get no responsibility.
    rows, labels = tree.partition(k)
    if len(rows) == tree.n_rows:
        return labels
    resp = np.zeros((tree.n_rows, k))
    resp[rows, labels] = 1.0
    return resp


def _random_responsibilities(X, k, rng):
    resp = rng.uniform(size=(len(X), k))
    return resp / resp.sum(axis=1, keepdims=True)


PARTITION_INITIALIZERS = {
    "kmeans++": _labels_kmeans_plusplus,
    "random_from_data": _labels_random_from_data,
    "kmeans": _labels_kmeans,
    "random": _random_responsibilities,
    "hierarchical": _hierarchical_responsibilities,
}


def partitioner(method: str, X: np.ndarray) -> Callable[[int, np.random.RandomState],
                                                          np.ndarray]:
    """``partition(k, rng)``: ``PARTITION_INITIALIZERS[method](X, k, rng)``, with what does
    not depend on k made once (a model-selection sweep takes a start per k)."""
    if method == "kmeans":
        return KMeansRows(X).labels
    if method == "hierarchical":  # mclust's tree, cut at each k
        tree = HierarchicalTree(X)
        return lambda k, rng: _responsibilities_from_tree(tree, k)
    return functools.partial(PARTITION_INITIALIZERS[method], X)


def notebook_parameters(X: np.ndarray, k: int, structure: CovarianceStructure,
                        reg_covar: float, rng: np.random.RandomState) -> MixtureParameters:
    """The notebook's start (its section 7): k distinct random rows, Cov(X) + reg, 1/k.

    The rows are drawn by ``rng.choice(n, k, replace=False)`` so that a fresh
    ``RandomState(42)`` draws exactly what the notebook's ``np.random.seed(42)`` did.
    """
    means = np.array(X[rng.choice(len(X), size=k, replace=False)], dtype=float)
    data_cov = np.atleast_2d(np.cov(X, rowvar=False, ddof=1)) + reg_covar * np.eye(X.shape[1])
    weights = np.full(k, 1.0 / k)
    full = np.broadcast_to(data_cov, (k, *data_cov.shape))
    return MixtureParameters(weights, means, structure.from_full(full, weights))


def placed_parameters(X: np.ndarray, means: np.ndarray, structure: CovarianceStructure,
                      blocks: DesignBlocks, reg_covar: float) -> MixtureParameters:
    """A start whose means are given (placed by hand): the means exactly as given, the
    weights and covariances as a k-means++ start takes them from its centres (one M-step
    from every row given to its nearest mean). A mean no row is nearest to starts with
    the data's covariance and the weight of one row."""
    means = np.array(means, dtype=float)
    k = len(means)
    params = parameters_from_partition(pairwise_distances_argmin(X, means), k, structure,
                                       blocks, reg_covar)
    params.means = means
    empty = np.flatnonzero(params.weights * len(X) < 0.5)
    if empty.size:
        data_cov = np.atleast_2d(np.cov(X, rowvar=False)) + reg_covar * np.eye(X.shape[1])
        for component in empty:
            structure.set_component(params.covariances, component, data_cov)
        params.weights[empty] = 1.0 / len(X)
        params.weights /= params.weights.sum()
    return params


def initial_parameters(method: str, X: np.ndarray, k: int, structure: CovarianceStructure,
                       blocks: DesignBlocks, reg_covar: float,
                       rng: np.random.RandomState, means=None) -> MixtureParameters:
    """The start ``method`` names; ``means`` are the given means ``init="placed"`` needs."""
    if method == "notebook":
        return notebook_parameters(X, k, structure, reg_covar, rng)
    if method == PLACED:
        if means is None:
            raise ValueError("init='placed' needs the means: pass means_init")
        return placed_parameters(X, means, structure, blocks, reg_covar)
    try:
        partition = PARTITION_INITIALIZERS[method](X, k, rng)
    except KeyError:
        allowed = ", ".join([*PARTITION_INITIALIZERS, "notebook", PLACED])
        raise ValueError(f"init must be one of {allowed}; got {method!r}") from None
    return parameters_from_partition(partition, k, structure, blocks, reg_covar)


def parameters_from_partition(partition: np.ndarray, k: int, structure: CovarianceStructure,
                              blocks: DesignBlocks, reg_covar: float) -> MixtureParameters:
    """One M-step from hard labels ``(n,)`` or responsibilities ``(n, k)``."""
    statistics = statistics_from_responsibilities(blocks, partition, k)
    return parameters_from_statistics(statistics, structure, blocks.shift[:, 0], reg_covar)
