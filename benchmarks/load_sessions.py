"""Many people on one server: N concurrent browser sessions against one `streamlit run`.

Each session is a Playwright context in one Debian Chromium. It opens the Explore page
(session i at seed 1000·i through the URL, so sessions share no cached fit unless
`--same-start`), waits for the first figure, then `--rounds` times moves the
"Components (k)" slider one step and steps the seed up, each time waiting until the
animated figure shows the new fit. A session completes when every interaction ends in a
new figure and no exception box.

Prints one row per N: sessions completed, p50/p95 interaction latency (from the key press
or click to the new figure on screen) and the server's resident memory at start and at
its peak (VmHWM of the server process), and the CPU seconds the server and the whole
machine (the browsers share it) spent while the sessions ran. Each N gets a fresh server,
so each peak is its own.

    .venv/bin/python benchmarks/load_sessions.py                # N = 1, 4, 8
    .venv/bin/python benchmarks/load_sessions.py --sessions 1   # a smoke run
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from playwright.async_api import Error as PlaywrightError
from playwright.async_api import async_playwright

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.process_stats import cpu_seconds, machine_busy_seconds, memory_mb  # noqa: E402
from tests.browser.explore_page import (  # noqa: E402
    APP_IDLE,
    EXCEPTION,
    FIGURE_CHANGED_JS,
    FIGURE_SIGNATURE_JS,
    K_SLIDER_LABEL,
    VIEWPORT,
    animated_chart,
    seed_step_up,
    slider_handle,
)
from tests.browser.streamlit_server import (  # noqa: E402
    chromium_launch_options,
    chromium_missing_reason,
    running_streamlit,
)

SEED_SPACING = 1000  # session i starts at seed SEED_SPACING * i, far from the others' steps


@dataclass
class SessionResult:
    latencies_s: list[float] = field(default_factory=list)
    error: str | None = None


@dataclass
class LoadRow:
    sessions: int
    results: list[SessionResult]
    start_rss_mb: float
    peak_rss_mb: float
    server_cpu_s: float
    machine_cpu_s: float

    @property
    def completed(self) -> int:
        return sum(result.error is None for result in self.results)

    def latency_ms(self, percentile: float) -> float:
        latencies = [s for result in self.results for s in result.latencies_s]
        return 1000 * float(np.percentile(latencies, percentile)) if latencies else float("nan")


async def timed_change(page, action, timeout_ms: float) -> float:
    """Seconds from ``action`` to the animated figure showing something new."""
    before = await page.evaluate(FIGURE_SIGNATURE_JS)
    start = time.perf_counter()
    await action()
    await page.wait_for_function(FIGURE_CHANGED_JS, arg=before, timeout=timeout_ms)
    return time.perf_counter() - start


async def run_session(browser, url: str, rounds: int, timeout_ms: float) -> SessionResult:
    context = await browser.new_context(viewport=VIEWPORT)
    page = await context.new_page()
    page.set_default_timeout(timeout_ms)
    result = SessionResult()
    try:
        await page.goto(url)
        await animated_chart(page).wait_for(state="visible")
        await page.wait_for_selector(APP_IDLE)
        k_slider = slider_handle(page, K_SLIDER_LABEL)
        for round_ in range(rounds):
            key = "ArrowRight" if round_ % 2 == 0 else "ArrowLeft"  # k stays near its default
            result.latencies_s.append(
                await timed_change(page, lambda key=key: k_slider.press(key), timeout_ms))
            result.latencies_s.append(
                await timed_change(page, seed_step_up(page).click, timeout_ms))
        if await page.locator(EXCEPTION).count():
            result.error = "an exception box is on the page"
    except PlaywrightError as exc:
        result.error = str(exc).splitlines()[0]
    finally:
        await context.close()
    return result


async def measure(browser, app: Path, sessions: int, rounds: int, timeout_ms: float,
                  same_start: bool) -> LoadRow:
    with running_streamlit(app, cwd=app.parent) as server:
        start_rss = memory_mb(server.pid, "VmRSS")
        server_cpu, machine_cpu = cpu_seconds(server.pid), machine_busy_seconds()
        urls = [server.url if same_start else f"{server.url}/?seed={SEED_SPACING * i}"
                for i in range(sessions)]
        results = await asyncio.gather(*(run_session(browser, url, rounds, timeout_ms)
                                         for url in urls))
        peak_rss = memory_mb(server.pid, "VmHWM")
        server_cpu = cpu_seconds(server.pid) - server_cpu
        machine_cpu = machine_busy_seconds() - machine_cpu
    return LoadRow(sessions, list(results), start_rss, peak_rss, server_cpu, machine_cpu)


async def run(app: Path, session_counts: list[int], rounds: int, timeout_ms: float,
              same_start: bool) -> None:
    print(f"{'N':>3} {'completed':>9} {'interactions':>12} {'p50 ms':>8} {'p95 ms':>8} "
          f"{'server MB at start':>18} {'peak MB':>8} {'server CPU s':>12} {'all CPU s':>9}",
          flush=True)
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(**chromium_launch_options())
        for sessions in session_counts:
            row = await measure(browser, app, sessions, rounds, timeout_ms, same_start)
            interactions = sum(len(result.latencies_s) for result in row.results)
            print(f"{sessions:>3} {row.completed:>5}/{sessions:<3} {interactions:>12} "
                  f"{row.latency_ms(50):>8.0f} {row.latency_ms(95):>8.0f} "
                  f"{row.start_rss_mb:>18.0f} {row.peak_rss_mb:>8.0f} "
                  f"{row.server_cpu_s:>12.1f} {row.machine_cpu_s:>9.1f}", flush=True)
            for index, result in enumerate(row.results):
                if result.error is not None:
                    print(f"    session {index + 1} did not complete: {result.error}")
        await browser.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, nargs="+", default=[1, 4, 8],
                        help="concurrent sessions per run (default: 1 4 8)")
    parser.add_argument("--rounds", type=int, default=3,
                        help="k and seed changes per session (default 3)")
    parser.add_argument("--timeout", type=float, default=180.0,
                        help="seconds one interaction may take before its session fails")
    parser.add_argument("--same-start", action="store_true",
                        help="every session opens the default view (a class following one "
                             "demo), so they share cached fits")
    parser.add_argument("--app", type=Path, default=ROOT / "app.py",
                        help="the Streamlit script to serve (default: the Explore page)")
    args = parser.parse_args(argv)
    reason = chromium_missing_reason()
    if reason is not None:
        print(f"cannot run: {reason}", file=sys.stderr)
        return 1
    if any(n < 1 for n in args.sessions) or args.rounds < 1:
        parser.error("--sessions and --rounds must be at least 1")
    asyncio.run(run(args.app.resolve(), args.sessions, args.rounds, 1000 * args.timeout,
                    args.same_start))
    return 0


if __name__ == "__main__":
    sys.exit(main())
