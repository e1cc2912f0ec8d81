"""mclust's start: model-based hierarchical agglomeration, cut at k clusters.

``Mclust()`` (R package mclust 5.4 and later) starts EM for every model and number of
components from one partition (mclust's ``mclustBIC`` in R/mclust.R):

1. On more than 2000 rows (``mclust.options("subset")``), only 2000 of them take part;
   mclust draws them at random. The EM then starts from one M-step on those rows alone.
2. The rows are transformed by ``mclust.options("hcUse")``, ``"SVD"`` by default (R/init.R,
   ``hc``): each column centred and scaled to unit standard deviation, then rotated onto
   the right singular vectors V and scaled: ``Z = S V D^(-1/2)``, where ``S = U D V'``.
3. On Z, ``hcVVV`` agglomerates (R/init.R; Fortran ``hcvvv`` and ``vvvtij`` in
   src/mclust.f): from singletons, each stage merges the two clusters whose merge
   increases the cost ``sum_k c(k)`` least, where for a cluster of n rows with
   scatter matrix W (sum of outer products of the deviations from its mean)

       c = n log( beta (tr W + alpha) / n )                     if n <= p,
       c = n log( det(W / n) + beta (tr W + alpha) / n )        if n > p,

   with ``alpha = tr(W_all) / (n p)`` of all of Z and ``beta = 1``. Without the trace
   terms, ``sum_k n_k log det(W_k / n_k)`` is -2 times the classification likelihood of
   the unconstrained (VVV) model up to a constant (Banfield & Raftery 1993, Biometrics
   49:803-821); the trace terms are Fraley's regularization, which makes singletons and
   clusters of at most p rows (whose W is singular) comparable (Fraley 1998,
   "Algorithms for model-based Gaussian hierarchical clustering", SIAM J. Sci. Comput.
   20:270-281). A singleton costs ``log(alpha beta)``.
4. ``hclass`` cuts the tree where k clusters remain.

On one feature there is no agglomeration: mclust starts from ``qclass``, k classes
between sample quantiles (R/init.R), and so does ``hierarchical_partition`` here. On no
more rows than features mclust agglomerates with ``hcEII``, Ward's sum-of-squares
criterion (Fraley 1998), here scipy's Ward linkage.

Where this differs from mclust:

- The subset is not random but every (n/2000)-th row in lexicographic order of the
  rows, so the start is deterministic (it takes no seed) and picks the same rows in
  any row order.
- Ties (equal increases, e.g. duplicate rows) are broken as hcvvv breaks them (see
  ``vvv_merges``), which depends on the order of the rows; without ties the partition
  does not. Increases equal in exact arithmetic but not in floating point (two pairs
  of rows the same distance apart) may break differently from mclust's Fortran.
- Where ``qclass`` would leave a class empty, the classes start at k evenly spaced
  distinct values instead; with fewer than k distinct values (where mclust's loop
  never ends) they are k runs of the sorted rows (see ``quantile_classes``).
- Directions of zero variance are dropped from Z (mclust would divide by a zero
  singular value), as mclust drops columns that are constant.
"""

from __future__ import annotations

import functools

import numpy as np
from scipy.cluster.hierarchy import cut_tree, ward
from scipy.spatial.distance import cdist

# mclust.options("subset"): more rows than this, and the agglomeration sees this many.
SUBSET_ROWS = 2000
# hcVVV's beta (its other argument, a factor on alpha, is 1 too in mclust's defaults).
BETA = 1.0


def svd_transform(X: np.ndarray) -> np.ndarray:
    """mclust's ``hcUse = "SVD"``: ``Z = S V D^(-1/2)`` of the standardized columns S."""
    X = np.asarray(X, dtype=float)
    spread = X.std(axis=0, ddof=1) if len(X) > 1 else np.zeros(X.shape[1])
    varying = spread > 0
    S = (X[:, varying] - X[:, varying].mean(axis=0)) / spread[varying]
    _, singular, Vt = np.linalg.svd(S, full_matrices=False)
    kept = singular > singular[:1].max(initial=0.0) * max(S.shape) * np.finfo(float).eps
    return (S @ Vt[kept].T) / np.sqrt(singular[kept])


def subset_rows(X: np.ndarray, limit: int) -> np.ndarray:
    """Indices of the rows the agglomeration sees: all of them up to ``limit``, else
    ``limit`` rows evenly spaced through the rows sorted lexicographically."""
    n = len(X)
    if n <= limit:
        return np.arange(n)
    order = np.lexsort(np.asarray(X).T[::-1])
    return np.sort(order[np.linspace(0, n - 1, limit).round().astype(int)])


def _cluster_costs(n: np.ndarray, trace: np.ndarray, scatter: np.ndarray, p: int,
                   alpha: float) -> np.ndarray:
    """vvvtij: the cost c above for clusters of ``n`` rows, ``trace`` = tr W."""
    log_trace_term = np.log(BETA * (trace + alpha) / n)
    cost = log_trace_term.copy()
    large = n > p
    if large.any():
        sign, logdet = np.linalg.slogdet(scatter[large] / n[large, None, None])
        logdet = np.where(sign > 0, logdet, -np.inf)
        cost[large] = np.logaddexp(logdet, log_trace_term[large])
    return n * cost


def vvv_merges(Z: np.ndarray) -> np.ndarray:
    """``(n - 1, 2)`` clusters merged at each stage of hcVVV on ``Z``, each cluster named
    by its smallest row index."""
    n, p = Z.shape
    alpha = max(((Z - Z.mean(axis=0)) ** 2).sum() / (n * p), np.finfo(float).eps)
    size = np.ones(n)
    means = Z.astype(float).copy()
    scatter = np.zeros((n, p, p))
    cost = np.full(n, np.log(BETA * alpha))
    active = np.ones(n, dtype=bool)
    # hcvvv keeps the clusters in slots 1..g: a merged cluster takes the lower slot of
    # the two and the cluster in slot g moves to the higher one. Of tied pairs it merges
    # the last in its scan order: the highest higher slot, then the highest lower slot.
    slot = np.arange(n)
    occupant = np.arange(n)

    # Two singletons merge into a cluster of 2 <= p rows (p >= 2): trace terms only.
    increase = (2 * np.log(BETA * (cdist(Z, Z, "sqeuclidean") / 2 + alpha) / 2)
                - 2 * np.log(BETA * alpha))
    np.fill_diagonal(increase, np.inf)
    # Each cluster's least increase with any other, and one cluster giving it.
    best = increase.min(axis=1)
    partner = increase.argmin(axis=1)

    merges = np.empty((n - 1, 2), dtype=np.intp)
    for stage, groups in enumerate(range(n, 1, -1)):
        least = best.min()
        tied = np.flatnonzero(best == least)
        rows, columns = np.nonzero(increase[tied] == least)
        rows = tied[rows]
        high, low = np.maximum(slot[rows], slot[columns]), np.minimum(slot[rows], slot[columns])
        chosen = np.argmax(high * n + low)
        i, j = sorted((int(rows[chosen]), int(columns[chosen])))
        merges[stage] = i, j

        delta = means[j] - means[i]
        factor = size[i] * size[j] / (size[i] + size[j])
        scatter[i] += scatter[j] + factor * np.outer(delta, delta)
        means[i] += delta * size[j] / (size[i] + size[j])
        size[i] += size[j]
        cost[i] = _cluster_costs(size[i:i + 1], np.trace(scatter[i])[None], scatter[i:i + 1],
                                 p, alpha)[0]
        active[j] = False
        increase[j, :] = increase[:, j] = np.inf
        best[j] = np.inf
        lower, higher = sorted((slot[i], slot[j]))
        moved = occupant[groups - 1]
        slot[i] = lower
        occupant[lower] = i
        if higher != groups - 1:
            slot[moved] = higher
            occupant[higher] = moved

        others = np.flatnonzero(active)
        others = others[others != i]
        if not others.size:
            break
        delta = means[others] - means[i]
        factor = size[others] * size[i] / (size[others] + size[i])
        merged_scatter = (scatter[others] + scatter[i]
                          + factor[:, None, None] * delta[:, :, None] * delta[:, None, :])
        merged_cost = _cluster_costs(size[others] + size[i],
                                     np.trace(merged_scatter, axis1=1, axis2=2),
                                     merged_scatter, p, alpha)
        increase[i, others] = increase[others, i] = merged_cost - cost[others] - cost[i]
        best[i] = increase[i].min()
        partner[i] = increase[i].argmin()

        # Clusters whose least was with i or j look again; the others compare with i.
        was_merged = np.isin(partner[others], (i, j))
        stale, fresh = others[was_merged], others[~was_merged]
        best[stale] = increase[stale].min(axis=1)
        partner[stale] = increase[stale].argmin(axis=1)
        better = fresh[increase[fresh, i] < best[fresh]]
        best[better] = increase[better, i]
        partner[better] = i
    return merges


def cut(merges: np.ndarray, n: int, k: int) -> np.ndarray:
    """mclust's ``hclass``: labels ``0..k-1`` (numbered in order of first appearance)
    after the first ``n - k`` merges."""
    head = np.arange(n)
    for i, j in merges[:n - k]:
        head[head == j] = i
    _, first, labels = np.unique(head, return_index=True, return_inverse=True)
    return np.argsort(np.argsort(first))[labels]


def quantile_classes(x: np.ndarray, k: int) -> np.ndarray:
    """mclust's ``qclass``: k classes between sample quantiles of one feature (labels
    ``0..k-1``). Where quantiles coincide, more are taken and the closest dropped."""
    x = np.asarray(x, dtype=float).ravel()
    if len(np.unique(x)) < k:
        # mclust's loop would never end. k runs of rows in sorted order, some sharing a
        # value: the fit then reports identical components, as after any other start.
        labels = np.empty(len(x), dtype=np.intp)
        labels[np.argsort(x, kind="stable")] = np.arange(len(x)) * k // len(x)
        return labels
    count = k
    edges = np.array([])
    while len(edges) < k + 1:
        count += 1
        edges = np.unique(np.quantile(x, np.linspace(0, 1, count)))
    if len(edges) > k + 1:
        closest = np.argsort(np.diff(edges), kind="stable")[:len(edges) - k - 1]
        edges = np.delete(edges, closest)
    eps = np.sqrt(np.finfo(float).eps)
    edges[0], edges[-1] = x.min() - eps, x.max() + eps
    labels = np.searchsorted(edges, x, side="right") - 1
    if len(np.unique(labels)) < k:
        # Two edges with no value between them: mclust would start a component from no
        # rows. Here each class starts at one of k evenly spaced distinct values instead.
        distinct = np.unique(x)
        labels = np.searchsorted(distinct[np.arange(k) * len(distinct) // k], x,
                                 side="right") - 1
    return labels


class HierarchicalTree:
    """mclust's agglomeration of ``X`` made once and cut at any k, as mclust's
    ``mclustBIC`` cuts its one tree for every number of components."""

    def __init__(self, X: np.ndarray):
        X = np.asarray(X)
        self.n_rows = len(X)
        self.rows = subset_rows(X, SUBSET_ROWS)
        self.X = X[self.rows]
        self.Z = svd_transform(self.X)

    @functools.cached_property
    def _vvv_merges(self) -> np.ndarray:
        return vvv_merges(self.Z)

    @functools.cached_property
    def _ward_linkage(self) -> np.ndarray:
        return ward(self.Z)

    def partition(self, k: int) -> tuple[np.ndarray, np.ndarray]:
        """``hierarchical_partition(X, k)``."""
        if not 1 <= k <= self.n_rows:
            raise ValueError(f"init='hierarchical' needs 1 <= k <= the number of rows "
                             f"({self.n_rows}); got k = {k}")
        rows, X, Z = self.rows, self.X, self.Z
        if k == 1 or Z.shape[1] == 0:
            return rows, np.zeros(len(rows), dtype=np.intp)
        if Z.shape[1] == 1:
            return rows, quantile_classes(X[:, 0] if X.shape[1] == 1 else Z[:, 0], k)
        if len(X) <= X.shape[1]:
            return rows, cut_tree(self._ward_linkage, n_clusters=k)[:, 0]
        return rows, cut(self._vvv_merges, len(X), k)


def hierarchical_partition(X: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """mclust's starting partition of ``X`` into ``k`` clusters: ``(rows, labels)``,
    the rows it covers (all of them up to SUBSET_ROWS) and their labels ``0..k-1``.
    For several k of the same rows, ``HierarchicalTree(X).partition(k)`` agglomerates
    once."""
    return HierarchicalTree(X).partition(k)
