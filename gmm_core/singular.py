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
# A spread whose square underflows (a feature constant but for rounding) counts as none:
# the covariance is then read in the data's own units along that feature.
SMALLEST_MEASURABLE_SPREAD = float(np.sqrt(np.finfo(float).tiny))


class SingularTest:
    """``singular_components`` for one fit's covariance type and data, with what depends
    on those alone worked out once: a fit runs it after every M-step."""

    def __init__(self, covariance_type: str, d: int, data_spread: np.ndarray):
        self.covariance_type, self.d = covariance_type, d
        model = ALIASES.get(covariance_type, covariance_type)
        self.needed = min_points(model, d)
        # Axis-aligned covariances (mclust's "..I" models): the eigenvalues are the
        # diagonal, so no eigendecomposition is needed.
        self.diagonal = d == 1 or model[2] == "I"
        measurable = data_spread > SMALLEST_MEASURABLE_SPREAD
        scale = 1.0 / np.where(measurable, data_spread, 1.0)
        # With the largest factor brought down to 1, the product cannot overflow however
        # small a spread is (an EII covariance as wide along a feature of spread 1e-162 as
        # along the others, say); the flatness bound is scaled to match.
        self.largest = max(scale.max(), 1.0)
        scale /= self.largest
        self.scale = scale
        self.flat_bound = FLAT_VARIANCE_RATIO / self.largest**2

    def __call__(self, weights: np.ndarray, covariances_full: np.ndarray,
                 regularization: np.ndarray, n_samples: int) -> dict[int, str]:
        points = weights * n_samples
        enough = points >= self.needed
        regularization = np.reshape(regularization, (len(weights), -1))
        if self.diagonal:
            bare = diagonals_of(covariances_full) - regularization
            thinnest = (self.scale * bare * self.scale).min(axis=1)
        else:
            thinnest = self._thinnest_eigenvalues(covariances_full, regularization, enough)
        if enough.all() and thinnest.min() >= self.flat_bound:
            return {}
        return {int(component): self._why(component, points, thinnest)
                for component in np.flatnonzero(~enough | (thinnest < self.flat_bound))}

    def _thinnest_eigenvalues(self, covariances_full: np.ndarray, regularization: np.ndarray,
                              enough: np.ndarray) -> np.ndarray:
        """Each bare covariance's smallest eigenvalue in the data's scale (inf for the
        components with too few points, which are singular whatever it is), in one batched
        eigvalsh: a call per component cost more than the rest of a small fit's M-step."""
        every = enough.all()
        bare = covariances_full.copy() if every else covariances_full[enough]
        diagonals_of(bare)[...] -= regularization if every else regularization[enough]
        thinnest_enough = np.linalg.eigvalsh(self.scale[:, None] * bare * self.scale)[:, 0]
        if every:
            return thinnest_enough
        thinnest = np.full(len(enough), np.inf)
        thinnest[enough] = thinnest_enough
        return thinnest

    def _why(self, component: int, points: np.ndarray, thinnest: np.ndarray) -> str:
        if points[component] < self.needed:
            d = self.d
            return (f"it holds {points[component]:.2f} points' worth of weight; a "
                    f"{self.covariance_type} covariance in {d} dimension{'s' if d != 1 else ''}"
                    f" needs at least {self.needed}")
        return ("without regularization its covariance is flat (variance "
                f"{max(thinnest[component] * self.largest**2, 0.0):.1e} of the data's along "
                "its thinnest direction): it sits on a point or a lower-dimensional set")


def singular_components(covariance_type: str, weights: np.ndarray,
                        covariances_full: np.ndarray, regularization: np.ndarray,
                        n_samples: int, data_spread: np.ndarray) -> dict[int, str]:
    """``{component: why}`` for the singular components of a fit.

    ``covariances_full`` is ``(k, d, d)``; ``regularization`` ``(k,)`` or ``(k, d)`` is
    what was added to each diagonal (reg_covar plus any repair); ``data_spread`` ``(d,)``
    is the data's standard deviation per feature.
    """
    return SingularTest(covariance_type, covariances_full.shape[-1], data_spread)(
        weights, covariances_full, regularization, n_samples)
