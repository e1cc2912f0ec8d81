"""Shapes to draw a mixture in a 2-D view: n-sigma ellipses and a marginal density grid.

Both work on the projection onto two chosen features ``dims``: the marginal of a
Gaussian on a subset of features keeps the matching sub-vector of the mean and
sub-matrix ``cov[np.ix_(dims, dims)]`` of the covariance, so higher-dimensional fits
are drawn exactly as their 2-D marginals.
"""

from __future__ import annotations

import numpy as np

from gmm_core.covariance import NotPositiveDefiniteError, structure_for
from gmm_core.estep import DesignBlocks, evaluate_rows
from gmm_core.mstep import MixtureParameters, design_weights


def _marginal(means, covs, dims) -> tuple[np.ndarray, np.ndarray]:
    """``(k, 2)`` means and ``(k, 2, 2)`` covariances of the projection onto ``dims``."""
    means = np.atleast_2d(np.asarray(means, dtype=float))
    covs = np.asarray(covs, dtype=float)
    if covs.ndim == 2:
        covs = covs[None]
    if covs.ndim != 3 or covs.shape[1] != covs.shape[2] or covs.shape[0] != means.shape[0]:
        raise ValueError(f"covariances must be full (k, d, d) matrices matching means "
                         f"{means.shape}; got shape {covs.shape}")
    dims = list(dims)
    d = means.shape[1]
    if len(dims) != 2 or not all(0 <= int(i) < d for i in dims):
        raise ValueError(f"dims must be two feature indices in 0..{d - 1}; got {dims}")
    return means[:, dims], covs[:, dims][:, :, dims]


def ellipse_axes(means, covs, dims=(0, 1)) -> tuple[np.ndarray, np.ndarray]:
    """Centres ``(k, 2)`` and 1-sigma axes ``(k, 2, 2)`` of every component's ellipse.

    The columns of ``axes[j]`` are component j's semi-axes (eigenvectors scaled by the
    square roots of the eigenvalues of its projected covariance), so its ``s``-sigma
    outline is ``centres[j] + s * axes[j] @ (cos t, sin t)``: the points at Mahalanobis
    distance ``s`` from the mean. Drawing code maps a unit circle with it.
    """
    means2, covs2 = _marginal(means, covs, dims)
    variances, directions = np.linalg.eigh(covs2)
    # Round-off can make a singular covariance's smallest variance slightly negative.
    radii = np.sqrt(np.clip(variances, 0.0, None))
    return means2, directions * radii[:, None, :]


def ellipse_outlines(means, covs, levels=(1, 2, 3), dims=(0, 1),
                     n_points: int = 100) -> np.ndarray:
    """Closed n-sigma outlines for every component: ``(k, len(levels), 2, n_points)``.

    ``outlines[j, l, 0]`` are the x and ``outlines[j, l, 1]`` the y coordinates of
    component j's ``levels[l]``-sigma ellipse. The last point repeats the first.
    """
    if int(n_points) < 3:
        raise ValueError(f"n_points must be at least 3; got {n_points}")
    centres, axes = ellipse_axes(means, covs, dims)
    angle = np.linspace(0.0, 2.0 * np.pi, int(n_points))
    circle = np.stack([np.cos(angle), np.sin(angle)])  # (2, n_points)
    one_sigma = axes @ circle  # (k, 2, n_points)
    levels = np.asarray(levels, dtype=float)
    return centres[:, None, :, None] + levels[None, :, None, None] * one_sigma[:, None]


def ellipse_outline(mean, cov, n_sigma: float, n_points: int = 100,
                    dims=(0, 1)) -> tuple[np.ndarray, np.ndarray]:
    """The ``n_sigma`` outline of one Gaussian projected onto ``dims``, as ``(x, y)``."""
    outline = ellipse_outlines([mean], [cov], levels=(n_sigma,), dims=dims,
                               n_points=n_points)[0, 0]
    return outline[0], outline[1]


def density_grid(weights, means, covs, x_range, y_range, n: int = 100,
                 dims=(0, 1)) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Log-density of the mixture's 2-D marginal on an ``n`` x ``n`` grid.

    Returns ``(xs, ys, log_density)`` with ``log_density[i, j]`` at ``(xs[j], ys[i])``
    (rows along y, as contour plots expect). Densities are combined in log space by
    the same code the EM core uses, so nothing underflows far from the components.
    """
    if int(n) < 2:
        raise ValueError(f"n must be at least 2; got {n}")
    means2, covs2 = _marginal(means, covs, dims)
    weights = np.asarray(weights, dtype=float)
    if weights.shape != (len(means2),):
        raise ValueError(f"weights must have shape ({len(means2)},); got {weights.shape}")
    xs = np.linspace(float(x_range[0]), float(x_range[1]), int(n))
    ys = np.linspace(float(y_range[0]), float(y_range[1]), int(n))
    grid_x, grid_y = np.meshgrid(xs, ys)
    points = np.column_stack([grid_x.ravel(), grid_y.ravel()])

    structure = structure_for("full", len(means2), 2)
    try:
        prec_chol = structure.precision_cholesky(covs2)
    except NotPositiveDefiniteError as error:
        raise ValueError(f"cannot draw the density: the projected {error}") from None
    params = MixtureParameters(weights, means2, covs2)
    shift = means2.mean(axis=0)
    with np.errstate(divide="ignore"):  # a weight of exactly 0 contributes log 0 = -inf
        design = design_weights(structure, params, prec_chol, shift)
    log_density, _ = evaluate_rows(DesignBlocks(points, shift, structure), design)
    return xs, ys, log_density.reshape(grid_x.shape)
