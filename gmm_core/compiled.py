"""The data pass's element-wise work on a block, compiled with Numba (large data only).

The same formulas as gmm_core.estep's NumPy code, in fewer passes over the block:
NumPy builds the design block in up to ``d + 1`` calls (each reading its inputs from
L2 cache again) and the log-sum-exp in eight. Here the design block is one call, and the
log-sum-exp three: the shift to each row's maximum, NumPy's exp (vectorized, which
Numba's is not), and the division by the row's total. On the 10^6 x 10, k = 10 pass
(full covariances, one thread) that took the element-wise work from about 95 to 45 ms
of CPU per iteration; the two matrix products (about 60 ms) are BLAS's either way.

Importing Numba and loading the compiled code (cached on disk after the first run)
costs a process about 0.6 s of CPU, so gmm_core.estep imports this module only for
data large enough for that to pay (``COMPILED_MIN_ROWS`` there).
"""

from __future__ import annotations

import numba
import numpy as np

# error_model="numpy": floating-point division as NumPy's (inf or nan, no
# ZeroDivisionError check, which would keep a loop from being vectorized).
_compile = numba.njit(cache=True, nogil=True, error_model="numpy")


@_compile
def fill_design(X, start, n_rows, shift, pair_rows, pair_cols, design):
    """Write ``[phi(x~); x~]`` for rows ``start:start + n_rows`` of ``X`` into the first
    ``n_rows`` columns of ``design`` ``(F, block_rows)``, where ``x~ = x - shift`` and
    ``phi`` holds ``x~[pair_rows] * x~[pair_cols]``. The last row of ``design`` (ones)
    is left as it is."""
    d = X.shape[1]
    p = pair_rows.shape[0]
    rows = X[start:start + n_rows]
    for i in range(d):
        column, centred, centre = rows[:, i], design[p + i], shift[i]
        for r in range(n_rows):
            centred[r] = column[r] - centre
    for q in range(p):
        left, right, out = design[p + pair_rows[q]], design[p + pair_cols[q]], design[q]
        for r in range(n_rows):
            out[r] = left[r] * right[r]


@_compile
def _shift_to_top(log_prob, n_rows, top, floor):
    """``top = max over components``; ``log_prob = max(log_prob - top, floor)``."""
    k = log_prob.shape[0]
    top[:] = log_prob[0, :n_rows]
    for q in range(1, k):
        row = log_prob[q]
        for r in range(n_rows):
            top[r] = max(top[r], row[r])
    for q in range(k):
        row = log_prob[q]
        for r in range(n_rows):
            row[r] = max(row[r] - top[r], floor)


@_compile
def _divide_by_total(prob, n_rows, total):
    """``total = sum over components``; ``prob /= total`` (as a product with the
    reciprocal: a division per row, not per entry; at most an ulp from dividing)."""
    k = prob.shape[0]
    total[:] = prob[0, :n_rows]
    for q in range(1, k):
        row = prob[q]
        for r in range(n_rows):
            total[r] += row[r]
    reciprocal = 1.0 / total
    for q in range(k):
        row = prob[q]
        for r in range(n_rows):
            row[r] *= reciprocal[r]


def normalize_log_probabilities(log_prob: np.ndarray, n_rows: int, floor: float) -> np.ndarray:
    """gmm_core.estep.normalize_log_probabilities on the first ``n_rows`` columns of
    a C-contiguous ``(k, block_rows)`` buffer, in place; returns the ``(n_rows,)`` log
    normaliser. (Whole buffers keep Numba to one compiled layout.)"""
    top, total = np.empty(n_rows), np.empty(n_rows)
    _shift_to_top(log_prob, n_rows, top, floor)
    block = log_prob[:, :n_rows]
    np.exp(block, out=block)
    _divide_by_total(log_prob, n_rows, total)
    log_norm = np.log(total)
    log_norm += top
    return log_norm
