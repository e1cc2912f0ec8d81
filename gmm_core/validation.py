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
    finite_rows = np.isfinite(array).all(axis=1)
    if not finite_rows.all():
        bad = np.flatnonzero(~finite_rows)
        raise ValueError(f"X contains NaN or infinite values in {counted(len(bad), 'row')} "
                         f"(first at row {bad[0]}); drop or impute them first")
    if n_rows < min_rows:
        raise ValueError(f"need at least {counted(min_rows, 'row')} (one per component); got "
                         f"{n_rows:,}")
    return array
