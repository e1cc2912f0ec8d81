"""A BIC/AIC sweep (k = 1…10 x 4 covariance types) against scikit-learn's, 4,000 x 2.

Both sweeps fit the same data with the same tol, reg_covar and max_iter, n_init=1 and
scikit-learn's default start (k-means, random_state 42): ours through
``gmm_core.selection.sweep``, scikit-learn's as a user would write it, one
``GaussianMixture`` after another. scikit-learn is timed with its default threads and
with one BLAS/OpenMP thread; the ratio is taken against the faster of the two. Every
time is the best of ``--repeats`` runs after a warm-up run.

    .venv/bin/python benchmarks/bench_selection.py
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

from gmm_core.model import CRITERION_RTOL, criterion_order
from gmm_core.request import COVARIANCE_TYPES
from gmm_core.selection import sweep

K_VALUES = range(1, 11)
SETTINGS = {"tol": 1e-3, "reg_covar": 1e-6, "max_iters": 100, "seed": 42}
BUDGET = 3.0


def make_data(n: int = 4_000, seed: int = 0) -> np.ndarray:
    """Four Gaussian components in 2-D, each with its own tilted covariance."""
    rng = np.random.default_rng(seed)
    centers = np.array([[0.0, 0.0], [6.0, 1.0], [2.0, 7.0], [-5.0, 5.0]])
    shapes = rng.normal(scale=0.8, size=(4, 2, 2))
    labels = rng.integers(4, size=n)
    return centers[labels] + np.einsum("nij,nj->ni", shapes[labels], rng.normal(size=(n, 2)))


def sklearn_sweep(X: np.ndarray) -> dict[tuple[int, str], float]:
    bics = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for covariance_type in COVARIANCE_TYPES:
            for k in K_VALUES:
                model = GaussianMixture(k, covariance_type=covariance_type, tol=SETTINGS["tol"],
                                        reg_covar=SETTINGS["reg_covar"],
                                        max_iter=SETTINGS["max_iters"],
                                        random_state=SETTINGS["seed"]).fit(X)
                bics[(k, covariance_type)] = model.bic(X)
    return bics


def timed(fn, repeats: int):
    """(best time, last result) over ``repeats`` runs after one warm-up run."""
    result = fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return min(times), result


def first_call_time(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    X = make_data()

    def ours(n_jobs=None, init="kmeans"):
        return lambda: sweep(X, K_VALUES, COVARIANCE_TYPES, init=init, n_jobs=n_jobs,
                             **SETTINGS)

    def single_threaded_sklearn():
        with threadpool_limits(1):
            return sklearn_sweep(X)

    t_default_threads, bics = timed(lambda: sklearn_sweep(X), args.repeats)
    t_one_thread, _ = timed(single_threaded_sklearn, args.repeats)
    t_theirs = min(t_default_threads, t_one_thread)
    theirs_best = min(bics, key=bics.get)
    rows = [("scikit-learn, default threads", t_default_threads, bics[theirs_best], theirs_best),
            ("scikit-learn, 1 thread", t_one_thread, bics[theirs_best], theirs_best)]
    cold_parallel = first_call_time(ours(n_jobs=2))  # starts the worker processes
    results = {}
    for label, fn in [("ours, sweep default (auto)", ours()), ("ours, 1 process", ours(1)),
                      ("ours, 2 processes (warm)", ours(2)),
                      ("ours, init=kmeans++", ours(init="kmeans++"))]:
        elapsed, result = timed(fn, args.repeats)
        results[label] = result
        best = result.best("bic")
        rows.append((label, elapsed, float(result.table["bic"].min()), best))

    print(f"BIC sweep, {X.shape[0]:,} x {X.shape[1]}, k = {K_VALUES.start}…{K_VALUES.stop - 1}"
          f" x {len(COVARIANCE_TYPES)} covariance types, tol={SETTINGS['tol']}, "
          f"reg_covar={SETTINGS['reg_covar']}, max_iter={SETTINGS['max_iters']}, n_init=1")
    print(f"{'':30} {'time s':>7} {'speed-up':>9} {'best BIC':>20} {'best model':>11}")
    for label, elapsed, best_bic, (k, covariance_type) in rows:
        speed_up = "" if label.startswith("scikit") else f"{t_theirs / elapsed:.1f}x"
        print(f"{label:30} {elapsed:>7.3f} {speed_up:>9} {best_bic:>20.9f} "
              f"{f'{k} {covariance_type}':>11}")
    print("speed-up: the faster scikit-learn time divided by ours; every time is the best of "
          f"{args.repeats} after a warm-up")
    print(f"first parallel call (starts 2 worker processes): {cold_parallel:.3f} s")
    default = results["ours, sweep default (auto)"]
    t_default = rows[2][1]
    ours_best = float(default.table["bic"].min())
    ratio = t_theirs / t_default
    print(f"sweep default ({default.n_jobs} process): {ratio:.1f}x the faster scikit-learn, "
          f"{t_default_threads / t_default:.1f}x scikit-learn with its default threads; "
          f"budget {BUDGET:.0f}x: {'met' if ratio >= BUDGET else 'NOT met'}")
    verdict = {"equal": f"equal within {CRITERION_RTOL:g} relative", "lower": "better",
               "higher": "WORSE"}[criterion_order(ours_best, bics[theirs_best])]
    print(f"best BIC, ours - scikit-learn's: {ours_best - bics[theirs_best]:+.3e} ({verdict})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
