"""Ellipse outlines and marginal density grids (gmm_core.geometry)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import multivariate_normal

from gmm_core.geometry import density_grid, ellipse_outline, ellipse_outlines


def test_one_sigma_outline_of_axis_aligned_covariance_hits_mean_plus_minus_sigma():
    mean, sigma = np.array([1.0, -2.0]), np.array([3.0, 0.5])
    # 101 closed points put angles 0, pi/2, pi, 3pi/2 exactly on the grid.
    x, y = ellipse_outline(mean, np.diag(sigma**2), n_sigma=1, n_points=101)
    assert x.max() == pytest.approx(mean[0] + sigma[0], abs=1e-12)
    assert x.min() == pytest.approx(mean[0] - sigma[0], abs=1e-12)
    assert y.max() == pytest.approx(mean[1] + sigma[1], abs=1e-12)
    assert y.min() == pytest.approx(mean[1] - sigma[1], abs=1e-12)
    # The extremes in x sit at the mean's y, and the outline is closed.
    assert y[np.argmax(x)] == pytest.approx(mean[1], abs=1e-12)
    assert (x[0], y[0]) == pytest.approx((x[-1], y[-1]))


@pytest.mark.parametrize("n_sigma", [1.0, 2.0, 3.0])
def test_rotated_outline_points_satisfy_the_mahalanobis_equation(n_sigma):
    angle = 0.6
    rotation = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    cov = rotation @ np.diag([4.0, 0.25]) @ rotation.T
    mean = np.array([10.0, 5.0])
    x, y = ellipse_outline(mean, cov, n_sigma=n_sigma, n_points=64)
    diff = np.column_stack([x, y]) - mean
    mahalanobis_sq = np.einsum("ni,ij,nj->n", diff, np.linalg.inv(cov), diff)
    np.testing.assert_allclose(mahalanobis_sq, n_sigma**2, rtol=1e-12)
    # The outline goes all the way round: its longest extent is along the major axis.
    extent = np.ptp(diff @ rotation, axis=0)
    np.testing.assert_allclose(extent, 2 * n_sigma * np.array([2.0, 0.5]), rtol=1e-3)


def test_outlines_for_all_components_and_levels_match_single_outlines():
    rng = np.random.default_rng(3)
    means = rng.normal(size=(4, 3))
    factors = rng.normal(size=(4, 3, 3))
    covs = factors @ np.swapaxes(factors, 1, 2) + 0.1 * np.eye(3)
    outlines = ellipse_outlines(means, covs, levels=(1, 2, 3), dims=(2, 0), n_points=50)
    assert outlines.shape == (4, 3, 2, 50)
    for j in range(4):
        for level_index, level in enumerate((1, 2, 3)):
            x, y = ellipse_outline(means[j], covs[j], level, n_points=50, dims=(2, 0))
            np.testing.assert_allclose(outlines[j, level_index, 0], x)
            np.testing.assert_allclose(outlines[j, level_index, 1], y)
    # The projection is the marginal: feature 2 on x, feature 0 on y.
    sub = covs[1][np.ix_([2, 0], [2, 0])]
    diff = outlines[1, 1].T - means[1, [2, 0]]
    np.testing.assert_allclose(np.einsum("ni,ij,nj->n", diff, np.linalg.inv(sub), diff), 4.0)


def test_density_grid_integrates_to_one_on_a_wide_grid():
    weights = np.array([0.3, 0.7])
    means = np.array([[0.0, 0.0], [4.0, 3.0]])
    covs = np.array([[[1.0, 0.5], [0.5, 2.0]], [[0.5, -0.2], [-0.2, 0.3]]])
    xs, ys, log_density = density_grid(weights, means, covs, (-12, 14), (-12, 14), n=300)
    assert log_density.shape == (300, 300)
    mass = np.exp(log_density).sum() * (xs[1] - xs[0]) * (ys[1] - ys[0])
    assert mass == pytest.approx(1.0, abs=1e-3)


def test_density_grid_is_the_marginal_mixture_density_in_log_space():
    weights = np.array([0.5, 0.25, 0.25])
    rng = np.random.default_rng(0)
    means = rng.normal(size=(3, 4)) * 3
    factors = rng.normal(size=(3, 4, 4))
    covs = factors @ np.swapaxes(factors, 1, 2) + 0.2 * np.eye(4)
    dims = (3, 1)
    xs, ys, log_density = density_grid(weights, means, covs, (-60, 60), (-50, 50), n=40,
                                       dims=dims)
    # Row i is y = ys[i], column j is x = xs[j].
    i, j = 7, 31
    point = np.array([xs[j], ys[i]])
    expected = sum(
        w * multivariate_normal(m[list(dims)], c[np.ix_(dims, dims)]).pdf(point)
        for w, m, c in zip(weights, means, covs, strict=True)
    )
    assert log_density[i, j] == pytest.approx(np.log(expected), rel=1e-10)
    # Far corners are finite log-densities, not log(0).
    assert np.all(np.isfinite(log_density))


def test_bad_input_gives_clear_errors():
    with pytest.raises(ValueError, match="dims must be two feature indices"):
        ellipse_outline([0.0, 0.0], np.eye(2), 1, dims=(0, 2))
    with pytest.raises(ValueError, match="not positive definite"):
        density_grid([1.0], [[0.0, 0.0]], [np.zeros((2, 2))], (-1, 1), (-1, 1))
    with pytest.raises(ValueError, match="weights must have shape"):
        density_grid([0.5, 0.5], [[0.0, 0.0]], [np.eye(2)], (-1, 1), (-1, 1))
