"""Units: the magnitudes float64 can fit, the power-of-two scaling a fit runs on, and the
regularization in the data's units.

A feature whose spread (standard deviation) lies far from 1 is divided by a power of two
near its spread before the fit, and the fitted parameters are multiplied back. Powers of
two make both steps exact: the fit on the scaled data is the fit on the data, with
means times s, covariances times s_i s_j, precision factors divided by s, and every
log-likelihood lower by sum(log s). Within ``SAFE_SPREAD`` no feature is scaled, so the
arithmetic of ordinary fits is untouched.

A feature whose variance is not a normal float64 number (spread above ~1.3e154 or below
~1.5e-154) has no covariance float64 can hold: such data are refused with one ValueError.

``reg_covar`` is absolute by default (scikit-learn's meaning: added to every variance in
the data's units), so it depends on the units: on a feature whose variance is 1e-34 it
swamps the data. ``regularization="relative"`` makes it a fraction of each feature's
variance instead, so a fit gives the same partition in any units.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from gmm_core.covariance import CovarianceStructure
from gmm_core.mstep import MixtureParameters

# Spreads in this range are fitted as they are: their squares, summed over any number of
# rows float64 can index, stay far from overflow and underflow.
SAFE_SPREAD = (2.0**-64, 2.0**64)
# A variance must be a normal float64 number: between these spreads, it is.
LARGEST_SPREAD = float(np.sqrt(np.finfo(np.float64).max))
SMALLEST_SPREAD = float(np.sqrt(np.finfo(np.float64).tiny))
# reg_covar above this fraction of a feature's variance decides the fit on that feature.
DOMINANT_REGULARIZATION = 0.01


def location_and_spread(X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-feature mean and standard deviation (ddof=0) of finite ``X``, without overflow
    or underflow: columns far from 1 are computed on a power-of-two-scaled copy."""
    with np.errstate(over="ignore", under="ignore"):
        mean = X.mean(axis=0, dtype=np.float64)
        spread = X.std(axis=0, dtype=np.float64)
    top = np.abs(X).max(axis=0).astype(np.float64)
    # A spread of 0 is trusted only for a column of zeros: squares of values near 1e-200
    # underflow to 0 too.
    ordinary = (top <= SAFE_SPREAD[1]) & ((spread >= SAFE_SPREAD[0]) | (top == 0))
    ordinary &= np.isfinite(mean) & np.isfinite(spread)
    if ordinary.all():
        return mean, spread
    # The largest power of two float64 holds is 2^1023. Scaled as one array, the columns
    # are summed in the same order as above: the result is the ordinary one, scaled.
    exponents = np.minimum(np.ceil(np.log2(np.where(ordinary, 1.0, top))), 1023)
    powers = np.ldexp(1.0, exponents.astype(int))
    scaled = X / powers
    return scaled.mean(axis=0) * powers, scaled.std(axis=0) * powers


def check_magnitudes(spread: np.ndarray, names=None, small: bool = True) -> None:
    """ValueError unless every feature's variance is a normal float64 number (with
    ``small=False``: unless none overflows)."""
    for j, value in enumerate(spread):
        name = names[j] if names is not None else f"feature {j}"
        if value > LARGEST_SPREAD:
            raise ValueError(
                f"{name} spreads over {value:.3g} (its standard deviation), so its variance, "
                f"about 1e{2 * np.log10(value):+.0f}, is beyond float64's largest number "
                f"({np.finfo(np.float64).max:.3g}): no covariance of it can be stored. Divide "
                f"it by a power of ten (e.g. {10.0 ** np.floor(np.log10(value)):.0e}) or "
                "standardize it")
        if small and 0 < value < SMALLEST_SPREAD:
            raise ValueError(
                f"{name} spreads over only {value:.3g} (its standard deviation), so its "
                f"variance, about 1e{2 * np.log10(value):+.0f}, is below float64's smallest "
                f"normal number ({np.finfo(np.float64).tiny:.3g}). Multiply it by a power of "
                f"ten (e.g. {10.0 ** -np.floor(np.log10(value)):.0e}) or standardize it")


def internal_scale(spread: np.ndarray, covariance_type: str) -> np.ndarray:
    """``(d,)`` powers of two the fit divides the features by: 1 within ``SAFE_SPREAD``.

    A spherical covariance is one variance for every feature, so it takes one scale for
    all features."""
    outside = (spread > 0) & ((spread < SAFE_SPREAD[0]) | (spread > SAFE_SPREAD[1]))
    if not outside.any():
        return np.ones(len(spread))
    exponents = np.round(np.log2(np.where(spread > 0, spread, 1.0)))
    if covariance_type == "spherical":
        exponents[:] = np.round(exponents[spread > 0].mean())
    else:
        exponents[~outside] = 0.0
    return np.exp2(exponents)


class RegularizationWarning(UserWarning):
    """An absolute ``reg_covar`` swamps the variance of ``feature``."""

    def __init__(self, reg_covar: float, variance: float, feature: int):
        self.reg_covar, self.variance, self.feature = reg_covar, variance, feature
        super().__init__(
            f"{self.what(f'feature {feature}')}. Rescale the data (e.g. standardize it), "
            "lower reg_covar, or use regularization='relative' (reg_covar as a fraction of "
            "each feature's variance)")

    def what(self, name: str) -> str:
        return (f"reg_covar={self.reg_covar:.3g} is {self.reg_covar / self.variance:.3g} times "
                f"the variance of {name} ({self.variance:.3g}): it swamps the data's own "
                "spread, so the fit cannot resolve clusters along it")


def regularization_in_data_units(reg_covar: float, regularization: str,
                                 spread: np.ndarray) -> np.ndarray | float:
    """What is added to each feature's variance: ``reg_covar`` itself (absolute), or
    ``reg_covar`` times the feature's variance (relative; 1 for a constant feature).

    Warns (RegularizationWarning) when an absolute ``reg_covar`` dominates a feature's
    variance, saying how to fix it."""
    variance = spread.astype(np.float64) ** 2
    if regularization == "relative":
        return reg_covar * np.where(variance > 0, variance, 1.0)
    dominated = np.flatnonzero((variance > 0) & (reg_covar > DOMINANT_REGULARIZATION * variance))
    if dominated.size:
        j = int(dominated[np.argmin(variance[dominated])])
        warnings.warn(RegularizationWarning(reg_covar, variance[j], j), stacklevel=3)
    return reg_covar


@dataclass(frozen=True)
class FeatureScaling:
    """The fit's internal units: feature i divided by ``scale[i]`` (powers of two)."""

    structure: CovarianceStructure
    scale: np.ndarray

    @classmethod
    def identity(cls, structure: CovarianceStructure) -> FeatureScaling:
        return cls(structure, np.ones(structure.d))

    @property
    def is_identity(self) -> bool:
        return bool(np.all(self.scale == 1.0))

    @property
    def log_likelihood_shift(self) -> float:
        """Added to a mean log-likelihood in internal units to give the data's: the
        log-Jacobian of the scaling, -sum(log scale)."""
        return -float(np.log(self.scale).sum())

    def to_internal_rows(self, X: np.ndarray) -> np.ndarray:
        return X if self.is_identity else X / self.scale

    def means_to_internal(self, means: np.ndarray) -> np.ndarray:
        return means / self.scale

    def covariances_to_internal(self, covariances: np.ndarray) -> np.ndarray:
        return self.structure.rescaled(covariances, 1 / self.scale)

    def to_data(self, params: MixtureParameters) -> MixtureParameters:
        if self.is_identity:
            return params
        return MixtureParameters(params.weights, params.means * self.scale,
                                 self.structure.rescaled(params.covariances, self.scale))

    def precision_cholesky_to_data(self, prec_chol: np.ndarray) -> np.ndarray:
        if self.is_identity:
            return prec_chol
        return self.structure.rescaled_precision_cholesky(prec_chol, self.scale)

    def regularization_to_internal(self, regularization):
        """A regularization in the data's units (scalar or per feature) in internal units:
        per feature unless the scaling is the identity."""
        if self.is_identity:
            return regularization
        return regularization / self.scale**2
