"""Model-selection sweeps against scikit-learn's: 4,000 x 2 and Old Faithful (mclust's 14).

1. k = 1…10 x the 4 covariance types on 4,000 x 2 rows (budget: 6x scikit-learn).
2. k = 1…9 x mclust's 14 models on Old Faithful (272 x 2, tests/data/faithful.csv), in
   at most 3 s; beside it scikit-learn's 4-type sweep on the same data, and ours.

Both sides fit the same data with the same tol, reg_covar and max_iter, n_init=1 and
scikit-learn's default start (k-means, random_state 42): ours through
``gmm_core.selection.sweep``, scikit-learn's as a user would write it, one
``GaussianMixture`` after another. scikit-learn is timed with its default threads and
with one BLAS/OpenMP thread; the ratio is taken against the faster of the two. Every
time is the best of ``--repeats`` runs after a warm-up run, in wall-clock seconds and,
for ours, in this process's CPU seconds (on a shared machine the CPU time is the steadier
of the two). The 14-model sweep reports its progress through ``sweep(progress=...)``, as
the Model selection page's does.

    .venv/bin/python benchmarks/bench_selection.py
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.exceptions import ConvergenceWarning
from sklearn.mixture import GaussianMixture
from threadpoolctl import threadpool_limits

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from gmm_core.model import CRITERION_RTOL, criterion_order
from gmm_core.request import COVARIANCE_TYPES, MCLUST_MODELS
from gmm_core.selection import sweep

K_VALUES = range(1, 11)
SETTINGS = {"tol": 1e-3, "reg_covar": 1e-6, "max_iters": 100, "seed": 42}
BUDGET = 6.0  # times the faster scikit-learn sweep, 4,000 x 2
FAITHFUL = Path(__file__).resolve().parents[1] / "tests" / "data" / "faithful.csv"
FAITHFUL_K_VALUES = range(1, 10)
FAITHFUL_BUDGET_S = 3.0  # the 14-model sweep, on the project's 2-core machine


def make_data(n: int = 4_000, seed: int = 0) -> np.ndarray:
    """Four Gaussian components in 2-D, each with its own tilted covariance."""
    rng = np.random.default_rng(seed)
    centers = np.array([[0.0, 0.0], [6.0, 1.0], [2.0, 7.0], [-5.0, 5.0]])
    shapes = rng.normal(scale=0.8, size=(4, 2, 2))
    labels = rng.integers(4, size=n)
    return centers[labels] + np.einsum("nij,nj->ni", shapes[labels], rng.normal(size=(n, 2)))


def sklearn_sweep(X: np.ndarray, k_values=K_VALUES) -> dict[tuple[int, str], float]:
    bics = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for covariance_type in COVARIANCE_TYPES:
            for k in k_values:
                model = GaussianMixture(k, covariance_type=covariance_type, tol=SETTINGS["tol"],
                                        reg_covar=SETTINGS["reg_covar"],
                                        max_iter=SETTINGS["max_iters"],
                                        random_state=SETTINGS["seed"]).fit(X)
                bics[(k, covariance_type)] = model.bic(X)
    return bics


def timed(fn, repeats: int):
    """(best wall time, last result) over ``repeats`` runs after one warm-up run."""
    elapsed, _, result = timed_with_cpu(fn, repeats)
    return elapsed, result


def timed_with_cpu(fn, repeats: int):
    """(best wall time, best CPU time of this process, last result), as ``timed``."""
    result = fn()
    times, cpu_times = [], []
    for _ in range(repeats):
        start, cpu_start = time.perf_counter(), time.process_time()
        result = fn()
        times.append(time.perf_counter() - start)
        cpu_times.append(time.process_time() - cpu_start)
    return min(times), min(cpu_times), result


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
    t_one_thread, cpu_one_thread, _ = timed_with_cpu(single_threaded_sklearn, args.repeats)
    t_theirs = min(t_default_threads, t_one_thread)
    theirs_best = min(bics, key=bics.get)
    rows = [("scikit-learn, default threads", t_default_threads, None, bics[theirs_best],
             theirs_best),
            ("scikit-learn, 1 thread", t_one_thread, cpu_one_thread, bics[theirs_best],
             theirs_best)]
    cold_parallel = first_call_time(ours(n_jobs=2))  # starts the worker processes
    results = {}
    for label, fn in [("ours, sweep default (auto)", ours()), ("ours, 1 process", ours(1)),
                      ("ours, 2 processes (warm)", ours(2)),
                      ("ours, init=kmeans++", ours(init="kmeans++"))]:
        elapsed, cpu, result = timed_with_cpu(fn, args.repeats)
        results[label] = result
        best = result.best("bic")
        # The CPU time of this process says nothing of work done in worker processes.
        cpu = cpu if result.n_jobs == 1 else None
        rows.append((label, elapsed, cpu, float(result.table["bic"].min()), best))

    print(f"BIC sweep, {X.shape[0]:,} x {X.shape[1]}, k = {K_VALUES.start}…{K_VALUES.stop - 1}"
          f" x {len(COVARIANCE_TYPES)} covariance types, tol={SETTINGS['tol']}, "
          f"reg_covar={SETTINGS['reg_covar']}, max_iter={SETTINGS['max_iters']}, n_init=1")
    print(f"{'':30} {'time s':>7} {'CPU s':>7} {'speed-up':>9} {'best BIC':>20} "
          f"{'best model':>11}")
    for label, elapsed, cpu, best_bic, (k, covariance_type) in rows:
        speed_up = "" if label.startswith("scikit") else f"{t_theirs / elapsed:.1f}x"
        cpu_text = "" if cpu is None else f"{cpu:.3f}"
        print(f"{label:30} {elapsed:>7.3f} {cpu_text:>7} {speed_up:>9} {best_bic:>20.9f} "
              f"{f'{k} {covariance_type}':>11}")
    print("speed-up: the faster scikit-learn time divided by ours; every time is the best of "
          f"{args.repeats} after a warm-up; CPU s: this process's")
    print(f"first parallel call (starts 2 worker processes): {cold_parallel:.3f} s")
    default = results["ours, sweep default (auto)"]
    t_default, cpu_default = rows[2][1], rows[2][2]
    ours_best = float(default.table["bic"].min())
    ratio = t_theirs / t_default
    cpu_ratio = "" if cpu_default is None else (
        f"; in CPU time {cpu_one_thread / cpu_default:.1f}x scikit-learn with 1 thread")
    print(f"sweep default ({default.n_jobs} process): {ratio:.1f}x the faster scikit-learn, "
          f"{t_default_threads / t_default:.1f}x scikit-learn with its default threads"
          f"{cpu_ratio}; budget {BUDGET:.0f}x: {'met' if ratio >= BUDGET else 'NOT met'}")
    verdict = {"equal": f"equal within {CRITERION_RTOL:g} relative", "lower": "better",
               "higher": "WORSE"}[criterion_order(ours_best, bics[theirs_best])]
    print(f"best BIC, ours - scikit-learn's: {ours_best - bics[theirs_best]:+.3e} ({verdict})")
    print()
    faithful_sweeps(args.repeats)
    return 0


def faithful_sweeps(repeats: int) -> None:
    """mclust's 14 models on Old Faithful against the 3 s budget, beside the 4-type sweeps."""
    X = pd.read_csv(FAITHFUL).to_numpy(dtype=float)
    ks = FAITHFUL_K_VALUES
    reported = []

    def mclust_sweep():
        reported.clear()
        return sweep(X, ks, MCLUST_MODELS, progress=lambda done, total: reported.append(done),
                     **SETTINGS)

    def four_types():
        return sweep(X, ks, COVARIANCE_TYPES, **SETTINGS)

    cold = first_call_time(mclust_sweep)
    t_mclust, cpu_mclust, result = timed_with_cpu(mclust_sweep, repeats)
    t_ours, cpu_ours, _ = timed_with_cpu(four_types, repeats)
    t_default_threads, _ = timed(lambda: sklearn_sweep(X, ks), repeats)
    with threadpool_limits(1):
        t_one_thread, cpu_one_thread, _ = timed_with_cpu(lambda: sklearn_sweep(X, ks), repeats)
    t_theirs = min(t_default_threads, t_one_thread)
    n_fits = len(ks) * len(MCLUST_MODELS)
    print(f"Old Faithful, {X.shape[0]} x {X.shape[1]}, k = {ks.start}…{ks.stop - 1}, "
          "same settings")
    print(f"{'':38} {'time s':>7} {'CPU s':>7} {'speed-up':>9}")
    for label, elapsed, cpu in [
            ("scikit-learn 4 types, default threads", t_default_threads, None),
            ("scikit-learn 4 types, 1 thread", t_one_thread, cpu_one_thread),
            ("ours, 4 types", t_ours, cpu_ours),
            (f"ours, mclust's {len(MCLUST_MODELS)} models", t_mclust, cpu_mclust)]:
        cpu_text = "" if cpu is None else f"{cpu:.3f}"
        speed_up = "" if label.startswith("scikit") else f"{t_theirs / elapsed:.1f}x"
        print(f"{label:38} {elapsed:>7.3f} {cpu_text:>7} {speed_up:>9}")
    print(f"speed-up: the faster scikit-learn 4-type time divided by ours; first 14-model "
          f"call: {cold:.3f} s")
    print(f"{len(MCLUST_MODELS)} models x {len(ks)} k ({n_fits} fits, {result.n_jobs} process): "
          f"{t_mclust:.3f} s, budget {FAITHFUL_BUDGET_S:.0f} s: "
          f"{'met' if t_mclust <= FAITHFUL_BUDGET_S else 'NOT met'}; progress reported "
          f"{len(reported)} times, {reported[-1]}/{n_fits} last")
    k, model = result.best("bic")
    print(f"best BIC of the 14-model sweep: {k} {model}, {result.table['bic'].min():.3f} "
          "(from k-means starts; mclust starts from its hierarchical clustering)")


if __name__ == "__main__":
    sys.exit(main())
