"""True to scale and built for a room, in Debian's Chromium against a real ``streamlit run
app.py``: data-space figures keep one unit as long on both axes (Plotly's own pixels per
unit, ``_fullLayout.xaxis._m`` against ``yaxis._m``) in every window, presented or not,
with the sidebar open or closed and after a resize; presented pages have large text;
lesson links keep the page's display options; at 1280x720 the plot and Play are on
screen without scrolling."""

from __future__ import annotations

import json
import re

import pytest
from playwright.sync_api import expect

from dashboard.presentation import TEXT_PX
from tests.browser.explore_page import (
    ANIMATION,
    APP_IDLE,
    EXCEPTION,
    FIGURE_CHANGED_JS,
    FIGURE_SIGNATURE_JS,
    K_SLIDER_LABEL,
    PANELS,
    animated_chart,
    play_button,
    slider_handle,
)

pytestmark = pytest.mark.browser

SMALL, LARGE = {"width": 1280, "height": 720}, {"width": 1920, "height": 1080}
MIN_TICK_PX = 16
MIN_CONTRAST = 4.5
SCALE_TOLERANCE = 0.02
PYTHON_PLOTS = "[data-testid=stPlotlyChart] .js-plotly-plot"

# Pixels per unit on x and on y of each drawn plot under ``selector`` whose y axis is
# tied to its x axis (or every plot: ``all``): Plotly's own axis objects.
SCALES_JS = """([selector, all]) => Array.from(document.querySelectorAll(selector))
    .map((gd) => gd._fullLayout)
    .filter((layout) => layout && layout.xaxis && (all || layout.yaxis.scaleanchor === 'x'))
    .map((layout) => [layout.xaxis._m, -layout.yaxis._m])"""

# The animation fills its column and no more (no panel cut off), Plotly has drawn it at
# that width, and it is not ``before`` wide (null: any width).
FITS_JS = f"""(before) => {{
    const root = document.querySelector({json.dumps(ANIMATION)});
    const gd = root && root.querySelector('.js-plotly-plot');
    if (!gd || !gd._fullLayout) return false;
    const box = root.getBoundingClientRect(), width = gd._fullLayout.width;
    return Math.abs(width - box.width) < 2 && box.right <= window.innerWidth
        && width !== before;
}}"""
WIDTH_JS = f"""() => document.querySelector({json.dumps(ANIMATION)})
    .querySelector('.js-plotly-plot')._fullLayout.width"""

# The heights of the visible buttons under the animation: equal unless a label wrapped.
BUTTON_HEIGHTS_JS = f"""() => Array.from(document.querySelectorAll(
        {json.dumps(ANIMATION + " .gmm-controls button")}))
    .filter((b) => b.offsetParent).map((b) => b.getBoundingClientRect().height)"""

# Every visible piece of text in the page's main column: its font size, its contrast on
# white (its colour painted over white on a canvas, so any CSS colour form works), and
# where it begins. Headings are larger than text; alerts and buttons, drawn on their own
# colours, are left out.
TEXT_JS = """() => {
    const paint = document.createElement('canvas').getContext('2d', {willReadFrequently: true});
    const onWhite = (colour) => {
        paint.fillStyle = '#fff'; paint.fillRect(0, 0, 1, 1);
        paint.fillStyle = colour; paint.fillRect(0, 0, 1, 1);
        return Array.from(paint.getImageData(0, 0, 1, 1).data.slice(0, 3));
    };
    const luminance = (rgb) => {
        const [r, g, b] = rgb.map((c) => c / 255)
            .map((c) => c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4);
        return 0.2126 * r + 0.7152 * g + 0.0722 * b;
    };
    const selector = '.stMainBlockContainer :is(p, li, td, th, label, summary), '
        + '.stMainBlockContainer [data-testid=stCaptionContainer]';
    return Array.from(document.querySelectorAll(selector))
        .filter((e) => e.offsetParent && e.textContent.trim()
                       && !e.closest('[data-testid=stAlert], button'))
        .map((e) => {
            const style = getComputedStyle(e);
            return [parseFloat(style.fontSize), 1.05 / (luminance(onWhite(style.color)) + 0.05),
                    e.textContent.trim().slice(0, 40)];
        });
}"""

# The tick labels' font sizes of every Python-built plot.
TICK_SIZES_JS = f"""() => Array.from(document.querySelectorAll(
        {json.dumps(PYTHON_PLOTS + " :is(.xtick, .ytick) text")}))
    .map((t) => parseFloat(t.style.fontSize))"""

# Where the plot and Play are in the window.
BOXES_JS = f"""() => {{
    const box = (e) => {{ const r = e.getBoundingClientRect(); return [r.top, r.bottom]; }};
    const root = document.querySelector({json.dumps(ANIMATION)});
    return [box(root.querySelector('.js-plotly-plot')), box(root.querySelector('.gmm-play')),
            window.innerHeight];
}}"""


@pytest.fixture
def open_tab(browser, explore_app):
    """``open_tab(path, viewport)``: a new tab at ``path`` on the app, in its own window."""
    contexts = []

    def open_tab(path: str, viewport: dict):
        context = browser.new_context(viewport=viewport)
        contexts.append(context)
        tab = context.new_page()
        tab.set_default_timeout(90_000)
        tab.goto(explore_app.url + path)
        return tab

    yield open_tab
    for context in contexts:
        context.close()


def assert_true_to_scale(tab, selector: str, at_least: int) -> None:
    scales = tab.evaluate(SCALES_JS, [selector, False])
    assert len(scales) >= at_least, scales
    for x, y in scales:
        assert y == pytest.approx(x, rel=SCALE_TOLERANCE), scales


def wait_for_figure(tab) -> None:
    expect(animated_chart(tab)).to_be_visible()
    tab.wait_for_selector(APP_IDLE)
    tab.wait_for_function(FITS_JS, arg=None)


def toggle_sidebar(tab) -> None:
    expand = tab.get_by_test_id("stExpandSidebarButton")
    if expand.is_visible():
        expand.click()
    else:
        tab.get_by_test_id("stSidebar").hover()
        tab.get_by_test_id("stSidebarCollapseButton").locator("button").click()


def assert_reflowed(tab, before: float) -> None:
    """The animation followed its column's new width; no button label wrapped."""
    tab.wait_for_function(FITS_JS, arg=before)
    assert_true_to_scale(tab, ANIMATION + " .js-plotly-plot", 1)
    heights = tab.evaluate(BUTTON_HEIGHTS_JS)
    assert max(heights) - min(heights) < 1, heights


@pytest.mark.parametrize("viewport", [SMALL, LARGE], ids=["1280x720", "1920x1080"])
@pytest.mark.parametrize("query", ["", "?present=true"], ids=["normal", "presented"])
def test_the_explore_figure_is_true_to_scale_as_its_frame_changes(open_tab, viewport, query):
    tab = open_tab(f"/{query}", viewport)
    wait_for_figure(tab)
    assert_true_to_scale(tab, ANIMATION + " .js-plotly-plot", 1)

    for change in (toggle_sidebar,  # opened when presented, closed otherwise
                   toggle_sidebar,
                   lambda tab: tab.set_viewport_size({"width": viewport["width"] - 250,
                                                      "height": viewport["height"]})):
        before = tab.evaluate(WIDTH_JS)
        change(tab)
        assert_reflowed(tab, before)
    expect(tab.locator(EXCEPTION)).to_have_count(0)


def test_filling_the_frame_is_a_choice_that_the_link_keeps(open_tab):
    tab = open_tab("/?dataset=iris&aspect=fill", LARGE)
    wait_for_figure(tab)
    scales = tab.evaluate(SCALES_JS, [ANIMATION + " .js-plotly-plot", True])
    assert scales[0][1] != pytest.approx(scales[0][0], rel=0.1)  # stretched, as asked
    tab.get_by_text("Fill the frame (distorts shapes)").click()
    expect(tab).to_have_url(re.compile(r"aspect=equal"))
    tab.wait_for_function(
        f"""() => {{ const s = ({SCALES_JS})([{json.dumps(ANIMATION + " .js-plotly-plot")},
                                              false]);
                    return s.length === 1 && Math.abs(s[0][1] / s[0][0] - 1) < 0.02; }}""")


def test_the_scikit_learn_panels_and_the_math_figures_are_true_to_scale(open_tab):
    tab = open_tab("/", SMALL)
    wait_for_figure(tab)
    panels = tab.locator(PANELS)
    panels.scroll_into_view_if_needed()
    expect(panels).to_have_attribute("data-panels-drawn", re.compile(r"\d+"))
    assert_true_to_scale(tab, PANELS + " .js-plotly-plot", 2)

    tab = open_tab("/the_math", SMALL)
    expect(tab.locator("h1", has_text="The math")).to_be_visible()
    tab.wait_for_selector(APP_IDLE)
    expect(tab.locator(PYTHON_PLOTS)).to_have_count(3)  # step, density, uncertainty
    assert_true_to_scale(tab, PYTHON_PLOTS, 3)
    toggle_sidebar(tab)
    tab.wait_for_function(
        f"""() => Array.from(document.querySelectorAll({json.dumps(PYTHON_PLOTS)}))
            .every((gd) => Math.abs(gd._fullLayout.width - gd.clientWidth) < 2)""")
    assert_true_to_scale(tab, PYTHON_PLOTS, 3)


def assert_presented_text(tab) -> None:
    texts = tab.evaluate(TEXT_JS)
    assert texts
    small = [text for text in texts if text[0] < TEXT_PX]
    faint = [text for text in texts if text[1] < MIN_CONTRAST]
    assert small == [] and faint == []


def test_presented_styles_hold_on_lessons_and_model_selection(open_tab):
    tab = open_tab("/lessons?present=true", SMALL)
    expect(tab.locator("h1", has_text="Lessons")).to_be_visible()
    tab.wait_for_selector(APP_IDLE)
    assert_presented_text(tab)

    tab = open_tab("/model_selection?present=true", SMALL)
    expect(tab.locator("h1", has_text="Model selection")).to_be_visible()
    tab.get_by_role("button", name="Run the sweep").click()
    expect(tab.get_by_test_id("stTable").first).to_be_visible()
    tab.wait_for_selector(APP_IDLE)
    assert_presented_text(tab)  # the tables' cells among the text
    ticks = tab.evaluate(TICK_SIZES_JS)
    assert ticks and min(ticks) >= MIN_TICK_PX


def test_lesson_links_keep_presentation_and_colours(open_tab, explore_app):
    tab = open_tab("/lessons?present=true&palette=okabe_ito", SMALL)
    expect(tab.locator("h1", has_text="Lessons")).to_be_visible()
    tab.wait_for_selector(APP_IDLE)
    hrefs = tab.locator("a[href*='dataset=']").evaluate_all("(links) => links.map(a => a.href)")
    assert hrefs
    for href in hrefs:
        assert "present=true" in href and "palette=okabe_ito" in href, href

    with tab.context.expect_page() as opened:
        tab.locator("a[href*='dataset=']").first.click()
    lesson = opened.value
    expect(animated_chart(lesson)).to_be_visible()
    lesson.wait_for_selector(APP_IDLE)
    expect(lesson).to_have_url(re.compile(r"present=true.*palette=okabe_ito|"
                                          r"palette=okabe_ito.*present=true"))
    expect(lesson.locator("h1", has_text="GMM Explorer")).to_have_count(0)  # presented


def assert_plot_and_play_on_screen(tab) -> None:
    (plot_top, plot_bottom), (play_top, play_bottom), height = tab.evaluate(BOXES_JS)
    assert 0 <= plot_top < plot_bottom <= height
    assert 0 <= play_top < play_bottom <= height


def test_at_1280x720_the_plot_and_play_are_on_screen_after_load_and_after_a_change(open_tab):
    tab = open_tab("/", SMALL)
    wait_for_figure(tab)
    expect(play_button(tab)).to_be_in_viewport()
    assert_plot_and_play_on_screen(tab)

    before = tab.evaluate(FIGURE_SIGNATURE_JS)
    slider_handle(tab, K_SLIDER_LABEL).press("ArrowRight")
    tab.wait_for_function(FIGURE_CHANGED_JS, arg=before)
    tab.wait_for_selector(APP_IDLE)
    assert_plot_and_play_on_screen(tab)
