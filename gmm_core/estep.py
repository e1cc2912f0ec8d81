"""The data pass: E-step and M-step statistics fused, block by block.

For a block of rows the design matrix ``D = [phi(x); x; 1]`` (features x rows, data
centred on a fixed shift) turns the log-density of every component into one matrix
product ``W^T D``, and the M-step statistics (sum of responsibilities, of r x, of
r phi(x)) into another, ``R D^T``. Blocks are sized to stay in cache, so one pass over
the data per EM iteration costs two stacked GEMMs per block (one per cache-sized tile)
and no (n, k, d) temporaries.
Centring on the data mean keeps the raw-moment covariance estimate accurate for data
far from the origin (offset by 1e6, say). On large data the element-wise work of a
block (the design block, the log-sum-exp) runs compiled (gmm_core.compiled), and for
diagonal and spherical covariances the whole block's E-step does, without the design.
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

# Rows per tile: a tile of the design (features x rows, float64) stays near this size, so
# it and its responsibilities stay in a core's L2 cache between the two products.
TILE_BYTES = 1 << 19
# A block is several tiles, up to this much design and a tile's worth of responsibilities
# (k x rows), so that each numpy call covers several tiles. A call holds the GIL for its
# dispatch, a microsecond or two: with one tile per block that was a quarter of the
# block's time (k = 10, d = 10, full), and two worker threads queued for the GIL about
# five times per block (10^7 rows in memory took 1.34 s per iteration where two worker
# processes took 0.80 s). The products still run tile by tile, one stacked matmul per
# block: over a whole block at once they ran 1.8 to 2.6 times slower per row.
BLOCK_BYTES = 1 << 22
# Blocks go to parallel workers only when each gets enough tiles to pay for the hand-off.
N_WORKERS = max(1, min(4, os.cpu_count() or 1))
MIN_TILES_PER_WORKER = 4
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
        self.tile_rows = min(self.n, max(256, TILE_BYTES // (8 * self.n_design)))
        if block_rows is None:
            tiles = min(BLOCK_BYTES // (8 * self.n_design * self.tile_rows),
                        TILE_BYTES // (8 * structure.k * self.tile_rows))
            block_rows = max(1, tiles) * self.tile_rows
        self.block_rows = min(self.n, block_rows)
        self.starts = np.arange(0, self.n, self.block_rows)
        self._buffers: dict[int, np.ndarray] = {}
        # The block whose design each worker's buffer holds: the rows and the shift never
        # change, so a worker that meets the same block again (data of one block, pass
        # after pass) reuses it.
        self._filled: dict[int, int] = {}
        self.compiled = _compiled_kernels() if self.n >= COMPILED_MIN_ROWS else None
        # Quadratic features that are the squares (diag, spherical): the compiled E-step
        # works from the centred rows alone, without the design block.
        self.squares_only = False
        if self.compiled is not None:
            self._pairs = structure.quadratic_pairs()
            squares = np.arange(self.d)
            self.squares_only = all(np.array_equal(index, squares) for index in self._pairs)
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
        n_tiles = -(-self.n // self.tile_rows)
        if n_tiles < MIN_TILES_PER_WORKER * N_WORKERS or n_blocks < N_WORKERS:
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
            if self._filled.get(worker) == block:
                pass  # filled by an earlier pass
            elif self.compiled is not None:
                self.compiled.fill_design(self.X, start, stop - start, self.shift[:, 0],
                                          *self._pairs, buffer)
            else:
                centred = design[self.p:self.p + self.d]
                np.subtract(self.X[start:stop].T, self.shift, out=centred)
                self.structure.fill_quadratic(centred, design[:self.p])
            self._filled[worker] = block
            yield block, start, stop, design

    def e_steps(self, block_ids: range, worker: int, weights_t: np.ndarray,
                statistics: np.ndarray | None = None):
        """The E-step block by block: yields ``(block, start, stop, responsibilities
        (K, rows), log-likelihoods (rows,))`` and adds each block's M-step statistics
        ``R D^T`` into ``statistics`` ``(K, F)`` unless None. The responsibilities are a
        view of a buffer that the next block overwrites."""
        log_prob = np.empty((len(weights_t), self.block_rows))
        if self.squares_only:
            for block in block_ids:
                start = int(self.starts[block])
                stop = min(start + self.block_rows, self.n)
                log_norm = self.compiled.diagonal_e_step(
                    self.X, start, stop - start, self.shift[:, 0], weights_t,
                    LOG_RESPONSIBILITY_FLOOR, log_prob, statistics)
                yield block, start, stop, log_prob[:, :stop - start], log_norm
            return
        for block, start, stop, design in self.iterate(block_ids, worker):
            resp = log_prob[:, :stop - start]
            log_probabilities(weights_t, design, self.tile_rows, out=resp)
            log_norm = self.normalize(log_prob, stop - start)
            if statistics is not None:
                statistics += sums(resp, design, self.tile_rows)
            yield block, start, stop, resp, log_norm

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
    total_log_likelihood = 0.0
    worst_row, worst_value = 0, np.inf
    for block, start, _, resp, log_norm in blocks.e_steps(block_ids, worker, weights_t,
                                                          statistics):
        total_log_likelihood += log_norm.sum()
        if sample_resp is not None:
            rows = blocks.sample_slice(block)
            sample_resp[rows] = resp[:, blocks.sample_index[rows] - start].T
        if find_worst_row:
            position = int(np.argmin(log_norm))
            if log_norm[position] < worst_value:
                worst_row, worst_value = start + position, log_norm[position]
    return total_log_likelihood, statistics, worst_row, worst_value


def log_probabilities(weights_t: np.ndarray, design: np.ndarray, tile_rows: int,
                      out: np.ndarray) -> None:
    """``W^T D``, ``(k, rows)``, into ``out``: one stacked matmul over the block's tiles."""
    if design.shape[1] <= tile_rows:  # one tile: the same product, without the stacking
        np.matmul(weights_t, design, out=out)
        return
    for design_stack, out_stack in zip(_tiles(design, tile_rows), _tiles(out, tile_rows),
                                       strict=True):
        np.matmul(weights_t, design_stack, out=out_stack)


def sums(resp: np.ndarray, design: np.ndarray, tile_rows: int) -> np.ndarray:
    """The M-step statistics ``R D^T``, ``(k, F)``, summed over the block's tiles."""
    if design.shape[1] <= tile_rows:  # one tile: the same product, without the stacking
        return resp @ design.T
    return sum(np.matmul(resp_stack, design_stack.transpose(0, 2, 1)).sum(axis=0)
               for resp_stack, design_stack in zip(_tiles(resp, tile_rows),
                                                   _tiles(design, tile_rows), strict=True))


def _tiles(matrix: np.ndarray, tile_rows: int) -> list[np.ndarray]:
    """Views of a ``(features, rows)`` block as stacks of tiles, ``(tiles, features,
    tile_rows)`` for the whole tiles and ``(1, features, rest)`` for the rest."""
    whole = matrix.shape[1] // tile_rows * tile_rows
    stacks = []
    if whole:
        # copy=False: a copy would take the products' output away from the block.
        stacks.append(matrix[:, :whole].reshape((len(matrix), -1, tile_rows), copy=False)
                      .transpose(1, 0, 2))
    if whole < matrix.shape[1]:
        stacks.append(matrix[None, :, whole:])
    return stacks


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
    for _, start, stop, resp, log_norm in blocks.e_steps(range(len(blocks.starts)), 0,
                                                         weights_t):
        log_likelihood[start:stop] = log_norm
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
        statistics += sums(block_resp, design, blocks.tile_rows)
    return statistics
