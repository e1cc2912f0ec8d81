"""EM on a Dask cluster against the in-memory fit, and a catalog larger than the workers' memory.

Writes a catalog of a k = 10 mixture in 10 dimensions as Parquet files of 10^6 rows (in
--workdir, kept with --keep), then runs each fit in its own process, so that each
process's peak memory is its own:

- in memory: the rows read into this process, ``GMM.fit`` on the array;
- cluster: a LocalCluster of two worker processes (one thread each), ``GMM.fit`` on the
  catalog's dask array, persisted on the workers;
- out of core (--out-of-core-rows): the same with workers limited to --worker-memory, below
  the catalog's size, so every pass reads the Parquet files again.

Prints seconds per iteration (the mean of --iterations timed iterations after the
start), the CPU seconds per iteration of the fitting process and its workers together,
the peak resident memory of the fitting process (the client) and of each worker, and
the statistics each pass moves: per chunk, the (k, F) design weights in and the (k, F)
sums out; then the cluster's seconds per iteration over the in-memory fit's, both
measured in this run (the machine may be shared: the ratio and the CPU seconds say more
than the seconds).

    .venv/bin/python benchmarks/bench_distributed.py   # 10^7, then 10^8 out of core
    .venv/bin/python benchmarks/bench_distributed.py --rows 1000000 --out-of-core-rows 0
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.process_stats import memory_mb  # noqa: E402

K, D = 10, 10
ROWS_PER_FILE = 1_000_000
COLUMNS = [f"x{i}" for i in range(D)]


def write_catalog(directory: Path, n_rows: int, seed: int = 0) -> None:
    """A k = 10 mixture in Parquet files of 10^6 rows, written one file at a time."""
    import pandas as pd

    directory.mkdir(parents=True, exist_ok=True)
    centres = np.random.default_rng(seed).normal(scale=6.0, size=(K, D))
    for index, start in enumerate(range(0, n_rows, ROWS_PER_FILE)):
        path = directory / f"part-{index:05d}.parquet"
        if path.exists():
            continue
        rng = np.random.default_rng([seed, index])
        rows = min(ROWS_PER_FILE, n_rows - start)
        values = centres[rng.integers(K, size=rows)] + rng.normal(size=(rows, D))
        pd.DataFrame(values, columns=COLUMNS).to_parquet(path)


def peak_mb() -> float:
    """This process's peak resident memory (VmHWM), MB; the workers call it too."""
    return memory_mb(os.getpid(), "VmHWM")


def start_parameters(sample: np.ndarray) -> dict:
    """A shared start from a sample: every mode fits from the same parameters."""
    rng = np.random.default_rng(1)
    means = sample[rng.choice(len(sample), size=K, replace=False)]
    cov = np.cov(sample, rowvar=False) / K + 1e-6 * np.eye(D)
    return {"weights_init": np.full(K, 1 / K), "means_init": means,
            "covariances_init": np.repeat(cov[None], K, axis=0)}


def timed_fit(gmm_rows, iterations: int, start: dict, cpu_now=time.process_time) -> dict:
    """Seconds and CPU seconds (``cpu_now``: this process's, or with its workers') per
    iteration, from the first progress report to the last (the start's one-off reads
    excluded)."""
    from gmm_core import GMM

    stamps = []

    def report(iteration, _):
        # The CPU reading comes first at the start and last at the end, so that reading
        # it (a round trip to each worker on a cluster) is not timed.
        if iteration == 1:
            stamps.append((cpu_now(), time.perf_counter()))
        elif iteration == iterations + 1:
            end_time = time.perf_counter()
            stamps.append((cpu_now(), end_time))

    GMM(k=K, tol=0.0, max_iters=iterations + 1, trace_points=1000, **start,
        on_iteration=report).fit(gmm_rows)
    (cpu_start, start_time), (cpu_end, end_time) = stamps
    return {"seconds_per_iteration": (end_time - start_time) / iterations,
            "cpu_per_iteration": (cpu_end - cpu_start) / iterations}


def run_mode(mode: str, catalog: Path, iterations: int, worker_memory: str) -> dict:
    from gmm_core.catalog import open_catalog

    if mode == "in memory":
        import pandas as pd

        X = pd.read_parquet(catalog).to_numpy()
        start = start_parameters(X[:: max(1, len(X) // 100_000)])
        return {"rows": len(X), **timed_fit(X, iterations, start), "client_mb": peak_mb()}
    from distributed import Client, LocalCluster

    limit = worker_memory if mode == "out of core" else "auto"
    with LocalCluster(n_workers=2, threads_per_worker=1, memory_limit=limit,
                      dashboard_address=None) as cluster, Client(cluster) as client:
        data = open_catalog(str(catalog), COLUMNS)
        start = start_parameters(data.sample(100_000, seed=2))
        client.run(_reset_peak)
        timed = timed_fit(data.rows, iterations, start, lambda: time.process_time() + sum(
            client.run(time.process_time).values()))
        workers = sorted(client.run(peak_mb).values())
        chunks = len(data.rows.chunks[0])
    features = D * (D + 1) // 2 + D + 1
    return {"rows": data.n_rows, **timed, "client_mb": peak_mb(),
            "worker_mb": workers, "chunks": chunks,
            "bytes_per_iteration": chunks * 2 * K * features * 8}


def _reset_peak() -> None:
    # Linux: writing 5 to clear_refs resets the peak resident set (VmHWM).
    Path("/proc/self/clear_refs").write_text("5")


def in_subprocess(mode: str, catalog: Path, iterations: int, worker_memory: str) -> dict:
    output = subprocess.run(
        [sys.executable, __file__, "--run-mode", mode, "--catalog", str(catalog),
         "--iterations", str(iterations), "--worker-memory", worker_memory],
        check=True, capture_output=True, text=True, cwd=ROOT).stdout
    return json.loads(output.strip().splitlines()[-1])


def print_row(mode: str, result: dict) -> None:
    workers = ", ".join(f"{mb:,.0f}" for mb in result.get("worker_mb", [])) or "-"
    moved = result.get("bytes_per_iteration")
    print(f"{mode:>12} {result['rows']:>13,} {result['seconds_per_iteration']:>9.3f} "
          f"{result['cpu_per_iteration']:>10.3f} {result['client_mb']:>10,.0f} {workers:>15} "
          f"{f'{moved / 1e3:,.0f} KB' if moved else '-':>12}", flush=True)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--out-of-core-rows", type=int, default=100_000_000,
                        help="rows of the out-of-core run (0: skip it)")
    parser.add_argument("--worker-memory", default="2GiB",
                        help="memory limit per worker in the out-of-core run")
    parser.add_argument("--iterations", type=int, default=3)
    parser.add_argument("--workdir", type=Path, help="where the catalogs are written")
    parser.add_argument("--keep", action="store_true", help="keep the catalogs")
    parser.add_argument("--run-mode", help=argparse.SUPPRESS)
    parser.add_argument("--catalog", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.run_mode:
        print(json.dumps(run_mode(args.run_mode, args.catalog, args.iterations,
                                  args.worker_memory)))
        return 0
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="gmm-bench-catalog-"))
    print(f"k = {K} full covariance, {D} features, Parquet files of {ROWS_PER_FILE:,} rows; "
          f"two worker processes of one thread on {os.cpu_count()} cores")
    print(f"{'':>12} {'rows':>13} {'s / iter':>9} {'CPU s/iter':>10} {'client MB':>10} "
          f"{'worker MB':>15} {'moved / iter':>12}")
    try:
        catalog = workdir / f"rows-{args.rows}"
        write_catalog(catalog, args.rows)
        results = {}
        for mode in ("in memory", "cluster"):
            results[mode] = in_subprocess(mode, catalog, args.iterations, args.worker_memory)
            print_row(mode, results[mode])
        seconds = {mode: result["seconds_per_iteration"] for mode, result in results.items()}
        print(f"cluster / in memory: {seconds['cluster'] / seconds['in memory']:.2f} "
              f"(seconds per iteration, this run)", flush=True)
        if args.out_of_core_rows:
            catalog = workdir / f"rows-{args.out_of_core_rows}"
            write_catalog(catalog, args.out_of_core_rows)
            size = sum(f.stat().st_size for f in catalog.iterdir()) / 1e9
            in_memory_gb = args.out_of_core_rows * D * 8 / 1e9
            print(f"out of core: {size:.1f} GB of Parquet, {in_memory_gb:.1f} GB as float64, "
                  f"workers limited to {args.worker_memory} each")
            print_row("out of core", in_subprocess("out of core", catalog, args.iterations,
                                                   args.worker_memory))
    finally:
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
