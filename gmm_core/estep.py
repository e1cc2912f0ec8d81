"""The data pass: E-step and M-step statistics fused, block by block.

For a block of rows the design matrix ``D = [phi(x); x; 1]`` (features x rows, data
centred on a fixed shift) turns the log-density of every component into one matrix
product ``W^T D``, and the M-step statistics (sum of responsibilities, of r x, of
r phi(x)) into another, ``R D^T``. Blocks are sized to stay in cache, so one pass over
the data per EM iteration costs two small GEMMs per block and no (n, k, d) temporaries.
Centring on the data mean keeps the raw-moment covariance estimate accurate for data
far from the origin (offset by 1e6, say). On large data the element-wise work of a
block (the design block, the log-sum-exp) runs compiled (gmm_core.compiled).
"""

from __future__ import annotations

import functools
import itertools
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

from gmm_core.covariance import CovarianceStructure
from gmm_core.threads import single_threaded

# Rows per block: the design block (features x rows, float64) stays near this size, so
# it and the responsibilities stay in a core's L2 cache between the two products.
BLOCK_BYTES = 1 << 19
# Blocks go to parallel workers only when each gets enough of them to pay for the hand-off.
N_WORKERS = max(1, min(4, os.cpu_count() or 1))
MIN_BLOCKS_PER_WORKER = 4
# exp(-500) ~ 7e-218: far from subnormal even after multiplying by data values.
LOG_RESPONSIBILITY_FLOOR = -500.0
# From this many rows the element-wise work of each block runs compiled
# (gmm_core.compiled), which takes a third off a pass's CPU time. The price is paid once
# per process, and small fits (the dashboard's) must not pay it: importing Numba and
# loading the kernels from its disk cache, about 0.6 s of CPU; compiling them, the first
# time on a machine, about 4 s.
COMPILED_MIN_ROWS = 200_000


@dataclass
class PassResult:
    """What one pass over the data returns."""

    mean_log_likelihood: float
    statistics: np.ndarray | None  # (k, F): [sum r phi | sum r x | sum r]
    sample_responsibilities: np.ndarray | None  # (m, k) for the display subsample
    worst_row: int  # the row with the lowest log-likelihood (for re-seeding components)


class DesignBlocks:
    """The rows of X cut into blocks; iterating yields ``(block, start, stop, design)``.

    Each worker thread gets its own design buffer, so blocks can be processed in
    parallel: numpy's ufuncs and BLAS release the GIL.
    """

    def __init__(self, X: np.ndarray, shift: np.ndarray, structure: CovarianceStructure,
                 sample_index: np.ndarray | None = None, block_rows: int | None = None):
        self.X = X
        self.shift = shift[:, None]
        self.structure = structure
        self.n, self.d = X.shape
        self.p = structure.n_quadratic()
        self.n_design = self.p + self.d + 1
        if block_rows is None:
            block_rows = max(256, BLOCK_BYTES // (8 * self.n_design))
        self.block_rows = min(self.n, block_rows)
        self.starts = np.arange(0, self.n, self.block_rows)
        self._buffers: dict[int, np.ndarray] = {}
        self.compiled = _compiled_kernels() if self.n >= COMPILED_MIN_ROWS else None
        if self.compiled is not None:
            self._pairs = structure.quadratic_pairs()
        self.sample_index = sample_index
        if sample_index is not None:
            # For each block, the slice of the (sorted) display rows it contains.
            self._sample_bounds = np.searchsorted(
                sample_index, np.append(self.starts, self.n)
            )

    def __iter__(self):
        return self.iterate(range(len(self.starts)))

    def run_pass(self, design_weights: np.ndarray, collect_statistics: bool = True,
                 find_worst_row: bool = False) -> PassResult:
        """One E-step over every block, with the M-step statistics (see ``em_pass``)."""
        return em_pass(self, design_weights, collect_statistics, find_worst_row)

    @property
    def in_memory(self) -> DesignBlocks:
        """The blocks of the rows this process holds (all of them here)."""
        return self

    @functools.cached_property
    def spread(self) -> np.ndarray:
        """``(d,)``: the data's standard deviation per feature."""
        return self.X.std(axis=0, dtype=np.float64)

    def worker_shares(self) -> list[range]:
        """Contiguous runs of blocks, one per worker (one run when parallelism won't pay)."""
        n_blocks = len(self.starts)
        if n_blocks < MIN_BLOCKS_PER_WORKER * N_WORKERS:
            return [range(n_blocks)]
        bounds = np.linspace(0, n_blocks, N_WORKERS + 1).astype(int)
        return [range(lo, hi) for lo, hi in itertools.pairwise(bounds)]

    def iterate(self, block_ids: range, worker: int = 0):
        buffer = self._buffers.get(worker)
        if buffer is None:
            buffer = self._buffers[worker] = np.empty((self.n_design, self.block_rows))
            buffer[-1] = 1.0
        for block in block_ids:
            start = int(self.starts[block])
            stop = min(start + self.block_rows, self.n)
            design = buffer[:, :stop - start]
            if self.compiled is not None:
                self.compiled.fill_design(self.X, start, stop - start, self.shift[:, 0],
                                          *self._pairs, buffer)
            else:
                centred = design[self.p:self.p + self.d]
                np.subtract(self.X[start:stop].T, self.shift, out=centred)
                self.structure.fill_quadratic(centred, design[:self.p])
            yield block, start, stop, design

    def normalize(self, log_prob: np.ndarray, n_rows: int) -> np.ndarray:
        """``normalize_log_probabilities`` on the first ``n_rows`` columns of a
        ``(k, block_rows)`` buffer (compiled for large data)."""
        if self.compiled is not None:
            return self.compiled.normalize_log_probabilities(log_prob, n_rows,
                                                             LOG_RESPONSIBILITY_FLOOR)
        return normalize_log_probabilities(log_prob[:, :n_rows])

    def sample_slice(self, block: int) -> slice:
        return slice(self._sample_bounds[block], self._sample_bounds[block + 1])


def normalize_log_probabilities(weighted_log_prob: np.ndarray) -> np.ndarray:
    """Turn ``(k, rows)`` weighted log-probabilities into responsibilities, in place.

    Returns the per-row log normaliser (the row's log-likelihood). This is log-sum-exp
    written out so it can reuse the block buffer: scipy's logsumexp would allocate
    several (k, rows) temporaries per block on the hottest path of the fit.
    """
    top = weighted_log_prob.max(axis=0)
    weighted_log_prob -= top
    # exp() takes a slow path where it underflows; terms this small cannot move a sum
    # that is at least 1, so flooring them changes no responsibility that matters.
    np.maximum(weighted_log_prob, LOG_RESPONSIBILITY_FLOOR, out=weighted_log_prob)
    np.exp(weighted_log_prob, out=weighted_log_prob)
    total = weighted_log_prob.sum(axis=0)
    weighted_log_prob /= total
    log_norm = np.log(total)
    log_norm += top
    return log_norm


def em_pass(blocks: DesignBlocks, design_weights: np.ndarray, collect_statistics: bool = True,
            find_worst_row: bool = False) -> PassResult:
    """One E-step over all blocks; accumulate M-step statistics on the way."""
    k = design_weights.shape[1]
    weights_t = np.ascontiguousarray(design_weights.T)
    sample_resp = None
    if blocks.sample_index is not None:
        sample_resp = np.empty((len(blocks.sample_index), k))
    shares = blocks.worker_shares()
    jobs = [(blocks, share, worker, weights_t, collect_statistics, find_worst_row, sample_resp)
            for worker, share in enumerate(shares)]
    if len(jobs) == 1:
        parts = [pass_over_blocks(*jobs[0])]
    else:
        # The workers already share the cores: BLAS threads inside each would contend
        # for the same cores. On the Haswell kernel that tripled the 10^6 x 10 pass.
        with single_threaded():
            parts = list(_worker_pool().map(lambda job: pass_over_blocks(*job), jobs))
    total_log_likelihood = sum(part[0] for part in parts)
    statistics = sum(part[1] for part in parts) if collect_statistics else None
    worst_row = min(parts, key=lambda part: part[3])[2]
    return PassResult(total_log_likelihood / blocks.n, statistics, sample_resp, worst_row)


def pass_over_blocks(blocks, block_ids, worker, weights_t, collect_statistics, find_worst_row,
               sample_resp):
    k = weights_t.shape[0]
    statistics = np.zeros((k, blocks.n_design)) if collect_statistics else None
    log_prob = np.empty((k, blocks.block_rows))
    total_log_likelihood = 0.0
    worst_row, worst_value = 0, np.inf
    for block, start, stop, design in blocks.iterate(block_ids, worker):
        resp = log_prob[:, :stop - start]
        np.matmul(weights_t, design, out=resp)
        log_norm = blocks.normalize(log_prob, stop - start)
        total_log_likelihood += log_norm.sum()
        if collect_statistics:
            statistics += resp @ design.T
        if sample_resp is not None:
            rows = blocks.sample_slice(block)
            sample_resp[rows] = resp[:, blocks.sample_index[rows] - start].T
        if find_worst_row:
            position = int(np.argmin(log_norm))
            if log_norm[position] < worst_value:
                worst_row, worst_value = start + position, log_norm[position]
    return total_log_likelihood, statistics, worst_row, worst_value


@functools.cache
def _compiled_kernels():
    from gmm_core import compiled

    return compiled


@functools.cache
def _worker_pool() -> ThreadPoolExecutor:
    return ThreadPoolExecutor(max_workers=N_WORKERS, thread_name_prefix="gmm-pass")


def evaluate_rows(blocks: DesignBlocks, design_weights: np.ndarray):
    """Per-row log-likelihood ``(n,)`` and responsibilities ``(n, k)``."""
    k = design_weights.shape[1]
    weights_t = np.ascontiguousarray(design_weights.T)
    log_likelihood = np.empty(blocks.n)
    responsibilities = np.empty((blocks.n, k))
    log_prob = np.empty((k, blocks.block_rows))
    for _, start, stop, design in blocks:
        resp = log_prob[:, :stop - start]
        np.matmul(weights_t, design, out=resp)
        log_likelihood[start:stop] = blocks.normalize(log_prob, stop - start)
        responsibilities[start:stop] = resp.T
    return log_likelihood, responsibilities


def statistics_from_responsibilities(blocks: DesignBlocks, responsibilities: np.ndarray,
                                     n_components: int) -> np.ndarray:
    """M-step statistics for given responsibilities: ``(n, k)`` array or hard labels ``(n,)``."""
    statistics = np.zeros((n_components, blocks.n_design))
    for _, start, stop, design in blocks:
        if responsibilities.ndim == 1:
            block_resp = np.zeros((n_components, stop - start))
            block_resp[responsibilities[start:stop], np.arange(stop - start)] = 1.0
        else:
            block_resp = responsibilities[start:stop].T
        statistics += block_resp @ design.T
    return statistics
