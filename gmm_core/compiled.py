"""The data pass's element-wise work on a block, compiled with Numba (large data only).

The same formulas as gmm_core.estep's NumPy code, in fewer passes over the block:
NumPy builds the design block in up to ``d + 1`` calls (each reading its inputs from
L2 cache again) and the log-sum-exp in eight. Here the design block is one call, and the
log-sum-exp three: the shift to each row's maximum, NumPy's exp (vectorized, which
Numba's is not), and the division by the row's total. On the 10^6 x 10, k = 10 pass
(full covariances, one thread) that took the element-wise work from about 95 to 45 ms
of CPU per iteration; the two matrix products (about 60 ms) are BLAS's either way.

For diagonal and spherical covariances (quadratic features that are the squares) the
whole E-step of a block is one compiled pass over tiles of its rows, with no design
block: log-densities from the centred rows, the log-sum-exp with an exp of its own (one
that vectorizes), and the M-step statistics. On the same pass (10^6 x 10, k = 10, one
thread) that took a fifth off the CPU time (53 to 43 ms in one A/B run).

Importing Numba and loading the compiled code (cached on disk after the first run)
costs a process about 0.6 s of CPU, so gmm_core.estep imports this module only for
data large enough for that to pay (``COMPILED_MIN_ROWS`` there).
"""

from __future__ import annotations

import math

import numba
import numpy as np

# error_model="numpy": floating-point division as NumPy's (inf or nan, no
# ZeroDivisionError check, which would keep a loop from being vectorized).
_compile = numba.njit(cache=True, nogil=True, error_model="numpy")
# The diagonal pass's sums over features and rows, vectorized: LLVM may reorder a sum
# (reassoc) and fuse a product into it (contract), which moves it by rounding only. No
# flag that assumes finite values: a component of weight 0 has log-density -inf.
_compile_sums = numba.njit(cache=True, nogil=True, error_model="numpy",
                           fastmath={"reassoc", "contract"})
# Rows the diagonal kernels take at a time: the tile's centred rows and log-densities
# (or responsibilities) stay in a core's L1 cache across the loops over components.
DIAGONAL_TILE_ROWS = 256


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


# exp on [LOG_RESPONSIBILITY_FLOOR, 0] in the fused kernel, vectorized (NumPy's exp, a
# separate pass over the block, took a sixth of the pass): exp(v) = 2^j exp(u) with
# j = round(v / ln 2), u = v - j ln 2 (ln 2 in two parts, fdlibm's, so that v - j ln2_hi
# is exact), |u| <= ln 2 / 2; exp(u) by its Taylor series to u^13 (the next term is
# under 1e-17 relative), 2^j written as a float's bits. Within an ulp of np.exp.
_LOG2_E = 1.4426950408889634
_LN2_HI = 6.93147180369123816490e-01
_LN2_LO = 1.90821492927058770002e-10
_EXP_TAYLOR = tuple(1.0 / math.factorial(n) for n in range(13, -1, -1))


@_compile_sums
def _diagonal_e_step(X, start, n_rows, shift, weights_t, floor, resp, top, total,
                     statistics, collect):
    """The fused E-step of ``diagonal_e_step``, one tile of rows at a time."""
    d, k = X.shape[1], weights_t.shape[0]
    tile = DIAGONAL_TILE_ROWS
    # Features two at a time (half the loads and stores of a sweep over the tile); an
    # odd d gets a zero feature of zero weight, which adds nothing.
    width = d + d % 2
    quadratic, linear = np.zeros((k, width)), np.zeros((k, width))
    quadratic[:, :d], linear[:, :d] = weights_t[:, :d], weights_t[:, d:2 * d]
    sums, squares, weights = np.zeros((k, width)), np.zeros((k, width)), np.zeros(k)
    centred = np.zeros((width, tile))
    power_bits = np.empty(tile, dtype=np.int64)
    powers = power_bits.view(np.float64)
    reciprocal = np.empty(tile)
    for t0 in range(0, n_rows, tile):
        m = min(tile, n_rows - t0)
        rows = X[start + t0:start + t0 + m]
        for i in range(d):
            column, centre = centred[i, :m], shift[i]
            for r in range(m):
                column[r] = rows[r, i] - centre
        tile_top, tile_total = top[t0:t0 + m], total[t0:t0 + m]
        for q in range(k):
            out = resp[q, t0:t0 + m]
            out[:] = weights_t[q, 2 * d]
            for i in range(0, width, 2):
                x, a, b = centred[i, :m], quadratic[q, i], linear[q, i]
                y, e, f = centred[i + 1, :m], quadratic[q, i + 1], linear[q, i + 1]
                for r in range(m):
                    out[r] += x[r] * (a * x[r] + b) + y[r] * (e * y[r] + f)
            if q == 0:
                tile_top[:] = out
            else:
                for r in range(m):
                    tile_top[r] = max(tile_top[r], out[r])
        tile_total[:] = 0.0
        for q in range(k):
            out = resp[q, t0:t0 + m]
            for r in range(m):
                v = max(out[r] - tile_top[r], floor)
                j = np.floor(v * _LOG2_E + 0.5)
                u = (v - j * _LN2_HI) - j * _LN2_LO
                value = _EXP_TAYLOR[0]
                for c in _EXP_TAYLOR[1:]:
                    value = value * u + c
                out[r] = value
                power_bits[r] = (np.int64(j) + 1023) << 52
            for r in range(m):
                out[r] *= powers[r]
                tile_total[r] += out[r]
        for r in range(m):
            reciprocal[r] = 1.0 / tile_total[r]
        for q in range(k):
            out = resp[q, t0:t0 + m]
            weight = 0.0
            for r in range(m):
                out[r] *= reciprocal[r]
                weight += out[r]
            weights[q] += weight
            if not collect:
                continue
            for i in range(0, width, 2):
                x, y = centred[i, :m], centred[i + 1, :m]
                x_sum, x_squares, y_sum, y_squares = 0.0, 0.0, 0.0, 0.0
                for r in range(m):
                    x_weighted, y_weighted = out[r] * x[r], out[r] * y[r]
                    x_sum += x_weighted
                    x_squares += x_weighted * x[r]
                    y_sum += y_weighted
                    y_squares += y_weighted * y[r]
                sums[q, i] += x_sum
                squares[q, i] += x_squares
                sums[q, i + 1] += y_sum
                squares[q, i + 1] += y_squares
    if collect:
        statistics[:, :d] += squares[:, :d]
        statistics[:, d:2 * d] += sums[:, :d]
        statistics[:, 2 * d] += weights


def diagonal_e_step(X, start, n_rows, shift, weights_t, floor, log_prob,
                    statistics=None) -> np.ndarray:
    """The E-step of rows ``start:start + n_rows`` of ``X`` for a structure whose
    quadratic features are the squares (diag, spherical), in one pass and without a
    design block: ``weights_t`` ``(K, 2d + 1)`` are its design weights ``[A | B | c]``
    (log-density ``sum_i x~_i (A_i x~_i + B_i) + c``, ``x~ = x - shift``).
    Responsibilities go into the first ``n_rows`` columns of ``log_prob`` ``(K,
    block_rows)`` as ``normalize_log_probabilities`` leaves them, the block's
    statistics ``[sum r x~^2 | sum r x~ | sum r]`` (the design's ``R D^T``) are added
    into ``statistics`` ``(K, 2d + 1)`` unless None. Returns the rows' log-likelihoods."""
    top, total = np.empty(n_rows), np.empty(n_rows)
    collect = statistics is not None
    if not collect:
        statistics = np.empty((0, 0))
    _diagonal_e_step(X, start, n_rows, shift, weights_t, floor, log_prob, top, total,
                     statistics, collect)
    log_norm = np.log(total)
    log_norm += top
    return log_norm
