"""One BLAS/OpenMP thread for small fits.

A fit of a few thousand rows is a stream of tiny BLAS calls and k-means sweeps: extra
threads only spin-wait between them. Measured in the dashboard's server on the default
view (1,000 rows, k = 4), scikit-learn's fit took 17 ms of wall time but 900 ms of CPU
with the default threads (OpenBLAS and OpenMP workers busy-waiting), 9 ms of both with
one. A server that fits for many users gains its parallelism from the users.
"""

from __future__ import annotations

import functools
from contextlib import AbstractContextManager

from threadpoolctl import ThreadpoolController


@functools.cache
def _controller() -> ThreadpoolController:
    # Built once: scanning the loaded libraries costs ~3 ms, as much as a small fit.
    return ThreadpoolController()


def single_threaded() -> AbstractContextManager:
    """A context in which BLAS and OpenMP use one thread (the calling thread's limits)."""
    return _controller().limit(limits=1)
