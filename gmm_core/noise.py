"""A noise component: a constant density 1/V over the data's region, for outliers.

mclust's noise term (Banfield & Raftery 1993; ``Mclust(..., initialization =
list(noise = ...))``, ``me(..., Vinv = )``): the mixture gains one component whose
density is the constant ``Vinv = 1/V`` everywhere, V being the hypervolume of the data
(``hypvol``). Its only parameter is its mixing proportion, estimated by EM like the
Gaussian weights; rows that no Gaussian explains better than a uniform scatter go to
it instead of stretching a Gaussian.

In the data pass it is one more column of the design weights (gmm_core.mstep): a log
weight of ``log(pi_0) + log(Vinv)`` on the design's constant row, zero elsewhere.
"""

from __future__ import annotations

import numpy as np

# What ``GMM.predict`` calls the rows the noise component wins (mclust calls them 0).
NOISE_LABEL = -1
# Rows projected on the principal axes at a time: bounds the memory of ``log_hypervolume``.
PROJECTION_ROWS = 1 << 16


def _log_ranges(columns_min: np.ndarray, columns_max: np.ndarray) -> float:
    with np.errstate(divide="ignore"):
        return float(np.log(columns_max - columns_min).sum())


def log_hypervolume(X: np.ndarray) -> float:
    """``log V`` of mclust's ``hypvol(X)``: the smaller of the volume of the data's
    bounding box along its features and that along its principal axes (the ranges of
    the principal-component scores). In logs, since a product of ranges overflows.

    ValueError when a feature, or a principal axis, has no spread: the region is flat
    and a uniform density on it is infinite.
    """
    X = np.asarray(X)
    box = _log_ranges(X.min(axis=0), X.max(axis=0))
    if np.isfinite(box):
        box = min(box, _principal_box(X))
    if not np.isfinite(box):
        raise ValueError("a noise component needs data that spread in every direction: "
                         "the data's region has no volume (a feature, or a combination "
                         "of features, is constant)")
    return box


def _principal_box(X: np.ndarray) -> float:
    """``log`` of the volume of the data's bounding box along its principal axes."""
    centre = X.mean(axis=0, dtype=np.float64)
    _, axes = np.linalg.eigh(np.atleast_2d(np.cov(X, rowvar=False)))
    low = np.full(X.shape[1], np.inf)
    high = np.full(X.shape[1], -np.inf)
    for start in range(0, len(X), PROJECTION_ROWS):
        scores = (X[start:start + PROJECTION_ROWS] - centre) @ axes
        np.minimum(low, scores.min(axis=0), out=low)
        np.maximum(high, scores.max(axis=0), out=high)
    return _log_ranges(low, high)


def labels_from_responsibilities(responsibilities: np.ndarray, noise: bool) -> np.ndarray:
    """Each row's most responsible component; ``NOISE_LABEL`` where that is the noise
    component (with ``noise``, the last column)."""
    labels = np.asarray(responsibilities).argmax(axis=1)
    if noise:
        labels[labels == np.shape(responsibilities)[1] - 1] = NOISE_LABEL
    return labels


def check_noise_options(noise, vinv, noise_init) -> None:
    """ValueError naming the first noise argument of ``GMM`` that is out of range."""
    if not isinstance(noise, bool | np.bool_):
        raise ValueError(f"noise must be True or False; got {noise!r}")
    if vinv is not None:
        if not noise:
            raise ValueError("vinv is the noise component's density: it needs noise=True")
        if not (np.isscalar(vinv) and np.isfinite(vinv) and vinv > 0):
            raise ValueError(f"vinv must be a finite number > 0 (1 / the data's volume); "
                             f"got {vinv!r}")
    if not (np.isscalar(noise_init) and 0 < noise_init < 1):
        raise ValueError(f"noise_init must be a proportion strictly between 0 and 1; "
                         f"got {noise_init!r}")


def log_noise_density(X: np.ndarray, vinv: float | None) -> float:
    """``log(Vinv)`` in the data's units: the given ``vinv``, else 1 / ``hypvol(X)``."""
    return float(np.log(vinv)) if vinv is not None else -log_hypervolume(X)
