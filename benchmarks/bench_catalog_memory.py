"""The Streamlit server's memory while the Large catalog page fits catalogs of growing size.

For each size, writes a catalog (benchmarks/bench_distributed.py's k = 10 mixture in 10
dimensions), starts `streamlit run app.py` with GMM_CATALOG naming it and
DASK_SCHEDULER_ADDRESS naming a LocalCluster of two worker processes, opens the Large
catalog page in Chromium, waits until the fit is reported, and prints the server's
resident memory then and its peak. The server holds a sample and the fitted parameters,
so its memory should not grow with the rows.

    .venv/bin/python benchmarks/bench_catalog_memory.py            # 10^5, 10^6, 10^7 rows
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.bench_distributed import write_catalog  # noqa: E402
from benchmarks.process_stats import memory_mb  # noqa: E402
from tests.browser.explore_page import VIEWPORT  # noqa: E402
from tests.browser.streamlit_server import launch_chromium, running_streamlit  # noqa: E402

FIT_TIMEOUT_MS = 900_000


def measure(browser, catalog: Path, scheduler: str, rows: int) -> tuple[float, float, float]:
    env = {**os.environ, "GMM_CATALOG": str(catalog), "DASK_SCHEDULER_ADDRESS": scheduler}
    with running_streamlit(ROOT / "app.py", cwd=ROOT, env=env) as server:
        page = browser.new_context(viewport=VIEWPORT).new_page()
        start = time.perf_counter()
        page.goto(f"{server.url}/large_catalog")
        page.get_by_text(f"{rows:,} rows fitted on").wait_for(timeout=FIT_TIMEOUT_MS)
        seconds = time.perf_counter() - start
        return seconds, memory_mb(server.pid, "VmRSS"), memory_mb(server.pid, "VmHWM")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[100_000, 1_000_000, 10_000_000])
    parser.add_argument("--workdir", type=Path, help="where the catalogs are written "
                        "(default: a temporary folder)")
    args = parser.parse_args(argv)
    from distributed import LocalCluster
    from playwright.sync_api import sync_playwright

    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="gmm-catalog-memory-"))
    print(f"{'rows':>12} {'page to fit s':>13} {'server RSS MB':>14} {'server peak MB':>15}")
    with LocalCluster(n_workers=2, threads_per_worker=1, dashboard_address=None) as cluster, \
            sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        for rows in args.rows:
            catalog = workdir / f"rows-{rows}"
            write_catalog(catalog, rows)
            seconds, rss, peak = measure(browser, catalog, cluster.scheduler_address, rows)
            print(f"{rows:>12,} {seconds:>13.1f} {rss:>14,.0f} {peak:>15,.0f}", flush=True)
        browser.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
