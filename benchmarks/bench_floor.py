"""One EM iteration at 10^6 x 10, k = 10, against the floor this machine sets for it.

One iteration of this engine (gmm_core.estep) is two matrix products of
``2 x F x k x n`` flops each (F = the design matrix's features: 66 for full covariances
at d = 10, 21 for diag) and ``n x k`` exponentials. The floor is those flops at the rate
numpy's dgemm reaches here on a square product of the same flops, plus the time
np.exp takes for ``n x k`` values, both measured in this run. Prints, for full and diag,
the time per iteration (wall and CPU), its ratio to the floor, and scikit-learn's time
per iteration from the same start; and the OpenBLAS kernel in use.

    .venv/bin/python benchmarks/bench_floor.py
    .venv/bin/python benchmarks/bench_floor.py --rows 200000 --repeats 1   # a short run
    .venv/bin/python benchmarks/bench_floor.py --coretype Haswell          # another kernel
    .venv/bin/python benchmarks/bench_floor.py --covariance diag          # one type

Per-iteration times are the fastest iteration of the fits (timestamps taken after each
M-step: ours through ``on_iteration``, scikit-learn's where it reports an iteration's
end), so neither the start nor the final E-step counts.
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.mixture import GaussianMixture
from threadpoolctl import threadpool_limits

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.bench_em import (
    add_coretype_option,
    blas_description,
    initial_parameters,
    make_data,
    restart_on_coretype,
)
from gmm_core import GMM
from gmm_core.covariance import structure_for

COVARIANCE_TYPES = ("full", "diag")


class IterationClock:
    """Wall and CPU timestamps at each iteration's end; the fastest iteration between."""

    def __init__(self):
        self.marks: list[tuple[float, float]] = []

    def mark(self, *_) -> None:
        self.marks.append((time.perf_counter(), time.process_time()))

    def start_fit(self) -> None:
        self.marks.append((np.nan, np.nan))  # no iteration spans two fits

    def fastest(self) -> np.ndarray:
        """``(wall, cpu)`` seconds of the iteration with the least wall time."""
        marks = np.array(self.marks)
        spans = np.diff(marks, axis=0)
        spans = spans[~np.isnan(spans[:, 0])]
        return spans[np.argmin(spans[:, 0])]


class ClockedGaussianMixture(GaussianMixture):
    """scikit-learn's estimator with a timestamp where its fit loop reports an iteration
    (its verbose message hook, called once per iteration whatever the verbosity)."""

    clock: IterationClock

    def _print_verbose_msg_iter_end(self, n_iter, diff_ll):
        self.clock.mark()
        super()._print_verbose_msg_iter_end(n_iter, diff_ll)


def fastest_call(fn, repeats: int) -> np.ndarray:
    """``(wall, cpu)`` seconds of the fastest of ``repeats`` calls, after a warm-up call."""
    fn()
    clock = IterationClock()
    clock.mark()
    for _ in range(repeats):
        fn()
        clock.mark()
    return np.array(clock.fastest())


def floor_seconds(n: int, k: int, n_design: int, repeats: int):
    """``(floor, dgemm GFLOP/s)``, each ``(wall, cpu)``, for one iteration's products and
    exponentials. The wall floor has BLAS on all its threads; the CPU floor has the
    product on one thread, since BLAS threads that wait for a core (on a shared machine)
    spin and count CPU time that no work needed."""
    flops = 2 * (2.0 * n_design * k * n)
    side = round((flops / 2) ** (1 / 3))  # a square product of the same flops
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(2, side, side))
    product = fastest_call(lambda: a @ b, repeats)
    with threadpool_limits(1, user_api="blas"):
        product[1] = fastest_call(lambda: a @ b, repeats)[1]
    log_prob = rng.uniform(-500.0, 0.0, size=n * k)
    out = np.empty_like(log_prob)
    exponentials = fastest_call(lambda: np.exp(log_prob, out=out), repeats)
    return flops / (2.0 * side**3) * product + exponentials, 2.0 * side**3 / product / 1e9


def iteration_times(X, covariance_type, k, iterations, repeats):
    """Per-iteration ``(wall, cpu)`` of ours and of scikit-learn's, from the same start."""
    weights, means, covariances = initial_parameters(X, k)
    structure = structure_for(covariance_type, k, X.shape[1])
    covariances = structure.from_full(covariances, weights)
    precisions = (np.linalg.inv(covariances) if covariance_type == "full"
                  else 1.0 / covariances)
    ours_clock, theirs_clock = IterationClock(), IterationClock()
    ours = GMM(k=k, covariance_type=covariance_type, tol=0.0, max_iters=iterations,
               weights_init=weights, means_init=means, covariances_init=covariances,
               trace_points=1000, on_iteration=ours_clock.mark)
    theirs = ClockedGaussianMixture(k, covariance_type=covariance_type, tol=0.0,
                                    max_iter=iterations, weights_init=weights,
                                    means_init=means, precisions_init=precisions)
    theirs.clock = theirs_clock
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for _ in range(repeats):
            ours_clock.start_fit()
            ours.fit(X)
            theirs_clock.start_fit()
            theirs.fit(X)
    return ours_clock.fastest(), theirs_clock.fastest()


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--features", type=int, default=10)
    parser.add_argument("--components", type=int, default=10)
    parser.add_argument("--iterations", type=int, default=3,
                        help="EM iterations per fit (the fastest of them is reported)")
    parser.add_argument("--repeats", type=int, default=2, help="fits per estimator and case")
    parser.add_argument("--covariance", choices=COVARIANCE_TYPES, action="append",
                        help="a covariance type to time (repeatable; default: all)")
    add_coretype_option(parser)
    args = parser.parse_args(argv)
    restart_on_coretype(args.coretype, __file__)
    n, d, k = args.rows, args.features, args.components
    print(f"BLAS: {blas_description()}")
    X = make_data(n, d, k)
    print(f"Per EM iteration at {n:,} x {d}, k = {k}; wall ms, and the process's CPU ms")
    print(f"{'covariance':>10} {'GFLOP':>6} {'dgemm GFLOP/s':>14} {'floor ms':>9} "
          f"{'ours ms':>8} {'/ floor':>8} {'sklearn ms':>11} {'/ ours':>7}  "
          f"{'CPU: floor':>10} {'ours':>6} {'/ floor':>8} {'sklearn':>8}")
    for covariance_type in args.covariance or COVARIANCE_TYPES:
        structure = structure_for(covariance_type, k, d)
        n_design = structure.n_quadratic() + d + 1
        floor, rate = floor_seconds(n, k, n_design, max(5, args.repeats + 1))
        ours, theirs = iteration_times(X, covariance_type, k, args.iterations, args.repeats)
        print(f"{covariance_type:>10} {4.0 * n_design * k * n / 1e9:>6.2f} {rate[0]:>14.0f} "
              f"{floor[0] * 1e3:>9.1f} {ours[0] * 1e3:>8.1f} {ours[0] / floor[0]:>7.1f}x "
              f"{theirs[0] * 1e3:>11.1f} {theirs[0] / ours[0]:>6.1f}x  "
              f"{floor[1] * 1e3:>10.1f} {ours[1] * 1e3:>6.1f} {ours[1] / floor[1]:>7.1f}x "
              f"{theirs[1] * 1e3:>8.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
