"""Units: the magnitudes float64 can fit, the power-of-two scaling a fit runs on, and the
regularization in the data's units.

A feature whose spread (standard deviation) lies far from 1 is divided by a power of two
near its spread before the fit, and the fitted parameters are multiplied back. Powers of
two make both steps exact: the fit on the scaled data is the fit on the data, with
means times s, covariances times s_i s_j, precision factors divided by s, and every
log-likelihood lower by sum(log s). Within ``SAFE_SPREAD`` no feature is scaled, so the
arithmetic of ordinary fits is untouched.

A feature whose variance overflows float64 (spread above ~1.3e154) has no covariance
float64 can hold, nor one whose fitted variance (its own plus the regularization)
underflows (spread below ~1.5e-154 with relative or zero regularization): such data are
refused with one ValueError.

``reg_covar`` is absolute by default (scikit-learn's meaning: added to every variance in
the data's units), so it depends on the units: on a feature whose variance is 1e-34 it
swamps the data. ``regularization="relative"`` makes it a fraction of each feature's
variance instead, so a fit gives the same partition in any units.
"""

from __future__ import annotations

import functools
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


@dataclass(frozen=True)
class RowSummary:
    """What a fit learns of its rows before it starts (``summarize_rows``)."""

    location: np.ndarray  # (d,) per-feature mean
    spread: np.ndarray  # (d,) per-feature standard deviation (ddof=0)
    # Whether ``spread`` is ``X.std(axis=0, dtype=np.float64)`` itself, no column having
    # needed rescaling: a fit on the rows as they are then needs no pass to compute it.
    spread_is_std: bool


def summarize_rows(X: np.ndarray) -> RowSummary:
    """Per-feature mean and standard deviation (ddof=0) of finite ``X``, without overflow
    or underflow: columns far from 1 are computed on a power-of-two-scaled copy.

    On a few thousand rows of a few features this costs about as much as an EM
    iteration (numpy sums down the columns of a row-major array one row at a time), so
    a model-selection sweep computes it once for all its fits."""
    # Overflow here (a sum of values near 1e308) is detected below and computed again.
    with np.errstate(all="ignore"):
        mean = X.mean(axis=0, dtype=np.float64)
        spread = X.std(axis=0, dtype=np.float64)
    # The largest magnitude of each column: along rows of a column-major copy is faster,
    # and a maximum does not depend on the order.
    top = np.abs(np.ascontiguousarray(X.T)).max(axis=1).astype(np.float64)
    # A spread of 0 is trusted only for a column of zeros: squares of values near 1e-200
    # underflow to 0 too.
    ordinary = (top <= SAFE_SPREAD[1]) & ((spread >= SAFE_SPREAD[0]) | (top == 0))
    ordinary &= np.isfinite(mean) & np.isfinite(spread)
    if ordinary.all():
        return RowSummary(mean, spread, spread_is_std=True)
    # The largest power of two float64 holds is 2^1023. Scaled as one array, the columns
    # are summed in the same order as above: the result is the ordinary one, scaled.
    exponents = np.minimum(np.ceil(np.log2(np.where(ordinary, 1.0, top))), 1023)
    powers = np.ldexp(1.0, exponents.astype(int))
    scaled = X / powers
    return RowSummary(scaled.mean(axis=0) * powers, scaled.std(axis=0) * powers,
                      spread_is_std=False)


def location_and_spread(X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``summarize_rows(X)``'s per-feature mean and standard deviation."""
    summary = summarize_rows(X)
    return summary.location, summary.spread


def check_magnitudes(spread: np.ndarray, names=None, reg_covar: float = 0.0,
                     regularization: str = "absolute", small: bool = True) -> None:
    """ValueError unless every fitted variance — the data's, plus the regularization — is
    a normal float64 number (with ``small=False``: unless none overflows)."""
    fitted = _effective_spread(spread, reg_covar, regularization)
    for j, value in enumerate(spread):
        name = names[j] if names is not None else f"feature {j}"
        if value > LARGEST_SPREAD:
            raise ValueError(
                f"{name} spreads over {value:.3g} (its standard deviation), so its variance, "
                f"about 1e{2 * np.log10(value):+.0f}, is beyond float64's largest number "
                f"({np.finfo(np.float64).max:.3g}): no covariance of it can be stored. Divide "
                f"it by a power of ten (e.g. {10.0 ** np.floor(np.log10(value)):.0e}) or "
                "standardize it")
        if small and 0 < fitted[j] < SMALLEST_SPREAD:
            raise ValueError(
                f"{name} spreads over only {value:.3g} (its standard deviation), so its "
                f"variance, about 1e{2 * np.log10(value):+.0f}, is below float64's smallest "
                f"normal number ({np.finfo(np.float64).tiny:.3g}): no covariance of it can be "
                f"stored. Multiply it by a power of ten (e.g. "
                f"{10.0 ** -np.floor(np.log10(value)):.0e}) or standardize it")


def _effective_spread(spread: np.ndarray, reg_covar: float, regularization: str) -> np.ndarray:
    """The spread a fitted covariance has: the data's, widened by the regularization."""
    if regularization == "relative":
        return spread * np.sqrt(1.0 + reg_covar)
    return np.hypot(spread, np.sqrt(reg_covar))


def internal_scale(spread: np.ndarray, covariance_type: str, reg_covar: float = 0.0,
                   regularization: str = "absolute") -> np.ndarray:
    """``(d,)`` powers of two the fit divides the features by: 1 where the fitted
    covariance's spread (the data's, widened by the regularization) lies in
    ``SAFE_SPREAD``, else a power of two near it.

    A spherical covariance is one variance for every feature, so it takes one scale for
    all features."""
    spread = _effective_spread(spread, reg_covar, regularization)
    outside = (spread > 0) & ((spread < SAFE_SPREAD[0]) | (spread > SAFE_SPREAD[1]))
    if not outside.any():
        return np.ones(len(spread))
    exponents = np.round(np.log2(np.where(spread > 0, spread, 1.0)))
    if covariance_type == "spherical":
        exponents[:] = np.round(exponents[spread > 0].mean())
    else:
        exponents[~outside] = 0.0
    return np.exp2(exponents)


def _times(log10_value: float) -> str:
    """A positive number from its log10, without overflow: 1.58, or 1e+27."""
    return f"{10.0**log10_value:.3g}" if abs(log10_value) < 15 else f"1e{log10_value:+.0f}"


class RegularizationWarning(UserWarning):
    """An absolute ``reg_covar`` swamps the variance of ``feature`` (its spread given)."""

    def __init__(self, reg_covar: float, spread: float, feature: int):
        self.reg_covar, self.spread, self.feature = reg_covar, spread, feature
        super().__init__(
            f"{self.what(f'feature {feature}')}. Rescale the data (e.g. standardize it), "
            "lower reg_covar, or use regularization='relative' (reg_covar as a fraction of "
            "each feature's variance)")

    def what(self, name: str) -> str:
        log_variance = 2 * np.log10(self.spread)
        return (f"reg_covar={self.reg_covar:.3g} is "
                f"{_times(np.log10(self.reg_covar) - log_variance)} times the variance of "
                f"{name} ({_times(log_variance)}): it swamps the data's own spread, so the "
                "fit cannot resolve clusters along it")


def internal_regularization(reg_covar: float, regularization: str, spread: np.ndarray,
                            scale: np.ndarray):
    """What the M-step adds to each variance, in the fit's internal units (features
    divided by ``scale``): ``reg_covar`` in the data's units (absolute), or ``reg_covar``
    times each feature's variance (relative; times 1 for a constant feature).

    Warns (RegularizationWarning) when an absolute ``reg_covar`` dominates a feature's
    variance, saying how to fix it."""
    if regularization == "relative":
        internal_variance = np.where(spread > 0, (spread / scale) ** 2, 1 / scale**2)
        return reg_covar * internal_variance
    # reg_covar above DOMINANT_REGULARIZATION x variance, compared as spreads: the squares
    # of spreads near 1e-200 underflow.
    dominated = np.flatnonzero((spread > 0)
                               & (np.sqrt(reg_covar) > np.sqrt(DOMINANT_REGULARIZATION) * spread))
    if dominated.size:
        j = int(dominated[np.argmin(spread[dominated])])
        warnings.warn(RegularizationWarning(reg_covar, float(spread[j]), j), stacklevel=3)
    return reg_covar if np.all(scale == 1.0) else reg_covar / scale**2


@dataclass(frozen=True)
class FeatureScaling:
    """The fit's internal units: feature i divided by ``scale[i]`` (powers of two)."""

    structure: CovarianceStructure
    scale: np.ndarray

    @classmethod
    def identity(cls, structure: CovarianceStructure) -> FeatureScaling:
        return cls(structure, np.ones(structure.d))

    # Cached: both are read at every EM iteration.
    @functools.cached_property
    def is_identity(self) -> bool:
        return bool(np.all(self.scale == 1.0))

    @functools.cached_property
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
                                 self.structure.rescaled(params.covariances, self.scale),
                                 params.noise_weight)

    def precision_cholesky_to_data(self, prec_chol: np.ndarray) -> np.ndarray:
        if self.is_identity:
            return prec_chol
        return self.structure.rescaled_precision_cholesky(prec_chol, self.scale)
