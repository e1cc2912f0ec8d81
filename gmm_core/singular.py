"""Which components of a fitted mixture are singular: held up only by regularization.

A component is singular when

- its effective number of points, weight × N, is below what its covariance needs to be
  estimated at all: d + 1 points for a full covariance (d for the spread around a mean
  that itself takes one), 2 for diagonal and spherical (one variance needs two points),
  1 for tied (the shared covariance is estimated from every component's points); for
  mclust's models, d + 1 with an own orientation, 2 with only an own volume or shape, 1
  when everything is shared (gmm_core.parsimonious.min_points); or
- its covariance without ``reg_covar`` (and without any repair added during the fit)
  is flat: along its thinnest direction, in units of the data's own spread per feature,
  its variance is below 1e-10. The component then sits on a point or a lower-dimensional
  set, and its likelihood is bounded only by the regularization.

The likelihood of such a fit grows without bound as the regularization shrinks, so its
BIC says nothing about the number of clusters. mclust likewise reports no BIC for a
singular fit, and model selection here never picks one.
"""

from __future__ import annotations

import numpy as np

from gmm_core.covariance import diagonals_of
from gmm_core.parsimonious import ALIASES, min_points

# Variance along the thinnest direction, relative to the data's, below which a covariance
# is flat. Rounding in a covariance estimate of standardized data is ~1e-16 relative, and
# reg_covar on standardized data is ~1e-6: the bound sits between the two.
FLAT_VARIANCE_RATIO = 1e-10


def singular_components(covariance_type: str, weights: np.ndarray,
                        covariances_full: np.ndarray, regularization: np.ndarray,
                        n_samples: int, data_spread: np.ndarray) -> dict[int, str]:
    """``{component: why}`` for the singular components of a fit.

    ``covariances_full`` is ``(k, d, d)``; ``regularization`` ``(k,)`` or ``(k, d)`` is
    what was added to each diagonal (reg_covar plus any repair); ``data_spread`` ``(d,)``
    is the data's standard deviation per feature.
    """
    d = covariances_full.shape[-1]
    needed = min_points(ALIASES.get(covariance_type, covariance_type), d)
    # A spread whose square underflows (a feature constant but for rounding) counts as
    # none: the covariance is then read in the data's own units along that feature.
    measurable = data_spread > np.sqrt(np.finfo(float).tiny)
    scale = 1.0 / np.where(measurable, data_spread, 1.0)
    # With the largest factor brought down to 1, the product cannot overflow however small
    # a spread is (an EII covariance as wide along a feature of spread 1e-162 as along the
    # others, say); the flatness bound is scaled to match.
    largest = max(scale.max(), 1.0)
    scale /= largest
    flat_bound = FLAT_VARIANCE_RATIO / largest**2
    points = weights * n_samples
    enough = points >= needed
    # The bare covariances of the components with enough points in one batched eigvalsh:
    # this runs after each M-step, and a call per component cost more than the rest of
    # a small fit's M-step.
    every = enough.all()
    bare = covariances_full.copy() if every else covariances_full[enough]
    regularization = np.reshape(regularization, (len(weights), -1))
    diagonals_of(bare)[...] -= regularization if every else regularization[enough]
    thinnest_enough = np.linalg.eigvalsh(scale[:, None] * bare * scale[None, :])[:, 0]
    if every:
        thinnest = thinnest_enough
    else:
        thinnest = np.full(len(weights), np.inf)
        thinnest[enough] = thinnest_enough
    singular = {}
    for component in np.flatnonzero(~enough | (thinnest < flat_bound)):
        component = int(component)
        if not enough[component]:
            singular[component] = (
                f"it holds {points[component]:.2f} points' worth of weight; a "
                f"{covariance_type} covariance in {d} dimension{'s' if d != 1 else ''} needs "
                f"at least {needed}")
        else:
            singular[component] = (
                "without regularization its covariance is flat (variance "
                f"{max(thinnest[component] * largest**2, 0.0):.1e} of the data's along its "
                "thinnest direction): it sits on a point or a lower-dimensional set")
    return singular
