"""Per-iteration EM time of gmm_core.GMM against scikit-learn, same data, same start.

Both estimators start from the same weights, means and precisions and run a fixed
number of iterations with tol=0, so the time per iteration compares like with like.
Prints one row per case with the ratio (scikit-learn time / ours) and the budget.

    .venv/bin/python benchmarks/bench_em.py            # the three cases of DESIGN.md
    .venv/bin/python benchmarks/bench_em.py --quick    # smaller, for a smoke run
    .venv/bin/python benchmarks/bench_em.py --coretype Haswell   # another OpenBLAS kernel
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import warnings
from pathlib import Path

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.mixture import GaussianMixture
from threadpoolctl import threadpool_info

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from gmm_core import GMM

CASES = [  # (n, d, k, iterations, budget ratio)
    (4_000, 2, 10, 50, 5.0),
    (100_000, 2, 5, 20, 5.0),
    (1_000_000, 10, 10, 3, 10.0),
]
QUICK_CASES = [(4_000, 2, 10, 20, 5.0), (20_000, 2, 5, 10, 5.0), (100_000, 10, 10, 3, 10.0)]


def make_data(n: int, d: int, k: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centers = rng.normal(scale=8.0, size=(k, d))
    labels = rng.integers(k, size=n)
    return centers[labels] + rng.normal(size=(n, d))


def initial_parameters(X: np.ndarray, k: int):
    """A shared start: k-means++-style means, the data covariance, equal weights."""
    rng = np.random.default_rng(1)
    means = X[rng.choice(len(X), size=k, replace=False)]
    cov = np.cov(X, rowvar=False) / k + 1e-6 * np.eye(X.shape[1])
    return np.full(k, 1.0 / k), means, np.repeat(cov[None], k, axis=0)


def best_time(fn, repeats: int) -> float:
    """Fastest of ``repeats`` calls, after one warm-up call (imports, thread pools)."""
    fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def time_case(n, d, k, iterations, repeats):
    X = make_data(n, d, k)
    weights, means, covariances = initial_parameters(X, k)
    ours = GMM(k=k, tol=0.0, max_iters=iterations, weights_init=weights, means_init=means,
               covariances_init=covariances, trace_points=1000)
    theirs = GaussianMixture(k, tol=0.0, max_iter=iterations, weights_init=weights,
                             means_init=means, precisions_init=np.linalg.inv(covariances))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        t_ours = best_time(lambda: ours.fit(X), repeats) / iterations
        t_theirs = best_time(lambda: theirs.fit(X), repeats) / iterations
    agreement = np.abs(ours.means_ - theirs.means_).max() / np.abs(theirs.means_).max()
    return t_ours, t_theirs, agreement


def add_coretype_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--coretype", help="the OpenBLAS kernel to run on (Haswell, "
                        "SkylakeX, Sandybridge, ...; default: the one OpenBLAS picks)")


def restart_on_coretype(coretype: str | None, script: str) -> None:
    """Run ``script`` again with OPENBLAS_CORETYPE set, unless it already is."""
    if coretype and os.environ.get("OPENBLAS_CORETYPE") != coretype:
        # OpenBLAS reads the variable once, when numpy loads it: start again with it set.
        os.execve(sys.executable, [sys.executable, script, *sys.argv[1:]],
                  {**os.environ, "OPENBLAS_CORETYPE": coretype})


def blas_description() -> str:
    """The BLAS in use: library, kernel (OpenBLAS's core type) and threads."""
    return ", ".join(f"{i['internal_api']} {i.get('architecture', '')} x{i['num_threads']}"
                     for i in threadpool_info() if i["user_api"] == "blas")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller cases, one repeat")
    parser.add_argument("--repeats", type=int, default=3)
    add_coretype_option(parser)
    args = parser.parse_args(argv)
    restart_on_coretype(args.coretype, __file__)
    cases = QUICK_CASES if args.quick else CASES
    repeats = 1 if args.quick else args.repeats
    print(f"BLAS: {blas_description()}")
    print("Per-iteration time, full covariance, same data and initial parameters (tol=0)")
    header = (f"{'n x d':>14} {'k':>3} {'ours ms':>9} {'sklearn ms':>11} {'ratio':>7} "
              f"{'budget':>7} {'ok':>4} {'max rel diff':>13}")
    print(header)
    for n, d, k, iterations, budget in cases:
        t_ours, t_theirs, agreement = time_case(n, d, k, iterations, repeats)
        ratio = t_theirs / t_ours
        print(f"{f'{n:,} x {d}':>14} {k:>3} {t_ours * 1e3:>9.3f} {t_theirs * 1e3:>11.3f} "
              f"{ratio:>6.1f}x {budget:>6.0f}x {'yes' if ratio >= budget else 'NO':>4} "
              f"{agreement:>13.1e}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
