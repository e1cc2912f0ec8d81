"""What a user waits for: input → new figure on screen, in Debian Chromium against a real
``streamlit run app.py``.

For each view (the page's default, and heavier ones on SDSS-format data written by the
test fixture), one browser session opens the page, then repeats a round of interactions,
each a user's single input, and for each kind prints:

- p50 / p95 from the key press or click until the animated figure on screen shows the
  new fit (Plotly has drawn it);
- the server's CPU time for the interaction (user + system of the ``streamlit run``
  process, read from /proc before the input and once the page's run has finished);
- the bytes the server sent over the websocket for it;
- where the wait went: from the input until the view received its payload, and
  Plotly's drawing of it (the view's own performance marks);
- the browser's main-thread time for it (Chrome's Performance metrics: script, layout
  and style, all tasks).

plus the first figure after opening the page: on a server just started (cold; also
counted from the server's start, its boot included), in new tabs of the same browser on
the running server (the median of ``--tabs``), for a new visitor (a fresh browser
profile: nothing cached), and for a view not fitted before (a new seed), each with the
server's CPU time for it and where its wait went (the page's own clock: plotly.js fetched
and run, the payload at the view, drawn); and playback: the time between frames painted
while Play runs at "fast" (40 ms a frame) and "normal" (150 ms), how many of the fit's
frames were painted (a frame drawn late is followed by the one then due), the browser's
main-thread time per frame and the server's CPU time. A round is: seed +1, k ±1,
tolerance one stop, covariance type to "diag", back to "full" (a return to an earlier
setting: cached), X feature to another, Play (time until the first animation frame is
drawn). Every interaction except the return changes the fit, so it is uncached. A select
box's input is the click on its option: opening the box and typing to filter it happen
before the clock starts.

    .venv/bin/python benchmarks/bench_browser.py                  # all views, 7 rounds
    .venv/bin/python benchmarks/bench_browser.py --views default --rounds 3 --tabs 5
    .venv/bin/python benchmarks/bench_browser.py --views default --rounds 0 --plays 5
    .venv/bin/python benchmarks/bench_browser.py --profile py-spy.svg   # needs py-spy
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

import numpy as np
from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.process_stats import cpu_seconds  # noqa: E402
from dashboard.controls import covariance_choice  # noqa: E402
from tests.browser.explore_page import (  # noqa: E402
    ANIMATION,
    APP_IDLE,
    EXCEPTION,
    FIGURE_CHANGED_JS,
    FIGURE_SIGNATURE_JS,
    K_SLIDER_LABEL,
    VIEWPORT,
    animated_chart,
    iteration_label,
    labelled,
    play_button,
    seed_step_up,
    slider_handle,
)
from tests.browser.streamlit_server import (  # noqa: E402
    chromium_launch_options,
    chromium_missing_reason,
    running_streamlit,
)
from tests.spec4000_fixture import write_spec4000  # noqa: E402

SDSS_ROWS = 4000  # as many spectra as the real spec4000.npz
PCA = [f"pca_{i}" for i in range(1, 11)]


@dataclass(frozen=True)
class View:
    """A view to measure: its URL query, its data, and its "feature" interaction."""

    name: str
    query: dict
    sdss: bool  # serve an SDSS-format file in the astroML data home
    # The data-changing input: ("slider", label) steps a slider, ("select", label, a, b)
    # alternates a select box between options a and b, ("checkbox", label) toggles one.
    feature_input: tuple


VIEWS = {
    # The Figure 6.9 mixture has only the two features plotted: standardizing is its
    # one change of the fitted data.
    "default": View("default view (Figure 6.9 mixture, 1,000 rows, k=4)", {}, False,
                    ("checkbox", "Standardize")),
    "sdss_k8": View(f"SDSS format, {SDSS_ROWS:,} spectra, flux bins, k=8",
                    {"dataset": "sdss", "k": "8"}, True, ("slider", "Y wavelength")),
    "sdss_10d": View(f"SDSS format, {SDSS_ROWS:,} spectra, 10-D (PCA c1-c10), k=4",
                     {"dataset": "sdss", "x": "pca_1", "y": "pca_2",
                      "extra": ",".join(PCA[2:]), "k": "4"}, True,
                     ("select", "Y feature", "redshift z", "PCA coefficient c2")),
}


@dataclass
class Sample:
    latency_s: float
    server_cpu_s: float
    ws_bytes: int
    browser_ms: dict
    # Where the wait went, from the page's own marks (dashboard/static/fit_view.js):
    # input -> the animation's payload handed to the view, and Plotly drawing it.
    to_payload_ms: float
    plot_ms: float


# The view's marks since ``t0`` (page clock): when the last payload reached it, and how
# long its last animation plot took.
MARKS_JS = """(t0) => {
    const after = (list) => list.filter(e => e.startTime >= t0);
    const payloads = after(performance.getEntriesByName('gmm-payload'));
    const plots = after(performance.getEntriesByName('gmm-plot-animation'));
    return [payloads.length ? payloads[payloads.length - 1].startTime - t0 : NaN,
            plots.length ? plots[plots.length - 1].duration : NaN];
}"""


# Where a first figure's wait went, on the page's clock from the navigation's start:
# plotly.js fetched (its response's end) and run (fit_view.js's mark), the payload handed
# to the view, the figure drawn.
FIRST_FIGURE_JS = """() => {
    const last = (name) => {
        const entries = performance.getEntriesByName(name);
        return entries.length ? entries[entries.length - 1] : null;
    };
    const plotly = performance.getEntriesByType('resource')
        .find(e => e.name.includes('/plotly'));
    const plot = last('gmm-plot-animation');
    return {'plotly.js fetched': plotly ? plotly.responseEnd : NaN,
            'plotly.js run': last('gmm-plotly-loaded')?.startTime ?? NaN,
            'payload at view': performance.getEntriesByName('gmm-payload')
                .find(e => e.detail > 0)?.startTime ?? NaN,
            'drawn': plot ? plot.startTime + plot.duration : NaN,
            'plotly.js KB': plotly ? plotly.encodedBodySize / 1024 : NaN};
}"""

# Playback: the time of each painted frame, i.e. the first animation frame after the
# iteration label changed (the view draws the frame in the same task).
WATCH_FRAMES_JS = """(label) => {
    window.gmmFrameTimes = [];
    if (label.gmmWatched) return;
    label.gmmWatched = true;
    new MutationObserver(() => requestAnimationFrame((t) => window.gmmFrameTimes.push(t)))
        .observe(label, {childList: true, characterData: true, subtree: true});
}"""
SPEEDS = ("fast", "normal")  # the view's speed menu: 40 and 150 ms a frame


@dataclass
class Playback:
    intervals_ms: list[float] = field(default_factory=list)
    frames_painted: int = 0
    frames_in_fit: int = 0
    server_cpu_s: float = 0.0
    # Per play: the browser's main-thread time (wall and CPU) and its renderer's CPU, per frame.
    per_frame_ms: dict[str, list[float]] = field(default_factory=lambda: {
        "tasks": [], "main-thread CPU": [], "renderer CPU": []})


@dataclass
class FirstFigure:
    seconds: float
    marks_ms: dict
    server_cpu_s: float  # from opening the page until the figure was drawn


@dataclass
class ViewResult:
    samples: dict[str, list[Sample]] = field(default_factory=lambda: defaultdict(list))
    first_figure: dict[str, FirstFigure] = field(default_factory=dict)
    playback: dict[str, Playback] = field(default_factory=lambda: defaultdict(Playback))


class Session:
    """One browser tab on the page, with the counters an interaction is measured by."""

    def __init__(self, browser, server, url: str, context=None):
        """A tab in a new browser profile, or a new tab in ``context``'s."""
        cpu = cpu_seconds(server.pid)
        self.server = server
        self.owns_context = context is None
        self.context = context or browser.new_context(viewport=VIEWPORT)
        self.page = self.context.new_page()
        self.page.set_default_timeout(180_000)
        self.received = 0
        self.page.on("websocket", self._watch)
        self.cdp = self.context.new_cdp_session(self.page)
        self.cdp.send("Performance.enable")
        start = time.perf_counter()
        self.page.goto(url)
        self.wait_for_figure()
        self.first_figure = FirstFigure(time.perf_counter() - start,
                                        self.page.evaluate(FIRST_FIGURE_JS),
                                        cpu_seconds(server.pid) - cpu)
        self.page.wait_for_selector(APP_IDLE)

    def _watch(self, websocket) -> None:
        def count(payload):
            self.received += len(payload)
        websocket.on("framereceived", count)

    def wait_for_figure(self) -> None:
        animated_chart(self.page).locator(".main-svg").first.wait_for(state="visible")

    def browser_ms(self) -> dict:
        metrics = {m["name"]: m["value"]
                   for m in self.cdp.send("Performance.getMetrics")["metrics"]}
        return {"script": 1000 * metrics["ScriptDuration"],
                "layout+style": 1000 * (metrics["LayoutDuration"]
                                        + metrics["RecalcStyleDuration"]),
                "tasks": 1000 * metrics["TaskDuration"],
                # CPU time, which other processes on the machine do not stretch.
                "main-thread CPU": 1000 * metrics.get("ThreadTime", np.nan),
                "renderer CPU": 1000 * metrics.get("ProcessTime", np.nan)}

    def measure(self, action: Callable[[], None], shown: Callable[[str], None],
                prepare: Callable[[], None] | None = None) -> Sample:
        """``action`` is one input; ``shown(before)`` returns once its figure is drawn;
        ``prepare`` readies the input before the clock starts (opens a select box)."""
        self.page.wait_for_selector(APP_IDLE)
        if prepare is not None:
            prepare()
        before = self.page.evaluate(FIGURE_SIGNATURE_JS)
        cpu, received, browser = cpu_seconds(self.server.pid), self.received, self.browser_ms()
        page_clock = self.page.evaluate("() => performance.now()")
        start = time.perf_counter()
        action()
        shown(before)
        latency = time.perf_counter() - start
        self.page.wait_for_selector(APP_IDLE)
        self.page.wait_for_timeout(50)  # let the last websocket frames be counted
        after = self.browser_ms()
        to_payload, plot = self.page.evaluate(MARKS_JS, page_clock)
        return Sample(latency, cpu_seconds(self.server.pid) - cpu, self.received - received,
                      {key: after[key] - browser[key] for key in after}, to_payload, plot)

    def figure_changed(self, before: str) -> None:
        self.page.wait_for_function(FIGURE_CHANGED_JS, arg=before, polling="raf")

    def play(self, speed: str, playback: Playback) -> None:
        """Play the animation through at ``speed``; add its frame times to ``playback``."""
        page = self.page
        page.wait_for_selector(APP_IDLE)
        page.locator(f"{ANIMATION} .gmm-speed").select_option(label=speed)
        page.evaluate(WATCH_FRAMES_JS, iteration_label(page).element_handle())
        before, cpu = self.browser_ms(), cpu_seconds(self.server.pid)
        play_button(page).click()
        page.wait_for_function("() => window.gmmFrameTimes.length > 1", polling="raf")
        page.locator(f"{ANIMATION} .gmm-play").filter(has_text="Play").wait_for()
        page.wait_for_timeout(100)  # the last frame's paint
        after = self.browser_ms()
        playback.server_cpu_s += cpu_seconds(self.server.pid) - cpu
        times = page.evaluate("() => window.gmmFrameTimes")
        playback.intervals_ms.extend(np.diff(times).tolist())
        playback.frames_painted += len(times)
        playback.frames_in_fit += int(page.locator(f"{ANIMATION} .gmm-scrub")
                                      .get_attribute("max")) + 1
        for key, per_frame in playback.per_frame_ms.items():
            per_frame.append((after[key] - before[key]) / len(times))

    def close(self) -> None:
        if self.page.locator(EXCEPTION).count():
            raise SystemExit("an exception box is on the page")
        if self.owns_context:
            self.context.close()
        else:
            self.page.close()


def open_select(page, label: str, option: str) -> Callable[[], None]:
    """Open a Streamlit select box and filter it to an option; returns the click on it
    (the user's input)."""
    # The open list renders only the options in view; typing brings any one into it.
    field = labelled(page, "stSelectbox", label).locator("input")
    field.click()
    field.fill(option)
    option_item = page.get_by_role("option", name=option, exact=True)
    option_item.wait_for()
    return option_item.click


class SelectInput:
    """A select box's input: opened and filtered first (``prepare``), then the click."""

    def __init__(self, page, label: str, option: str):
        self.page, self.label, self.option = page, label, option
        self.click: Callable[[], None] | None = None

    def prepare(self) -> None:
        self.click = open_select(self.page, self.label, self.option)

    def __call__(self) -> None:
        self.click()


def feature_input(page, view: View, round_: int) -> Callable[[], None]:
    kind, label, *options = view.feature_input
    if kind == "slider":
        key = "ArrowRight" if round_ % 2 == 0 else "ArrowLeft"
        return lambda: slider_handle(page, label).press(key)
    if kind == "select":
        return SelectInput(page, label, options[round_ % 2])
    return lambda: labelled(page, "stCheckbox", label).locator("label").click()


def measure_input(session: Session, action, shown) -> Sample:
    return session.measure(action, shown, getattr(action, "prepare", None))


def round_of_interactions(session: Session, view: View, round_: int) -> dict[str, Sample]:
    """One of each interaction; the seed changes first, so the others are not cached."""
    page = session.page
    k_key = "ArrowRight" if round_ % 2 == 0 else "ArrowLeft"
    tol_key = "ArrowLeft" if round_ % 2 == 0 else "ArrowRight"
    changed = session.figure_changed
    samples = {
        "seed +1": session.measure(seed_step_up(page).click, changed),
        "k ±1": session.measure(lambda: slider_handle(page, K_SLIDER_LABEL).press(k_key),
                                changed),
        "tolerance": session.measure(lambda: slider_handle(page, "Tolerance").press(tol_key),
                                     changed),
        "covariance type": measure_input(
            session, SelectInput(page, "Covariance type", covariance_choice("diag")), changed),
        "return (cached)": measure_input(
            session, SelectInput(page, "Covariance type", covariance_choice("full")), changed),
        "feature": measure_input(session, feature_input(page, view, round_), changed),
    }
    label = iteration_label(page)
    shown_before = label.text_content()
    samples["Play"] = session.measure(
        play_button(page).click,
        lambda _: page.wait_for_function("([el, text]) => el.textContent !== text",
                                         arg=[label.element_handle(), shown_before],
                                         polling="raf"))
    return samples


def _new_tab_figure(browser, server, url: str, context) -> FirstFigure:
    tab = Session(browser, server, url, context=context)
    tab.close()
    return tab.first_figure


def _median_figure(figures: list[FirstFigure]) -> FirstFigure:
    """The median of an odd number of first figures (by seconds), or the upper one."""
    return sorted(figures, key=lambda figure: figure.seconds)[len(figures) // 2]


def run_view(browser, view: View, rounds: int, plays: int, tabs: int,
             profile: Path | None) -> ViewResult:
    result = ViewResult()
    with tempfile.TemporaryDirectory() as data_home:
        if view.sdss:
            write_spec4000(Path(data_home), n=SDSS_ROWS)
        env = {**os.environ, "ASTROML_DATA": data_home}
        started = time.perf_counter()
        with running_streamlit(ROOT / "app.py", cwd=ROOT, env=env) as server:
            url = f"{server.url}/?{urlencode(view.query)}"
            boot = time.perf_counter() - started
            cold = Session(browser, server, url)  # imports, the data set, the first fit
            result.first_figure["cold server"] = cold.first_figure
            result.first_figure["cold, from start"] = FirstFigure(
                boot + cold.first_figure.seconds, {}, cpu_seconds(server.pid))
            result.first_figure[f"new tab (p50/{tabs})"] = _median_figure(
                [_new_tab_figure(browser, server, url, cold.context) for _ in range(tabs)])
            cold.close()
            visitor = Session(browser, server, url)
            result.first_figure["new visitor"] = visitor.first_figure
            visitor.close()
            session = Session(browser, server, f"{server.url}/?"
                              + urlencode({**view.query, "seed": "7"}))
            result.first_figure["new fit"] = session.first_figure
            for _ in range(plays):
                for speed in SPEEDS:
                    session.play(speed, result.playback[speed])
            spy = _start_profiler(server.pid, profile)
            for round_ in range(rounds):
                for kind, sample in round_of_interactions(session, view, round_).items():
                    result.samples[kind].append(sample)
            _stop_profiler(spy)
            session.close()
    return result


def _start_profiler(pid: int, output: Path | None):
    if output is None:
        return None
    if shutil.which("py-spy") is None:
        raise SystemExit("--profile needs py-spy on the PATH (pip install py-spy)")
    # py-spy writes a flame graph (.svg), speedscope (.json) or collapsed stacks (.txt).
    formats = {".svg": "flamegraph", ".json": "speedscope", ".txt": "raw"}
    return subprocess.Popen(["py-spy", "record", "--pid", str(pid), "--output", str(output),
                             "--format", formats.get(output.suffix, "flamegraph"),
                             "--threads", "--nonblocking"])


def _stop_profiler(spy) -> None:
    if spy is not None:
        spy.send_signal(2)
        spy.wait(timeout=60)


def _median(values) -> float:
    values = [v for v in values if not np.isnan(v)]
    return float(np.median(values)) if values else float("nan")


def _cell(value: float, width: int, scale: float = 1.0) -> str:
    return f"{'-':>{width}}" if np.isnan(value) else f"{value * scale:>{width}.0f}"


def print_first_figures(result: ViewResult) -> None:
    marks = next(iter(result.first_figure.values())).marks_ms
    print(f"  {'first figure':<17}{'s':>6}{'server CPU s':>14}"
          + "".join(f"{name:>18}" for name in marks))
    for kind, first in result.first_figure.items():
        print(f"  {kind:<17}{first.seconds:>6.2f}{first.server_cpu_s:>14.2f}"
              + "".join(_cell(first.marks_ms.get(name, np.nan), 18) for name in marks))


def print_playback(result: ViewResult) -> None:
    print(f"  {'playback':<17}{'painted':>12}{'p50 ms':>8}{'p95 ms':>8}{'server CPU ms':>15}"
          "   per frame (ms): main-thread tasks, main-thread CPU, renderer CPU")
    for speed, playback in result.playback.items():
        intervals = playback.intervals_ms
        painted = f"{playback.frames_painted}/{playback.frames_in_fit}"
        print(f"  {speed:<17}{painted:>12}{np.percentile(intervals, 50):>8.0f}"
              f"{np.percentile(intervals, 95):>8.0f}{1000 * playback.server_cpu_s:>15.0f}   "
              + "".join(_cell(_median(values), 8) for values in playback.per_frame_ms.values()))


def print_view(view: View, result: ViewResult) -> None:
    print(f"\n{view.name}")
    print_first_figures(result)
    if result.playback:
        print_playback(result)
    if not result.samples:
        return
    print(f"  {'interaction':<17}{'p50 ms':>8}{'p95 ms':>8}{'server CPU ms':>15}"
          f"{'ws KB':>8}{'to payload':>12}{'plot':>7}{'browser script':>16}"
          f"{'layout+style':>14}{'all tasks':>11}")
    for kind, samples in result.samples.items():
        latency = [1000 * s.latency_s for s in samples]
        med = {key: _median([getattr(s, key) for s in samples])
               for key in ("server_cpu_s", "ws_bytes", "to_payload_ms", "plot_ms")}
        browser = {key: _median([s.browser_ms[key] for s in samples])
                   for key in samples[0].browser_ms}
        print(f"  {kind:<17}{np.percentile(latency, 50):>8.0f}{np.percentile(latency, 95):>8.0f}"
              f"{_cell(med['server_cpu_s'], 15, 1000)}{_cell(med['ws_bytes'], 8, 1 / 1024)}"
              f"{_cell(med['to_payload_ms'], 12)}{_cell(med['plot_ms'], 7)}"
              f"{_cell(browser['script'], 16)}{_cell(browser['layout+style'], 14)}"
              f"{_cell(browser['tasks'], 11)}")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--views", nargs="+", choices=list(VIEWS), default=list(VIEWS))
    parser.add_argument("--rounds", type=int, default=7, help="rounds per view (default 7)")
    parser.add_argument("--plays", type=int, default=3,
                        help="plays through per speed and view (default 3)")
    parser.add_argument("--tabs", type=int, default=3,
                        help="new tabs opened on the running server; their median is "
                        "printed (default 3)")
    parser.add_argument("--profile", type=Path, help="record the server with py-spy during "
                        "the first view's rounds into this file (.svg flame graph, .json "
                        "speedscope, .txt collapsed stacks)")
    args = parser.parse_args(argv)
    reason = chromium_missing_reason()
    if reason is not None:
        print(f"cannot run: {reason}", file=sys.stderr)
        return 1
    print(f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}. p50/p95: input -> "
          "new figure drawn. Medians: server CPU, websocket bytes, input -> payload at the "
          "view, Plotly's drawing of it, browser main-thread time. First figures: seconds from "
          "opening the page, and page-clock ms of what it waited for.")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(**chromium_launch_options())
        for index, name in enumerate(args.views):
            result = run_view(browser, VIEWS[name], args.rounds, args.plays, args.tabs,
                              args.profile if index == 0 else None)
            print_view(VIEWS[name], result)
        browser.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
