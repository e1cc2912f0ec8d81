"""Feature scaling applied before a fit, recorded so the fit can be reproduced."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gmm_core.datasets.base import DatasetError
from gmm_core.scaling import check_magnitudes, location_and_spread

PREPROCESSING_METHODS = ("none", "standardize")


@dataclass(frozen=True)
class Preprocessing:
    """``X_fitted = (X - mean) / scale`` per column; ``none`` is mean 0, scale 1."""

    method: str
    mean: tuple[float, ...]
    scale: tuple[float, ...]
    notes: tuple[str, ...] = ()

    def apply(self, X) -> np.ndarray:
        return (np.asarray(X, dtype=np.float64) - self._mean) / self._scale

    def inverse(self, X) -> np.ndarray:
        return np.asarray(X, dtype=np.float64) * self._scale + self._mean

    def inverse_means(self, means) -> np.ndarray:
        """Component means ``(k, d)`` back in the data's own units."""
        return self.inverse(means)

    def inverse_covariances(self, covariances) -> np.ndarray:
        """Full covariance matrices ``(k, d, d)`` back in the data's own units."""
        return np.asarray(covariances, dtype=np.float64) * np.outer(self._scale, self._scale)

    @property
    def _mean(self) -> np.ndarray:
        return np.asarray(self.mean, dtype=np.float64)

    @property
    def _scale(self) -> np.ndarray:
        return np.asarray(self.scale, dtype=np.float64)

    def to_dict(self) -> dict:
        return {"method": self.method, "mean": list(self.mean), "scale": list(self.scale),
                "notes": list(self.notes)}

    @classmethod
    def from_dict(cls, values: dict) -> Preprocessing:
        return cls(values["method"], tuple(values["mean"]), tuple(values["scale"]),
                   tuple(values.get("notes", ())))


def preprocess(X, method: str = "none", columns=None) -> tuple[np.ndarray, Preprocessing]:
    """Scale ``X`` by ``method`` and return the scaled data with its record.

    Standardizing divides by the population standard deviation (ddof=0, scikit-learn's
    StandardScaler), computed without overflow or underflow (gmm_core.scaling): a column
    of values near 1e-200 is standardized like any other. A constant column (every value
    the same) keeps scale 1, and the record says so. A column whose variance overflows
    float64 is refused: no covariance could be brought back to its units.
    """
    if method not in PREPROCESSING_METHODS:
        raise DatasetError(
            f"preprocessing must be one of {', '.join(PREPROCESSING_METHODS)}; got {method!r}")
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2:
        raise DatasetError(f"expected a 2-D array of samples × features; got shape {X.shape}")
    d = X.shape[1]
    names = list(columns) if columns is not None else [f"column {j}" for j in range(d)]
    if method == "none":
        return X, Preprocessing(method, (0.0,) * d, (1.0,) * d)
    mean, scale = location_and_spread(X)
    try:
        check_magnitudes(scale, names, small=False)
    except ValueError as exc:
        raise DatasetError(str(exc)) from None
    constant = X.min(axis=0) == X.max(axis=0)
    scale[constant] = 1.0
    notes = tuple(f"{names[j]} is constant; it was centred but not scaled"
                  for j in np.flatnonzero(constant))
    record = Preprocessing(method, tuple(mean.tolist()), tuple(scale.tolist()), notes)
    return record.apply(X), record
