"""Our fit beside the real scikit-learn GaussianMixture (gmm_core.compare)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from sklearn.mixture import GaussianMixture

from gmm_core.compare import (
    CONVERGENCE_RULE,
    DEGENERATE,
    ITERATION_CAP,
    LOCAL_OPTIMUM,
    SAME_OPTIMUM,
    compare_fits,
    fit_sklearn,
    match_components,
    score_final_mixture,
)
from gmm_core.model import GMM
from gmm_core.notebook import fit_notebook


def three_blobs() -> np.ndarray:
    rng = np.random.default_rng(0)
    return np.vstack([rng.normal((0, 0), 1, size=(200, 2)),
                      rng.normal((10, 0), 1, size=(200, 2)),
                      rng.normal((0, 10), 1, size=(200, 2))])


def overlapping() -> np.ndarray:
    rng = np.random.default_rng(5)
    return np.vstack([rng.normal((0, 0), 1, size=(300, 2)),
                      rng.normal((1.5, 0.5), 1, size=(300, 2))])


def fit_both(X, ours: GMM, sklearn_max_iters: int | None = None):
    ours.fit(X)
    theirs = fit_sklearn(X, ours.k, ours.covariance_type, ours.tol, ours.seed, ours.reg_covar,
                         sklearn_max_iters or ours.max_iters)
    return ours, theirs, compare_fits(X, ours, theirs)


def test_fit_sklearn_records_the_real_gaussian_mixture():
    X = three_blobs()
    fit = fit_sklearn(X, 3, "diag", tol=1e-4, seed=1, reg_covar=1e-5, max_iters=50)
    reference = GaussianMixture(3, covariance_type="diag", tol=1e-4, random_state=1,
                                reg_covar=1e-5, max_iter=50).fit(X)
    np.testing.assert_allclose(fit.means, reference.means_)
    np.testing.assert_allclose(fit.covariances, reference.covariances_)
    np.testing.assert_allclose(fit.weights, reference.weights_)
    np.testing.assert_array_equal(fit.labels, reference.predict(X))
    assert fit.converged and fit.n_iter == reference.n_iter_
    assert fit.mean_log_likelihood == pytest.approx(reference.score(X))
    assert fit.bic == pytest.approx(reference.bic(X))
    assert fit.full_covariances.shape == (3, 2, 2)


def test_matching_recovers_a_shuffled_order():
    rng = np.random.default_rng(2)
    means = rng.normal(size=(7, 3)) * 5
    order = rng.permutation(7)
    permutation = match_components(means, means[order])
    np.testing.assert_array_equal(means[order][permutation], means)
    np.testing.assert_array_equal(order[permutation], np.arange(7))


def test_matching_minimises_the_total_distance_not_each_greedily():
    # Greedy nearest-first would pair a0 with b0 (distance 1) and leave a1 with b1 (10);
    # the optimal assignment crosses them for a total of 2 + 2.
    a = np.array([[0.0, 0.0], [3.0, 0.0]])
    b = np.array([[1.0, 0.0], [-2.0, 0.0]])
    np.testing.assert_array_equal(match_components(a, b), [1, 0])


@pytest.mark.parametrize("covariance_type", ["full", "tied", "diag", "spherical"])
def test_well_separated_blobs_agree(covariance_type):
    X = three_blobs()
    *_, comparison = fit_both(X, GMM(k=3, covariance_type=covariance_type))
    assert comparison.verdict == SAME_OPTIMUM
    assert comparison.adjusted_rand_index == pytest.approx(1.0)
    assert comparison.explanation.startswith("Both reached the same optimum")
    table = comparison.table
    assert len(table) == 3
    assert table["distance between means"].max() < 1e-3
    np.testing.assert_allclose(table["weight (ours)"], table["weight (sklearn)"], atol=1e-4)
    np.testing.assert_allclose(comparison.ours_mean_log_likelihood,
                               comparison.theirs_mean_log_likelihood, atol=1e-4)
    assert comparison.ours_bic == pytest.approx(comparison.theirs_bic, rel=1e-4)


def test_a_shuffled_sklearn_fit_is_matched_back():
    X = three_blobs()
    ours, theirs, _ = fit_both(X, GMM(k=3))
    order = np.array([2, 0, 1])
    relabel = np.argsort(order)  # old component c is now at position relabel[c]
    shuffled = replace(theirs, weights=theirs.weights[order], means=theirs.means[order],
                       covariances=theirs.covariances[order], labels=relabel[theirs.labels])
    comparison = compare_fits(X, ours, shuffled, feature_names=["u", "g"])
    assert comparison.verdict == SAME_OPTIMUM
    np.testing.assert_allclose(shuffled.means[comparison.permutation], ours.means_, atol=1e-3)
    assert list(comparison.table["sklearn component"]) == list(comparison.permutation)
    assert {"mean u (ours)", "mean g (sklearn)"} <= set(comparison.table.columns)


def test_a_start_in_another_basin_is_explained_as_a_local_optimum():
    # Blobs at 0, 6 and 30 with k = 2: the best fit pairs the two near blobs; starting
    # from the partition {0} | {6, 30} converges to the other, worse optimum.
    rng = np.random.default_rng(0)
    a, b, c = (rng.normal(centre, 1, size=(200, 2)) for centre in ((0, 0), (6, 0), (30, 0)))
    X, far_pair = np.vstack([a, b, c]), np.vstack([b, c])
    ours = GMM(k=2, weights_init=[1 / 3, 2 / 3], means_init=[a.mean(0), far_pair.mean(0)],
               covariances_init=[np.cov(a.T), np.cov(far_pair.T)])
    ours, theirs, comparison = fit_both(X, ours)
    assert ours.converged_ and theirs.converged
    assert comparison.verdict == LOCAL_OPTIMUM
    assert comparison.theirs_mean_log_likelihood > comparison.ours_mean_log_likelihood + 0.5
    assert "different local optima from different starts" in comparison.explanation
    assert "scikit-learn's fits better" in comparison.explanation
    assert comparison.adjusted_rand_index < 0.9


def test_the_notebooks_identical_start_is_explained_as_degenerate():
    rng = np.random.default_rng(0)
    X = np.vstack([np.zeros((3600, 2)), np.abs(rng.normal(0.3, 0.3, size=(390, 2))),
                   rng.normal((40, 38), 1.5, size=(10, 2))]).astype(np.float32)
    _, theirs, comparison = fit_both(X, GMM(k=2, init="notebook", seed=42))
    assert comparison.verdict == DEGENERATE
    assert comparison.explanation.startswith("They differ because ours had a degenerate")
    assert "identical" in comparison.explanation
    # scikit-learn finds the outliers, as in the notebook's last cell.
    assert np.abs(theirs.means - [40, 38]).sum(axis=1).min() < 4


def test_stopping_at_the_iteration_cap_is_explained():
    X = overlapping()
    _, _, comparison = fit_both(X, GMM(k=2, max_iters=2), sklearn_max_iters=200)
    assert comparison.verdict == ITERATION_CAP
    assert comparison.explanation.startswith("They differ because ours fit stopped at the "
                                             "iteration cap")


def test_the_means_rule_is_explained_as_a_different_convergence_rule():
    X = overlapping()
    ours, theirs, comparison = fit_both(X, GMM(k=2, convergence="means", tol=0.05))
    assert ours.converged_ and theirs.converged
    assert comparison.verdict == CONVERGENCE_RULE
    assert "notebook's rule" in comparison.explanation


def test_bad_input_gives_clear_errors():
    with pytest.raises(ValueError, match="cannot match 2 components"):
        match_components(np.zeros((2, 2)), np.zeros((3, 2)))
    X = three_blobs()
    ours, theirs, _ = fit_both(X, GMM(k=3))
    with pytest.raises(ValueError, match="feature_names has 1 names for 2 features"):
        compare_fits(X, ours, theirs, feature_names=["only"])
    with pytest.raises(ValueError, match="X has 3 features"):
        compare_fits(np.zeros((10, 3)), ours, theirs)


# ------------------------------------------------------------------ a trace as our side
def spike_with_outliers() -> np.ndarray:
    rng = np.random.default_rng(0)
    return np.vstack([np.zeros((3600, 2)), np.abs(rng.normal(0.3, 0.3, size=(390, 2))),
                      rng.normal((40, 38), 1.5, size=(10, 2))]).astype(np.float32)


def test_a_traces_final_mixture_scores_as_the_fitted_model_does():
    X = three_blobs()
    for covariance_type in ("full", "diag"):
        model = GMM(k=3, covariance_type=covariance_type, seed=3).fit(X)
        score = score_final_mixture(X, model.trace_)
        assert score.mean_log_likelihood == pytest.approx(model.score(X), rel=1e-10)
        assert score.bic == pytest.approx(model.bic(X), rel=1e-10)
        np.testing.assert_array_equal(score.labels, model.predict(X))


def test_the_notebook_replay_is_compared_like_a_fit():
    X = three_blobs()
    trace = fit_notebook(X, k=3, seed=0)
    theirs = fit_sklearn(X, 3, seed=0)
    comparison = compare_fits(X, trace, theirs, feature_names=["u", "g"])
    assert comparison.verdict == SAME_OPTIMUM
    assert comparison.adjusted_rand_index == pytest.approx(1.0)
    assert {"weight (notebook)", "mean u (notebook)", "mean g (sklearn)"} <= set(
        comparison.table.columns)
    np.testing.assert_allclose(theirs.means[comparison.permutation], trace.means[-1],
                               atol=1e-2)
    assert comparison.ours_bic == pytest.approx(comparison.theirs_bic, rel=1e-4)


def test_the_notebooks_own_failure_is_the_explanation():
    X = spike_with_outliers()
    trace = fit_notebook(X, k=2, seed=42)
    comparison = compare_fits(X, trace, fit_sklearn(X, 2, seed=42))
    assert comparison.verdict == DEGENERATE
    assert comparison.explanation.startswith(
        "They differ because the notebook's fit had a degenerate component (The random start "
        "drew rows")
    # Scored exactly, the collapsed mixture is far worse than the notebook's ε-floored
    # log-likelihood says.
    assert comparison.ours_mean_log_likelihood < trace.mean_log_likelihood[-1] - 100
    assert comparison.ours_bic > comparison.theirs_bic


def test_a_trace_ending_on_a_singular_covariance_cannot_be_scored():
    X = three_blobs()
    trace = GMM(k=3).fit(X).trace_
    trace.covariances[-1, 1] = [[1.0, 1.0], [1.0, 1.0]]  # all on a line
    with pytest.raises(ValueError, match=r"component\(s\) \[1\] is singular"):
        score_final_mixture(X, trace)

