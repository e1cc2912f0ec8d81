"""Checks on the data matrix at the boundary of the core, with messages a user can act on."""

from __future__ import annotations

import numpy as np

from gmm_core.wording import counted


def validate_data(X, min_rows: int = 1, n_features: int | None = None) -> np.ndarray:
    """Return X as a 2-D float32/float64 array, or raise ValueError saying what is wrong.

    float32 stays float32 (the E-step reads it block by block into float64); integers
    and other numeric types become float64.
    """
    try:
        array = np.asarray(X)
    except (TypeError, ValueError) as error:
        raise ValueError(f"X must be a numeric array: {error}") from None
    if array.dtype == object or not (np.issubdtype(array.dtype, np.number)
                                     or array.dtype == bool):
        raise ValueError(f"X must be numeric; got dtype {array.dtype}")
    if np.iscomplexobj(array):
        raise ValueError("X must be real-valued; got complex numbers")
    if array.ndim != 2:
        hint = " (for one feature use X.reshape(-1, 1))" if array.ndim == 1 else ""
        raise ValueError(f"X must be 2-D (n_samples, n_features); got shape {array.shape}{hint}")
    if array.dtype not in (np.float32, np.float64):
        array = array.astype(np.float64)
    n_rows, n_cols = array.shape
    if n_cols == 0:
        raise ValueError("X has no features (0 columns)")
    if n_features is not None and n_cols != n_features:
        raise ValueError(f"X has {counted(n_cols, 'feature')} but the model was fitted on "
                         f"{n_features:,}")
    if not np.isfinite(array).all():
        bad = np.flatnonzero(~np.isfinite(array).all(axis=1))
        raise ValueError(f"X contains NaN or infinite values in {counted(len(bad), 'row')} "
                         f"(first at row {bad[0]}); drop or impute them first")
    if n_rows < min_rows:
        raise ValueError(f"need at least {counted(min_rows, 'row')} (one per component); got "
                         f"{n_rows:,}")
    return array


def _given_array(name: str, value, shape: tuple[int, ...], what: str) -> np.ndarray:
    """``value`` as a finite float64 array of ``shape``, or ValueError naming ``name``."""
    try:
        array = np.array(value, dtype=np.float64)
    except (TypeError, ValueError, RecursionError):
        raise ValueError(f"{name} must be numeric; got {str(value)[:80]}") from None
    if array.shape != shape:
        raise ValueError(f"{name} must have shape {shape} ({what}); got {array.shape}")
    if not np.isfinite(array).all():
        first = np.argwhere(~np.isfinite(array))[0]
        raise ValueError(f"{name} contains NaN or infinite values (first at index "
                         f"{tuple(int(i) for i in first)})")
    return array


# Weights sum to 1 within this, as scikit-learn checks them (float64, float32).
WEIGHTS_SUM_ATOL = {np.dtype(np.float64): 1e-8, np.dtype(np.float32): 1e-6}


def check_initial_weights(weights, n_components: int, name: str = "weights_init") -> np.ndarray:
    """Weights ``(k,)`` in [0, 1] summing to 1, as scikit-learn checks ``weights_init``."""
    atol = WEIGHTS_SUM_ATOL.get(getattr(weights, "dtype", None), 1e-8)
    weights = _given_array(name, weights, (n_components,), "one weight per component")
    outside = np.flatnonzero((weights < 0) | (weights > 1))
    if outside.size:
        j = int(outside[0])
        raise ValueError(f"{name} must lie in [0, 1]; weight {j} is {weights[j]:.6g}")
    if abs(weights.sum() - 1.0) > atol:
        raise ValueError(f"{name} must sum to 1; got sum {weights.sum():.10g} (divide "
                         "them by their sum)")
    return weights


def check_initial_means(means, n_components: int, n_features: int,
                        name: str = "means_init") -> np.ndarray:
    """Means ``(k, d)``, finite."""
    return _given_array(name, means, (n_components, n_features),
                        "one row of features per component")


def check_initial_covariances(covariances, covariance_type: str, n_components: int,
                              n_features: int, name: str = "covariances_init") -> np.ndarray:
    """Covariances (or precisions) in scikit-learn's shape for the type, finite, and
    positive definite: symmetric matrices with positive eigenvalues (full, tied), positive
    variances (diag, spherical), as scikit-learn checks ``precisions_init``."""
    k, d = n_components, n_features
    shapes = {"full": ((k, d, d), "one d × d matrix per component"),
              "tied": ((d, d), "one d × d matrix shared by the components"),
              "diag": ((k, d), "one variance per component and feature"),
              "spherical": ((k,), "one variance per component")}
    # mclust's models (gmm_core.parsimonious) keep full matrices: a start is any positive
    # definite one per component, and their M-step imposes the model's constraints.
    covariance_type = covariance_type if covariance_type in shapes else "full"
    array = _given_array(name, covariances, *shapes[covariance_type])
    if covariance_type in ("diag", "spherical"):
        bad = np.argwhere(array <= 0)
        if len(bad):
            where = tuple(int(i) for i in bad[0])
            raise ValueError(f"{name} must be positive; {name}{list(where)} is "
                             f"{array[where]:.6g}")
        return array
    # Every matrix at once (a sweep hands each fit its start as covariances_init); the
    # first one that fails is named.
    matrices = array.reshape(-1, d, d)
    # np.allclose's test (its rtol and atol) written out: np.isclose's own checks cost
    # more than the comparison on finite values.
    transposed = np.swapaxes(matrices, 1, 2)
    symmetric = (np.abs(matrices - transposed) <= 1e-8 + 1e-5 * np.abs(transposed)).all(
        axis=(1, 2))
    # Positive definiteness does not depend on scale: checked on each matrix divided by
    # its largest entry, so that entries near the top of float64 cannot overflow.
    largest = np.abs(matrices).max(axis=(1, 2))
    divisor = np.where(largest > 0, largest, 1.0)[:, None, None]
    smallest = np.where(largest > 0, np.linalg.eigvalsh(matrices / divisor)[:, 0] * largest,
                        0.0)
    for j in np.flatnonzero(~symmetric | ~(smallest > 0)):
        which = f"{name}[{j}]" if covariance_type == "full" else name
        if not symmetric[j]:
            raise ValueError(f"{which} must be symmetric; it is not")
        raise ValueError(f"{which} must be positive definite; its smallest eigenvalue "
                         f"is {smallest[j]:.6g}")
    return array
