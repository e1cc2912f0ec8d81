"""The EM pass over a persisted ``dask.array`` on a Dask cluster.

The pass is a map over row blocks followed by a sum of small ``(k, F)`` statistics
(gmm_core.estep), so on a cluster each chunk of rows runs the same block pass on the
worker that holds it and returns its statistics and log-likelihood; the client sums
them and does the M-step. Only the statistics and one reproducible sample of rows ever
reach the client.

The sample (the trace's display rows, at most ``trace_points``) also serves the start:
the chosen initialization runs on it, as k-means++ would on any uniform sample, and a
component that has to be restarted restarts at the sample row the model explains worst.
From given initial parameters the fit is the in-memory fit, up to the order in which
the chunks' sums are added.

Dask is imported here only, so the rest of gmm_core works without it.
"""

from __future__ import annotations

import itertools
import os

import numpy as np

from gmm_core.covariance import CovarianceStructure
from gmm_core.estep import DesignBlocks, PassResult, pass_over_blocks
from gmm_core.trace import display_sample_index

SCHEDULER_ADDRESS = "DASK_SCHEDULER_ADDRESS"
LOCAL_WORKERS = 2
# Rows are kept in the workers' memory when they take at most this share of it; larger
# catalogs are read again from their files on every pass, so a worker's memory holds a
# few chunks at a time however many rows there are.
PERSIST_SHARE = 0.5


def _cluster_memory() -> float:
    """The workers' memory limits added up (infinite without a cluster or a limit)."""
    from distributed import default_client

    try:
        workers = default_client().scheduler_info()["workers"].values()
    except ValueError:  # no client: the data are in this process already
        return np.inf
    return sum(worker.get("memory_limit") or np.inf for worker in workers)


def _persist_evenly(rows):
    """The rows persisted as one run of chunks per worker, of equal lengths: a pass lasts as
    long as the worker with the most chunks takes (6 and 4 of ten took 1.2 times as long
    as 5 and 5), and Dask's work stealing does not move a chunk that costs more to send
    than to process. A worker lost later is replaced by any other."""
    import dask.array as da
    from distributed import default_client

    try:
        workers = sorted(default_client().scheduler_info()["workers"])
    except ValueError:  # no client: persisted in this process
        return rows.persist()
    bounds = np.linspace(0, len(rows.chunks[0]), len(workers) + 1).astype(int)
    # Persisted once more as one array, so that a pass does not run the joins again: each
    # is a reference to a chunk, run where the chunk lies.
    return da.concatenate([
        rows.blocks[lo:hi].persist(workers=[worker], allow_other_workers=True)
        for worker, (lo, hi) in zip(workers, itertools.pairwise(bounds), strict=True)
        if hi > lo]).persist()


def connect(address: str | None = None):
    """A ``distributed.Client``: on ``address``, else ``$DASK_SCHEDULER_ADDRESS``, else a
    LocalCluster of two worker processes (one thread each) on this machine."""
    from distributed import Client, LocalCluster

    address = address or os.environ.get(SCHEDULER_ADDRESS)
    if address:
        return Client(address)
    # The scheduler serves HTTP (health, metrics) even without a dashboard, on 8787 unless
    # told otherwise: a free port, so that another cluster there costs no warning.
    return Client(LocalCluster(n_workers=LOCAL_WORKERS, threads_per_worker=1,
                               processes=True, dashboard_address=":0"))


def is_dask_array(X) -> bool:
    return type(X).__module__.startswith("dask.array")


def check_rows(rows, min_rows: int):
    """The rows as float64 with known chunk sizes, or ValueError saying what is wrong."""
    if rows.ndim != 2:
        raise ValueError(f"X must be 2-D (n_samples, n_features); got shape {rows.shape}")
    if not np.issubdtype(rows.dtype, np.number):
        raise ValueError(f"X must be numeric; got dtype {rows.dtype}")
    if len(rows.chunks[1]) != 1:  # a row chunk must hold whole rows for the block pass
        rows = rows.rechunk({1: -1})
    if any(np.isnan(size) for size in rows.chunks[0]):
        rows = rows.compute_chunk_sizes()
    if rows.shape[0] < min_rows:
        raise ValueError(f"X has {rows.shape[0]} rows; at least {min_rows} are needed")
    return rows.astype(np.float64)


def _chunk_pass(chunk, shift, structure, weights_t, collect_statistics):
    blocks = DesignBlocks(chunk, shift, structure)
    log_likelihood, statistics, _, _ = pass_over_blocks(
        blocks, range(len(blocks.starts)), 0, weights_t, collect_statistics, False, None)
    return log_likelihood, statistics


class ClusterBlocks:
    """A dask array's rows (kept on the workers when they fit), with the interface
    EMRun needs from DesignBlocks."""

    def __init__(self, rows, structure: CovarianceStructure, sample_size: int, seed: int):
        import dask
        import dask.array as da

        if rows.nbytes <= PERSIST_SHARE * _cluster_memory():
            rows = _persist_evenly(rows)  # the data stay on the workers from here on
        # else every pass reads the chunks from their source again: out of core.
        self.rows = rows
        self.structure = structure
        self.n, self.d = rows.shape
        self.sample_index = display_sample_index(self.n, sample_size, seed)
        # One read for all four: the sample holds the rows whose responsibilities the
        # trace keeps, and the start is drawn from it.
        finite, mean, self.spread, self.sample = dask.compute(
            da.isfinite(rows).all(), rows.mean(axis=0), rows.std(axis=0),
            rows[self.sample_index])
        if not finite:
            raise ValueError("X contains NaN or infinite values; drop them first "
                             "(gmm_core.catalog drops and counts them)")
        self.shift = mean[:, None]
        # The blocks of the rows this process holds: the start is computed from them.
        self.in_memory = DesignBlocks(self.sample, self.shift[:, 0], structure,
                                      np.arange(len(self.sample)))
        self._chunks = rows.to_delayed().ravel()

    def run_pass(self, design_weights: np.ndarray, collect_statistics: bool = True,
                 find_worst_row: bool = False) -> PassResult:
        import dask

        weights_t = np.ascontiguousarray(design_weights.T)
        shift = self.shift[:, 0]
        parts = dask.compute(*[
            dask.delayed(_chunk_pass, pure=False)(chunk, shift, self.structure, weights_t,
                                                  collect_statistics)
            for chunk in self._chunks])
        on_sample = self.in_memory.run_pass(design_weights, collect_statistics=False,
                                            find_worst_row=find_worst_row)
        total = sum(part[0] for part in parts)
        statistics = sum(part[1] for part in parts) if collect_statistics else None
        return PassResult(total / self.n, statistics, on_sample.sample_responsibilities,
                          on_sample.worst_row)
