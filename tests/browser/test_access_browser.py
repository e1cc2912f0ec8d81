"""The Explore page by keyboard and for a screen reader, in Debian's Chromium against a
real ``streamlit run app.py``: the skip link, the figure's focus and keys, a start placed
with the arrows and Enter, the figure's name, the table beside it, and wide tables and
boxes that fit the page."""

from __future__ import annotations

import dataclasses
import re

import numpy as np
import pytest
from playwright.sync_api import expect

from dashboard.controls import covariance_choice
from dashboard.exports import animation_html
from dashboard.figures import (
    BLEND_LEVELS,
    DEFAULT_OPTIONS,
    PALEST,
    FigureOptions,
    blend_rgb,
    plot_data,
)
from dashboard.fit_payload import animation_payload
from gmm_core.model_names import MODELS
from tests.browser.explore_page import (
    ANIMATION,
    APP_IDLE,
    EXCEPTION,
    FIGURE_CHANGED_JS,
    FIGURE_SIGNATURE_JS,
    K_SLIDER_LABEL,
    VIEWPORT,
    fitted_rows,
    iteration_label,
    labelled,
    play_button,
    slider_handle,
)
from tests.browser.test_explore_browser import change_and_wait, show_iteration_zero
from tests.browser.test_explore_browser import wait_for_first_run as wait_for_first_draw

pytestmark = pytest.mark.browser

MAX_TABS_TO_PLAY = 6
PLOT = f"{ANIMATION} .gmm-plot"
FOCUSED_JS = "() => document.activeElement?.className ?? ''"
# The shown iteration's log-likelihood, as the plot's marker has it.
MARKER_LL_JS = f"""() => document.querySelector({PLOT!r}).data
    .find(t => t.name === 'current log-likelihood').y[0]"""
# The means the plot shows, and the keyboard cursor while there is one.
TRACE_XY_JS = f"""(name) => {{
    const trace = document.querySelector({PLOT!r}).data.find(t => t.name === name);
    return trace ? Array.from(trace.x, (x, j) => [x, trace.y[j]]) : null;
}}"""


# The log-likelihood axis's tick labels and title, as drawn: text and box.
LL_AXIS_JS = f"""() => {{
    const gd = document.querySelector({PLOT!r});
    const box = (e) => {{ const r = e.getBoundingClientRect(); return [r.left, r.right]; }};
    return {{ ticks: [...gd.querySelectorAll('.y2tick text')].map(e => [e.textContent, box(e)]),
              title: box(gd.querySelector('.g-y2title text')) }};
}}"""


# The colour Plotly gave each drawn point.
DRAWN_COLOURS_JS = f"""() => document.querySelector({PLOT!r}).calcdata[0].map(p => p.mcc)"""


def wait_for_first_run(page) -> None:
    wait_for_first_draw(page)
    expect(page.locator(PLOT)).to_have_attribute("aria-label", re.compile("iteration"))


def shown_iteration(page) -> tuple[int, int]:
    t, n = re.match(r"Iteration (\d+) of (\d+)", iteration_label(page).inner_text()).groups()
    return int(t), int(n)


def test_play_is_a_few_tab_presses_away_through_the_skip_link(page):
    wait_for_first_run(page)
    tabs = 1
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to the figure")
    expect(skip).to_be_focused()
    expect(skip).to_be_in_viewport()  # shown while focused
    page.keyboard.press("Enter")
    plot = page.locator(PLOT)
    expect(plot).to_be_focused()
    # A visible focus ring on the figure.
    assert plot.evaluate("p => getComputedStyle(p).outlineStyle") == "solid"
    while "gmm-play" not in page.evaluate(FOCUSED_JS) and tabs < MAX_TABS_TO_PLAY:
        page.keyboard.press("Tab")
        tabs += 1
    expect(play_button(page)).to_be_focused()
    # Plotly's toolbar is for the mouse: none of its buttons takes the focus.
    assert page.locator(f"{ANIMATION} .modebar-btn").count() > 0
    assert page.evaluate("""() => [...document.querySelectorAll('.modebar a, .modebar button')]
        .filter(b => b.tabIndex >= 0).length""") == 0


def test_the_figures_keys_step_it_once_it_has_focus_even_after_a_sidebar_slider(page):
    wait_for_first_run(page)
    handle = slider_handle(page, K_SLIDER_LABEL)
    k = int(handle.input_value()) + 1
    change_and_wait(page, lambda: handle.press("ArrowRight"))
    expect(handle).to_be_focused()
    last, n = shown_iteration(page)
    assert last == n and n >= 2

    page.locator(PLOT).click(position={"x": 40, "y": 20})  # the title's strip: no zoom
    expect(page.locator(PLOT)).to_be_focused()
    page.keyboard.press("ArrowLeft")
    expect(iteration_label(page)).to_contain_text(f"Iteration {n - 1} of {n}")
    page.keyboard.press("ArrowLeft")
    expect(iteration_label(page)).to_contain_text(f"Iteration {n - 2} of {n}")
    expect(handle).to_have_value(str(k))  # the slider did not move: no refit
    expect(page.locator(PLOT)).to_be_focused()

    # Its name follows: the iteration, k and the log-likelihood shown.
    name = page.locator(PLOT).get_attribute("aria-label")
    assert f"iteration {n - 2} of {n}" in name and f"k = {k}" in name
    value = float(re.search(r"log-likelihood (\S+)", name).group(1))
    assert value == pytest.approx(page.evaluate(MARKER_LL_JS), rel=1e-5)
    assert "−20" not in name and "160" not in name  # no tick labels


def drawn_export(browser, X, trace, tmp_path, script: str, options=DEFAULT_OPTIONS):
    """``script``'s answer on the offline export of ``trace``'s animation (no server)."""
    page_file = tmp_path / "animation.html"
    payload = animation_payload(plot_data(X, trace.sample_index), trace, options)
    page_file.write_text(animation_html(payload, "export"), encoding="utf-8")
    context = browser.new_context(viewport=VIEWPORT)
    try:
        page = context.new_page()
        page.goto(page_file.as_uri())
        expect(page.locator(PLOT)).to_have_attribute("aria-label", re.compile("iteration"))
        return page.evaluate(script)
    finally:
        context.close()


def test_log_likelihood_ticks_are_short_and_clear_of_the_axis_title(browser, fig69_fit,
                                                                    tmp_path):
    # A log-likelihood flat to round-off, where Plotly alone labels ticks with 19 digits
    # ("−468.9827506928975822").
    X, trace = fig69_fit
    flat = -468.9827506928975 / trace.n_samples
    trace = dataclasses.replace(trace, mean_log_likelihood=flat + np.arange(
        len(trace.mean_log_likelihood)) * 4 * np.spacing(flat))
    axis = drawn_export(browser, X, trace, tmp_path, LL_AXIS_JS)
    assert len(axis["ticks"]) >= 2
    assert len({text for text, _ in axis["ticks"]}) == len(axis["ticks"])  # told apart
    for text, (left, _) in axis["ticks"]:
        digits = re.sub(r"[^0-9]", "", text.split("e")[0]).lstrip("0")
        assert 0 < len(digits) <= 6, text
        assert axis["title"][1] <= left, (text, axis["title"])  # the title ends before it


@pytest.mark.parametrize("palette", ["plotly", "okabe_ito"])
def test_points_are_drawn_in_their_winning_components_colour(browser, fig69_fit, tmp_path,
                                                              palette):
    X, trace = fig69_fit
    drawn = drawn_export(browser, X, trace, tmp_path, DRAWN_COLOURS_JS,
                         FigureOptions(palette=palette))
    data = plot_data(X, trace.sample_index)
    expected = blend_rgb(trace.responsibilities[-1][data.positions], palette)
    drawn = np.array([[float(c) for c in re.findall(r"[\d.]+", colour)[:3]] for colour in drawn])
    level = (1 - PALEST) * 255 / (BLEND_LEVELS - 1)  # one step of sureness
    assert np.abs(drawn - expected).max() <= level / 2 + 1


def test_a_start_placed_with_the_arrows_and_enter_is_where_the_fit_begins(page):
    wait_for_first_run(page)
    k = int(slider_handle(page, K_SLIDER_LABEL).input_value())
    place = page.locator(f"{ANIMATION} .gmm-place")
    place.focus()
    page.keyboard.press("Enter")
    plot = page.locator(PLOT)
    expect(plot).to_be_focused()  # the button hid: its keys went to the figure
    expect(page.locator(f"{ANIMATION} .gmm-placing-text")).to_contain_text(f"0 of {k} placed")

    before = page.evaluate(FIGURE_SIGNATURE_JS)
    placed = []
    moves = ["ArrowLeft", "ArrowUp", "ArrowRight", "ArrowDown"]
    for j in range(k):
        for _ in range(3):
            page.keyboard.press(f"Shift+{moves[j % 4]}")
        cursor = page.evaluate(TRACE_XY_JS, "keyboard cursor")
        assert cursor is not None and cursor[0] not in placed
        placed.append(cursor[0])
        page.keyboard.press("Enter")
    page.wait_for_function(FIGURE_CHANGED_JS, arg=before)
    page.wait_for_selector(APP_IDLE)
    expect(labelled(page, "stSelectbox", "Initialization").locator("input")).to_have_value(
        "placed by hand on the figure")
    assert page.evaluate(TRACE_XY_JS, "keyboard cursor") is None

    show_iteration_zero(page)
    for (x, y), (px, py) in zip(page.evaluate(TRACE_XY_JS, "means"), placed, strict=True):
        assert x == pytest.approx(px, rel=1e-4, abs=1e-4) and y == pytest.approx(py, rel=1e-4,
                                                                                abs=1e-4)
    expect(page.locator(EXCEPTION)).to_have_count(0)


def test_show_as_table_lists_each_component_at_the_shown_iteration(page):
    wait_for_first_run(page)
    k = int(slider_handle(page, K_SLIDER_LABEL).input_value())
    toggle = page.locator(f"{ANIMATION} .gmm-table-toggle")
    toggle.click()
    expect(toggle).to_have_attribute("aria-expanded", "true")
    table = page.locator(f"{ANIMATION} .gmm-table")
    rows = table.locator("tbody tr")
    expect(rows).to_have_count(k)
    t, n = shown_iteration(page)
    expect(table.locator("caption")).to_contain_text(f"iteration {t} of {n}")
    weights = [float(w) for w in rows.locator("td:nth-child(2)").all_inner_texts()]
    assert sum(weights) == pytest.approx(1.0, abs=1e-4)
    means = [tuple(map(float, cell.split(", ")))
             for cell in rows.locator("td:nth-child(3)").all_inner_texts()]
    for (x, y), (mx, my) in zip(means, page.evaluate(TRACE_XY_JS, "means"), strict=True):
        assert x == pytest.approx(mx, rel=1e-5) and y == pytest.approx(my, rel=1e-5)

    show_iteration_zero(page)
    expect(table.locator("caption")).to_contain_text(f"iteration 0 of {n}")
    assert table.locator("tbody tr td:nth-child(3)").all_inner_texts() != [
        f"{x:.6g}, {y:.6g}" for x, y in means]


def test_a_wide_table_scrolls_inside_itself_not_the_page(page, explore_app):
    # The matched components table of four features is about 1,390 px wide: a window of
    # 1,280 px makes sure it is wider than its box (at the default viewport the two were
    # within a pixel of each other).
    page.set_viewport_size({"width": 1280, "height": 720})
    page.goto(f"{explore_app.url}/?dataset=iris&x=sepal_length&y=sepal_width"
              "&extra=petal_length,petal_width")
    wait_for_first_run(page)
    expect(page.get_by_text("Matched components")).to_be_visible()
    page.wait_for_selector(APP_IDLE)
    widths = page.evaluate("""() => {
        const main = document.querySelector('[data-testid=stMain]');
        const tables = [...main.querySelectorAll('[data-testid=stMarkdownContainer] table')];
        return { page: [document.documentElement.scrollWidth, document.documentElement.clientWidth],
                 main: [main.scrollWidth, main.clientWidth],
                 widest: Math.max(...tables.map(t => t.scrollWidth)),
                 box: Math.max(...tables.map(t => t.clientWidth)) };
    }""")
    assert widths["widest"] > widths["box"]  # the matched components overflow their box...
    assert widths["page"][0] <= widths["page"][1]  # ...which scrolls, not the page
    assert widths["main"][0] <= widths["main"][1]


def test_the_sweeps_box_shows_every_chosen_model(page):
    wait_for_first_run(page)
    page.get_by_test_id("stSidebarNav").get_by_role("link", name="Model selection").click()
    expect(page.locator("h1", has_text="Model selection")).to_be_visible()
    page.wait_for_selector(APP_IDLE)
    box = page.get_by_test_id("stMain").get_by_test_id("stMultiSelect")
    outer = box.bounding_box()
    for model in MODELS:  # mclust's 14, the default
        chip = box.get_by_text(covariance_choice(model), exact=True)
        expect(chip).to_be_visible()
        inner = chip.bounding_box()
        for start, size in (("x", "width"), ("y", "height")):
            assert outer[start] <= inner[start]
            assert inner[start] + inner[size] <= outer[start] + outer[size]


def test_points_are_drawn_on_a_sketch_with_the_arrows_and_enter(page, explore_app):
    page.goto(f"{explore_app.url}/?dataset=sketch&k=3")
    wait_for_first_run(page)
    rows = fitted_rows(page)
    draw = page.locator(f"{ANIMATION} .gmm-draw")
    draw.focus()
    page.keyboard.press("Enter")
    expect(draw).to_have_text("Stop drawing")
    expect(page.locator(PLOT)).to_be_focused()
    page.keyboard.press("Shift+ArrowRight")
    assert page.evaluate(TRACE_XY_JS, "keyboard cursor") is not None
    change_and_wait(page, lambda: page.keyboard.press("Enter"))  # a cloud at the cross
    assert fitted_rows(page) == rows + 10
    page.locator(PLOT).focus()
    page.keyboard.press("Escape")
    expect(draw).to_have_text("Draw points")
