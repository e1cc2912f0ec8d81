"""mclust's start (gmm_core.hierarchical): the agglomeration's criterion, its ties, the
SVD transformation, the one-feature quantile classes, the subset, and init="hierarchical".

mclust's own printed results from this start are in tests/test_mclust_reference.py."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from sklearn.metrics import adjusted_rand_score

from gmm_core import GMM, hierarchical
from gmm_core.hierarchical import (
    HierarchicalTree,
    cut,
    hierarchical_partition,
    quantile_classes,
    svd_transform,
    vvv_merges,
)
from gmm_core.selection import sweep


def blobs(seed=0, n=40, separation=6.0):
    rng = np.random.default_rng(seed)
    return np.vstack([rng.normal(0.0, 1.0, size=(n, 2)),
                      rng.normal(separation, 1.0, size=(n, 2))])


def naive_cost(rows: np.ndarray, p: int, alpha: float) -> float:
    """hcVVV's cost of one cluster written out from its definition (mclust's vvvtij)."""
    n = len(rows)
    deviations = rows - rows.mean(axis=0)
    scatter = deviations.T @ deviations
    trace_term = (np.trace(scatter) + alpha) / n
    if n <= p:
        return n * np.log(trace_term)
    return n * np.log(max(np.linalg.det(scatter / n), 0.0) + trace_term)


def naive_merges(Z: np.ndarray) -> list[tuple[int, int]]:
    """Every stage, every pair of clusters tried: the least increase merges."""
    n, p = Z.shape
    alpha = ((Z - Z.mean(axis=0)) ** 2).sum() / (n * p)
    clusters = {i: [i] for i in range(n)}
    merges = []
    while len(clusters) > 1:
        increases = {
            (a, b): naive_cost(Z[clusters[a] + clusters[b]], p, alpha)
            - naive_cost(Z[clusters[a]], p, alpha) - naive_cost(Z[clusters[b]], p, alpha)
            for a, b in itertools.combinations(sorted(clusters), 2)}
        a, b = min(increases, key=increases.get)
        clusters[a] += clusters.pop(b)
        merges.append((a, b))
    return merges


@pytest.mark.parametrize("seed", range(4))
def test_agglomeration_merges_the_least_increase_at_every_stage(seed):
    rng = np.random.default_rng(seed)
    Z = np.vstack([rng.normal(0, 1, size=(15, 3)), rng.normal(2, 0.5, size=(15, 3))])
    assert [tuple(pair) for pair in vvv_merges(Z)] == naive_merges(Z)


def test_two_separated_blobs_are_split_at_two_clusters():
    X = blobs()
    _, labels = hierarchical_partition(X, 2)
    assert set(labels[:40]) != set(labels[40:])
    assert len(set(labels[:40])) == len(set(labels[40:])) == 1


@pytest.mark.parametrize("k", [1, 2, 3, 5, 8])
def test_partition_has_k_non_empty_clusters(k):
    X = np.vstack([blobs(seed=1), blobs(seed=1)[:10]])  # with duplicate rows
    rows, labels = hierarchical_partition(X, k)
    assert np.array_equal(rows, np.arange(len(X)))
    assert np.array_equal(np.unique(labels), np.arange(k))


def test_labels_are_numbered_in_order_of_first_appearance():
    # hclass numbers clusters as mclust's partconv does.
    labels = cut(np.array([[0, 3], [1, 2], [0, 1]]), 4, 2)
    assert labels.tolist() == [0, 1, 1, 0]


def test_without_ties_the_partition_does_not_depend_on_row_order():
    X = blobs(seed=2, separation=3.0)
    _, labels = hierarchical_partition(X, 3)
    for seed in range(3):
        order = np.random.default_rng(seed).permutation(len(X))
        _, shuffled = hierarchical_partition(X[order], 3)
        back = np.empty_like(shuffled)
        back[order] = shuffled
        assert adjusted_rand_score(labels, back) == 1.0


def test_tied_pairs_merge_as_mclusts_scan_does():
    # Two pairs of identical rows tie for the first merge; hcvvv keeps the last pair in
    # its scan order, the one with the higher row indices.
    X = np.array([[0.0, 0.0], [0.0, 0.0], [5.0, 1.0], [9.0, 3.0], [2.0, 7.0],
                  [7.0, 7.0], [7.0, 7.0]])
    merges = vvv_merges(svd_transform(X))
    assert merges[0].tolist() == [5, 6]
    assert np.array_equal(vvv_merges(svd_transform(X)), merges)


def test_svd_transform_whitens_and_ignores_units_and_constant_columns():
    X = blobs(seed=3)
    Z = svd_transform(X)
    # Z = S V D^(-1/2) with S = U D V': Z'Z = D, diagonal.
    gram = Z.T @ Z
    assert np.allclose(gram, np.diag(np.diag(gram)))
    scaled = np.column_stack([X[:, 0] * 1000.0 + 7.0, X[:, 1], np.full(len(X), 3.0)])
    assert np.allclose(np.abs(svd_transform(scaled)), np.abs(Z))
    assert np.array_equal(hierarchical_partition(scaled, 3)[1], hierarchical_partition(X, 3)[1])


def test_one_feature_starts_from_quantile_classes():
    x = np.arange(100.0)
    assert np.bincount(quantile_classes(x, 4)).tolist() == [25, 25, 25, 25]
    _, labels = hierarchical_partition(x[:, None], 4)
    assert np.array_equal(labels, quantile_classes(x, 4))
    # Coinciding quantiles: more are taken and the closest dropped, so k classes remain.
    skewed = np.array([0.0] * 50 + [1.0] * 30 + list(range(2, 22)))
    assert len(np.unique(quantile_classes(skewed, 3))) == 3
    # Fewer distinct values than classes: k runs of the sorted rows.
    assert quantile_classes(np.array([2.0, 1.0, 2.0, 1.0]), 3).tolist() == [1, 0, 2, 0]


def test_k_outside_one_to_n_is_refused():
    X = blobs()[:5]
    with pytest.raises(ValueError, match=r"1 <= k <= the number of rows \(5\); got k = 6"):
        hierarchical_partition(X, 6)
    with pytest.raises(ValueError, match="got k = 0"):
        hierarchical_partition(X, 0)


@pytest.fixture
def small_subset(monkeypatch):
    """A subset of 200 rows, so that 300 rows are more than it (mclust's is 2000)."""
    assert hierarchical.SUBSET_ROWS == 2000
    monkeypatch.setattr(hierarchical, "SUBSET_ROWS", 200)


def test_more_rows_than_the_subset_agglomerate_a_deterministic_subset(small_subset):
    rng = np.random.default_rng(4)
    X = np.vstack([rng.normal(0, 1, size=(150, 2)), rng.normal(8, 1, size=(150, 2))])
    rows, labels = hierarchical_partition(X, 2)
    assert len(rows) == 200 and len(np.unique(rows)) == 200
    order = rng.permutation(len(X))
    shuffled_rows, _ = hierarchical_partition(X[order], 2)
    assert np.array_equal(np.sort(order[shuffled_rows]), rows)  # the same rows, any order
    assert set(labels[rows < 150]) != set(labels[rows >= 150])


def test_init_hierarchical_ignores_the_seed_and_starts_from_the_partition():
    X = blobs(seed=5, separation=4.0)
    fits = [GMM(k=2, init="hierarchical", seed=seed, max_iters=1, tol=0).fit(X)
            for seed in (0, 1)]
    assert np.array_equal(fits[0].means_, fits[1].means_)
    _, labels = hierarchical_partition(X, 2)
    first_means = fits[0].trace_.means[0]
    assert np.allclose(first_means, [X[labels == c].mean(axis=0) for c in range(2)])


def test_init_hierarchical_on_a_subset_takes_the_m_step_from_the_subset_alone(small_subset):
    rng = np.random.default_rng(6)
    X = np.vstack([rng.normal(0, 1, size=(150, 2)), rng.normal(6, 1, size=(150, 2))])
    rows, labels = hierarchical_partition(X, 2)
    model = GMM(k=2, init="hierarchical", max_iters=1, tol=0).fit(X)
    first_means = model.trace_.means[0]
    assert np.allclose(first_means, [X[rows][labels == c].mean(axis=0) for c in range(2)])


@pytest.mark.parametrize("data", ["blobs", "subset", "one feature", "fewer rows than features",
                                  "duplicate rows"])
def test_one_tree_cut_at_every_k_gives_each_ks_own_partition(data, small_subset):
    rng = np.random.default_rng(8)
    X = {"blobs": blobs(seed=7, n=30, separation=3.0),
         "subset": np.vstack([rng.normal(0, 1, size=(150, 2)), rng.normal(5, 1, size=(150, 2))]),
         "one feature": rng.normal(size=(50, 1)),
         "fewer rows than features": rng.normal(size=(4, 6)),
         "duplicate rows": np.repeat(rng.normal(size=(12, 2)), 3, axis=0)}[data]
    tree = HierarchicalTree(X)
    for k in range(1, min(len(X), 12) + 1):
        rows, labels = tree.partition(k)
        expected_rows, expected_labels = hierarchical_partition(X, k)
        np.testing.assert_array_equal(rows, expected_rows)
        np.testing.assert_array_equal(labels, expected_labels, err_msg=f"k={k}")


def test_a_hierarchical_sweep_agglomerates_once_and_fits_as_gmm(monkeypatch):
    X = blobs(seed=9, n=60, separation=5.0)
    calls = []
    merges = hierarchical.vvv_merges
    monkeypatch.setattr(hierarchical, "vvv_merges", lambda Z: calls.append(1) or merges(Z))
    result = sweep(X, k_values=range(1, 6), covariance_types=["full", "VII"],
                   init="hierarchical", n_jobs=1)
    assert len(calls) == 1
    for _, row in result.table.iterrows():
        model = GMM(k=int(row["k"]), covariance_type=row["covariance_type"], tol=1e-3,
                    init="hierarchical").fit(X)
        assert row["bic"] == pytest.approx(model.bic(X), rel=1e-12)
        assert row["n_iter"] == model.n_iter_
