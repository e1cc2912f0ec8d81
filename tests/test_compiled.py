"""The compiled per-block kernels (gmm_core.compiled) against the plain NumPy formulas
of gmm_core.estep, on data far from the origin and log-probabilities far below zero."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import numpy as np
import pytest

from gmm_core import compiled, estep
from gmm_core.covariance import structure_for
from gmm_core.estep import LOG_RESPONSIBILITY_FLOOR, DesignBlocks, normalize_log_probabilities
from gmm_core.model import GMM
from gmm_core.mstep import MixtureParameters, design_weights
from gmm_core.request import COVARIANCE_TYPES

BLOCK_ROWS = 64


def numpy_design(X, shift, structure):
    """``[phi(x~); x~; 1]`` ``(F, n)`` the NumPy way (DesignBlocks below the threshold)."""
    p, d = structure.n_quadratic(), X.shape[1]
    design = np.ones((p + d + 1, len(X)))
    np.subtract(X.T, shift[:, None], out=design[p:p + d])
    structure.fill_quadratic(design[p:p + d], design[:p])
    return design


@pytest.mark.parametrize("covariance_type", [*COVARIANCE_TYPES, "VEV"])
@pytest.mark.parametrize("d", [1, 3, 6])
def test_the_design_block_is_the_numpy_one(covariance_type, d):
    rng = np.random.default_rng(d)
    X = 1e6 + rng.normal(scale=[10.0 ** e for e in range(-3, d - 3)], size=(200, d))
    shift = X.mean(axis=0)
    structure = structure_for(covariance_type, 2, d)
    expected = numpy_design(X, shift, structure)
    F = len(expected)
    buffer = np.full((F, BLOCK_ROWS), np.nan)
    buffer[-1] = 1.0
    start, n_rows = 150, 50  # a last block: fewer rows than the buffer holds
    compiled.fill_design(X, start, n_rows, shift, *structure.quadratic_pairs(), buffer)
    np.testing.assert_array_equal(buffer[:, :n_rows], expected[:, start:start + n_rows])
    assert np.isnan(buffer[:-1, n_rows:]).all()  # nothing written past the block's rows


def log_probabilities(rng, k, n):
    """``(k, n)`` weighted log-probabilities from ordinary to extreme."""
    log_prob = rng.normal(scale=5.0, size=(k, n)) - rng.uniform(0, 1e4, size=n)
    log_prob[0, : n // 4] = -1e300  # one component far below the others
    log_prob[1, n // 4: n // 2] -= 700.0  # below the floor relative to the best
    log_prob[-1, n // 2: 3 * n // 4] = -np.inf  # a component of weight 0
    log_prob[:, -1] = -1e5  # a tie
    return log_prob


@pytest.mark.parametrize("k", [2, 10])
def test_normalizing_is_the_numpy_log_sum_exp(k):
    rng = np.random.default_rng(k)
    n_rows = 50
    buffer = np.full((k, BLOCK_ROWS), np.nan)
    buffer[:, :n_rows] = log_probabilities(rng, k, n_rows)
    expected = buffer[:, :n_rows].copy()
    expected_log_norm = normalize_log_probabilities(expected)
    log_norm = compiled.normalize_log_probabilities(buffer, n_rows, LOG_RESPONSIBILITY_FLOOR)
    # Multiplying by a row's reciprocal total instead of dividing: an ulp at most.
    np.testing.assert_allclose(buffer[:, :n_rows], expected, rtol=4 * np.finfo(float).eps,
                               atol=0)
    np.testing.assert_array_equal(log_norm, expected_log_norm)
    np.testing.assert_allclose(buffer[:, :n_rows].sum(axis=0), 1.0, rtol=1e-15)
    assert np.isnan(buffer[:, n_rows:]).all()


def diagonal_weights(X, shift, structure, rng):
    """``(F, K)`` design weights of a diagonal (or spherical) mixture on ``X``: one
    component's log-weight -1e300, one of weight 0 (-inf), one far from the data in
    its widest feature (more than the floor below the others on most rows), and a
    noise component (gmm_core.noise: a constant)."""
    k, d = structure.k, structure.d
    spread = X.std(axis=0)
    means = X[rng.choice(len(X), k, replace=False)]
    means[2, np.argmax(spread)] += 60 * spread.max()
    variances = spread**2 * rng.uniform(0.5, 2.0, size=(k, d))
    covariances = variances if structure.name == "diag" else variances.mean(axis=1)
    params = MixtureParameters(np.array([0.3, 0.0, 0.2, 0.3]), means, covariances, 0.2)
    weights = design_weights(structure, params, structure.precision_cholesky(covariances),
                             shift, log_vinv=-3.0)
    weights[-1, 0] = -1e300
    return weights


@pytest.mark.parametrize("covariance_type", ["diag", "spherical"])
@pytest.mark.parametrize("d", [1, 3, 6])
@pytest.mark.parametrize("collect_statistics", [True, False])
def test_the_fused_diagonal_e_step_is_the_numpy_one(covariance_type, d, collect_statistics):
    rng = np.random.default_rng(d)
    X = 1e6 + rng.normal(scale=[10.0 ** e for e in range(-3, d - 3)], size=(800, d))
    shift = X.mean(axis=0)
    structure = structure_for(covariance_type, 4, d)
    weights = diagonal_weights(X, shift, structure, rng)
    start, n_rows, block_rows = 150, 600, 640  # several tiles and a partial one
    design = numpy_design(X, shift, structure)[:, start:start + n_rows]
    expected = weights.T @ design
    expected_log_norm = normalize_log_probabilities(expected)
    expected_statistics = expected @ design.T
    assert (expected[2] < 1e-100).mean() > 0.5  # the far component is below the floor
    buffer = np.full((len(weights.T), block_rows), np.nan)
    statistics = np.zeros_like(expected_statistics) if collect_statistics else None
    log_norm = compiled.diagonal_e_step(X, start, n_rows, shift,
                                        np.ascontiguousarray(weights.T),
                                        LOG_RESPONSIBILITY_FLOOR, buffer, statistics)
    # The same formula summed in another order: each log-density moves by a few ulps of
    # the magnitude of its terms; a row's log-likelihood and responsibilities by those
    # of the components that hold its weight.
    terms = np.abs(weights[:-1].T) @ np.abs(design[:-1]) + np.abs(weights[-1, :, None])
    holding = np.where(expected > 1e-200, terms, 0.0).max(axis=0)
    tolerance = 16 * np.finfo(float).eps * holding
    assert (np.abs(log_norm - expected_log_norm) <= tolerance).all()
    assert (np.abs(buffer[:, :n_rows] - expected) <= tolerance).all()
    assert np.isnan(buffer[:, n_rows:]).all()
    if collect_statistics:
        # Those responsibilities summed against the rows, in another order.
        bound = np.abs(design) @ (tolerance + 16 * np.finfo(float).eps)
        assert (np.abs(statistics - expected_statistics) <= bound).all()


def numpy_and_compiled(monkeypatch, make):
    """``make()`` below the compiled threshold, then with every size compiled."""
    below = make()
    monkeypatch.setattr(estep, "COMPILED_MIN_ROWS", 0)
    return below, make()


@pytest.mark.parametrize("covariance_type", ["full", "diag", "spherical"])
def test_a_pass_is_the_same_either_way(monkeypatch, covariance_type):
    rng = np.random.default_rng(5)
    n, d, k = 3000, 4, 3
    X = 1e6 + rng.normal(size=(n, d))
    structure = structure_for(covariance_type, k, d)
    weights = rng.normal(size=(structure.n_quadratic() + d + 1, k))
    sample = np.sort(rng.choice(n, 40, replace=False))

    def run():
        blocks = DesignBlocks(X, X.mean(axis=0), structure, sample, block_rows=BLOCK_ROWS)
        return blocks, blocks.run_pass(weights, find_worst_row=True)

    (numpy_blocks, expected), (compiled_blocks, result) = numpy_and_compiled(monkeypatch, run)
    assert numpy_blocks.compiled is None and compiled_blocks.compiled is compiled
    assert compiled_blocks.squares_only == (covariance_type != "full")
    np.testing.assert_allclose(result.mean_log_likelihood, expected.mean_log_likelihood,
                               rtol=1e-14)
    np.testing.assert_allclose(result.statistics, expected.statistics, rtol=1e-12,
                               atol=1e-12 * np.abs(expected.statistics).max())
    np.testing.assert_allclose(result.sample_responsibilities,
                               expected.sample_responsibilities, rtol=1e-14)
    assert result.worst_row == expected.worst_row


@pytest.mark.parametrize("covariance_type", ["full", "diag"])
def test_a_fit_is_the_same_either_way(monkeypatch, covariance_type):
    rng = np.random.default_rng(6)
    X = 1e6 + np.concatenate([rng.normal(size=(2000, 3)), rng.normal(size=(2000, 3)) + 4])

    def fit():
        model = GMM(k=3, seed=0, max_iters=30, covariance_type=covariance_type).fit(X)
        return model, model.score_samples(X[:100])

    (expected, expected_scores), (model, scores) = numpy_and_compiled(monkeypatch, fit)
    assert model.n_iter_ == expected.n_iter_
    np.testing.assert_allclose(model.means_, expected.means_, rtol=1e-12)
    np.testing.assert_allclose(model.covariances_, expected.covariances_, rtol=1e-9,
                               atol=1e-9 * np.abs(expected.covariances_).max())
    np.testing.assert_allclose(scores, expected_scores, rtol=1e-12)


def test_a_small_fit_does_not_load_numba():
    # A fresh process: this one has imported gmm_core.compiled above.
    script = textwrap.dedent("""
        import sys
        import numpy as np
        from gmm_core import GMM
        GMM(k=3, seed=0).fit(np.random.default_rng(0).normal(size=(5000, 2)))
        print("numba" in sys.modules)
    """)
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                            check=True, timeout=120)
    assert result.stdout.strip() == "False"
