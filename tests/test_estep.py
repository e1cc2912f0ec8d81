"""The block pass against the same sums written out on the whole array at once.

A block holds several cache-sized tiles and the products run over views of them
(gmm_core.estep); a view that silently became a copy, or a tile mapped to the wrong
rows, would change these numbers.
"""

import numpy as np
import pytest
from scipy.special import logsumexp

from gmm_core.estep import DesignBlocks, em_pass, evaluate_rows, statistics_from_responsibilities
from gmm_core.model import structure_for

K, D = 10, 10


def dense_design(X, shift, structure):
    centred = (X - shift).T
    quadratic = np.empty((structure.n_quadratic(), len(X)))
    structure.fill_quadratic(centred, quadratic)
    return np.vstack([quadratic, centred, np.ones(len(X))])


@pytest.fixture(params=["full", "diag"])
def case(request):
    rng = np.random.default_rng(3)
    structure = structure_for(request.param, K, D)
    n_design = structure.n_quadratic() + D + 1
    # Whole blocks, a last block that ends in a partial tile, and enough tiles for the
    # pass to be split between worker threads.
    X = rng.normal(scale=4.0, size=(31_111, D))
    weights = rng.normal(scale=0.05, size=(n_design, K))
    weights[:structure.n_quadratic()] = -np.abs(weights[:structure.n_quadratic()])
    return X, X.mean(axis=0), structure, weights


def test_blocks_hold_several_tiles_and_a_partial_one(case):
    X, shift, structure, _ = case
    blocks = DesignBlocks(X, shift, structure)
    assert blocks.block_rows >= 2 * blocks.tile_rows
    assert len(X) % blocks.block_rows % blocks.tile_rows
    assert len(blocks.starts) > 1


def test_pass_matches_the_dense_sums(case):
    X, shift, structure, weights = case
    sample = np.sort(np.random.default_rng(4).choice(len(X), 700, replace=False))
    design = dense_design(X, shift, structure)
    log_prob = weights.T @ design
    log_norm = logsumexp(log_prob, axis=0)
    resp = np.exp(log_prob - log_norm)

    result = em_pass(DesignBlocks(X, shift, structure, sample), weights, find_worst_row=True)

    assert result.mean_log_likelihood == pytest.approx(log_norm.mean(), rel=1e-12)
    np.testing.assert_allclose(result.statistics, resp @ design.T, rtol=1e-10)
    np.testing.assert_allclose(result.sample_responsibilities, resp[:, sample].T, atol=1e-12)
    assert result.worst_row == np.argmin(log_norm)


def test_rows_and_statistics_from_responsibilities_match_the_dense_ones(case):
    X, shift, structure, weights = case
    design = dense_design(X, shift, structure)
    log_prob = weights.T @ design
    log_norm = logsumexp(log_prob, axis=0)
    resp = np.exp(log_prob - log_norm)
    labels = resp.argmax(axis=0)

    log_likelihood, responsibilities = evaluate_rows(DesignBlocks(X, shift, structure), weights)
    soft = statistics_from_responsibilities(DesignBlocks(X, shift, structure), responsibilities, K)
    hard = statistics_from_responsibilities(DesignBlocks(X, shift, structure), labels, K)

    # Rounding: relative to the largest value, since a row's log-likelihood may be near 0.
    np.testing.assert_allclose(log_likelihood, log_norm, rtol=1e-12,
                               atol=1e-12 * np.abs(log_norm).max())
    np.testing.assert_allclose(responsibilities, resp.T, atol=1e-12)
    np.testing.assert_allclose(soft, resp @ design.T, rtol=1e-10)
    np.testing.assert_allclose(hard, np.eye(K)[labels].T @ design.T, rtol=1e-10)
