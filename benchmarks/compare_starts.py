"""mclust's hierarchical start against k-means++: how often each reaches the best fit.

For every data set, number of components k and covariance type, one fit starts from
``init="hierarchical"`` (deterministic) and ``--seeds`` fits from ``init="kmeans++"``
(seeds 0, 1, …); all run to ``tol`` 1e-9 (mean log-likelihood) or 2,000 iterations with
the default ``reg_covar``. "Best" is the highest log-likelihood of all of them; a start
reaches it when its fit ends within ``--within`` (total log-likelihood) of it. The
table gives, per data set and type over the k values, the number of (k) cases in which
the hierarchical start reached the best, and the share of k-means++ seeds that did.

Data sets: Old Faithful (tests/data/faithful.csv), iris and wine (all their features),
astroML's Figure 6.9 mixture, the zero spike (most rows identical), and the SDSS
spectra's default view when spec4000.npz is on disk.

    .venv/bin/python benchmarks/compare_starts.py            # k = 2…5, 20 seeds
    .venv/bin/python benchmarks/compare_starts.py --quick    # k = 2…3, 5 seeds
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

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from gmm_core import GMM
from gmm_core.datasets import load_dataset, sdss_available
from gmm_core.request import COVARIANCE_TYPES

ROOT = Path(__file__).resolve().parents[1]

SETTINGS = {"tol": 1e-9, "max_iters": 2000}


def data_sets() -> dict[str, np.ndarray]:
    sets = {"faithful": pd.read_csv(ROOT / "tests" / "data" / "faithful.csv").to_numpy()}
    for name in ("iris", "wine", "astroml_fig69", "zero_spike"):
        dataset = load_dataset(name)
        columns = dataset.columns if name in ("iris", "wine") else dataset.default_features
        sets[name] = dataset.matrix(columns).astype(float)
    if sdss_available():
        dataset = load_dataset("sdss")
        sets["sdss"] = dataset.matrix(dataset.default_features).astype(float)
    return sets


def total_loglik(X, k, covariance_type, init, seed=0) -> float:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        warnings.simplefilter("ignore", UserWarning)
        model = GMM(k=k, covariance_type=covariance_type, init=init, seed=seed,
                    **SETTINGS).fit(X)
    return model.score(X) * len(X)


def compare(X, k, covariance_type, seeds, within):
    """(hierarchical reached the best, k-means++ seeds that did, its CPU seconds, theirs)."""
    start = time.process_time()
    hierarchical = total_loglik(X, k, covariance_type, "hierarchical")
    middle = time.process_time()
    kmeans = np.array([total_loglik(X, k, covariance_type, "kmeans++", seed)
                       for seed in range(seeds)])
    end = time.process_time()
    best = max(hierarchical, kmeans.max())
    return (best - hierarchical <= within, int((best - kmeans <= within).sum()),
            middle - start, (end - middle) / seeds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--k", type=int, nargs="+", default=[2, 3, 4, 5])
    parser.add_argument("--within", type=float, default=0.01)
    parser.add_argument("--quick", action="store_true", help="k = 2, 3 and 5 seeds")
    args = parser.parse_args()
    if args.quick:
        args.seeds, args.k = 5, [2, 3]

    sets = data_sets()
    if "sdss" not in sets:
        print("(SDSS spectra not on disk: left out)")
    print(f"k = {', '.join(map(str, args.k))}; {args.seeds} k-means++ seeds; reached = "
          f"within {args.within} of the best total log-likelihood\n")
    print("| data set | n x d | type | hierarchical reached | k-means++ seeds reached |"
          " CPU s per fit (hier. / k-means++) |")
    print("|---|---|---|---|---|---|")
    totals = np.zeros(4)
    for name, X in sets.items():
        for covariance_type in COVARIANCE_TYPES:
            results = [compare(X, k, covariance_type, args.seeds, args.within)
                       for k in args.k]
            reached = sum(r[0] for r in results)
            seeds_reached = sum(r[1] for r in results)
            cases = len(args.k)
            cpu_h = np.mean([r[2] for r in results])
            cpu_k = np.mean([r[3] for r in results])
            totals += (reached, cases, seeds_reached, cases * args.seeds)
            print(f"| {name} | {X.shape[0]} x {X.shape[1]} | {covariance_type} | "
                  f"{reached} of {cases} | {seeds_reached} of {cases * args.seeds} "
                  f"({seeds_reached / (cases * args.seeds):.0%}) | "
                  f"{cpu_h:.2f} / {cpu_k:.2f} |", flush=True)
    print(f"| all | | | {totals[0]:.0f} of {totals[1]:.0f} ({totals[0] / totals[1]:.0%}) | "
          f"{totals[2]:.0f} of {totals[3]:.0f} ({totals[2] / totals[3]:.0%}) | |")


if __name__ == "__main__":
    main()
