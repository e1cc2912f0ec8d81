"""The classroom views in Debian's Chromium against a real ``streamlit run app.py``: the
fit of one feature (a histogram under the densities, played and stepped like the 2-D
figure) and a sketch begun on an empty canvas."""

from __future__ import annotations

import json

import pytest
from playwright.sync_api import expect

from tests.browser.explore_page import (
    ANIMATION,
    APP_IDLE,
    EXCEPTION,
    animated_chart,
    iteration_label,
    labelled,
    play_button,
)
from tests.browser.test_explore_browser import fitted_rows, wait_for_first_run

pytestmark = pytest.mark.browser

CANVAS = "[data-gmm-view=canvas]"

# What the one-feature animation draws: its histogram's bars, its density curves, the
# mixture's density, the points under the axis, and the iteration the curves beside mark.
DENSITY_VIEW_JS = f"""() => {{
    const gd = document.querySelector({json.dumps(ANIMATION + " .js-plotly-plot")});
    const named = (name) => gd.data.find(t => t.name === name);
    return {{
        bars: named('histogram').y.length,
        components: gd.data.filter(t => /^component \\d+ density$/.test(t.name)).length,
        mixture: Array.from(named('mixture density').y),
        means: Array.from(named('means').x),
        colours: Array.from(named('data').marker.color),
        points: named('data').x.length,
        iteration: named('current log-likelihood').x[0],
        halfStep: gd.closest({json.dumps(ANIMATION)}).dataset.halfStep,
    }};
}}"""

# Where the plot's axes are on screen, their ranges, and the pixels per unit of each.
AXES_JS = """(selector) => {
    const gd = document.querySelector(selector + ' .js-plotly-plot');
    const box = gd.getBoundingClientRect(), { xaxis, yaxis } = gd._fullLayout;
    return { left: box.left + xaxis._offset, top: box.top + yaxis._offset,
             width: xaxis._length, height: yaxis._length, x: xaxis.range, y: yaxis.range,
             xScale: xaxis._length / (xaxis.range[1] - xaxis.range[0]),
             yScale: yaxis._length / (yaxis.range[1] - yaxis.range[0]) };
}"""


def density_view(page) -> dict:
    return page.evaluate(DENSITY_VIEW_JS)


def test_one_feature_is_a_histogram_under_densities_that_play_and_step(page, explore_app):
    page.goto(f"{explore_app.url}/?dataset=sketch_bumps&k=2")
    wait_for_first_run(page)
    final = density_view(page)
    assert final["bars"] >= 5 and final["components"] == 2 and final["points"] == 300
    last = final["iteration"]
    assert last >= 2
    label = iteration_label(page)
    expect(label).to_have_text(f"Iteration {last} of {last}")

    play_button(page).click()
    page.wait_for_function(f"() => ({DENSITY_VIEW_JS})().iteration < {last}")
    expect(play_button(page)).to_have_text("Play")  # back when the last frame is shown
    expect(label).to_have_text(f"Iteration {last} of {last}")
    assert density_view(page)["mixture"] == final["mixture"]

    page.locator(f"{ANIMATION} .gmm-scrub").focus()
    page.keyboard.press("Home")
    expect(label).to_have_text(f"Iteration 0 of {last}")
    start = density_view(page)
    assert start["iteration"] == 0 and start["mixture"] != final["mixture"]

    # The M-step moves the curves; the points keep the colours of the E-step before it.
    page.locator(f"{ANIMATION} .gmm-m-step").click()
    expect(label).to_have_text(f"Iteration 1 of {last} · M-step")
    half = density_view(page)
    assert half["halfStep"] == "M" and half["means"] != start["means"]
    assert half["colours"] == start["colours"]
    page.locator(f"{ANIMATION} .gmm-e-step").click()
    expect(label).to_have_text(f"Iteration 1 of {last}")
    assert density_view(page)["colours"] != start["colours"]

    panels = page.locator("[data-gmm-view=panels]")
    panels.scroll_into_view_if_needed()
    expect(panels.locator(".js-plotly-plot")).to_have_count(2)
    expect(page.locator(EXCEPTION)).to_have_count(0)


def test_an_empty_sketch_is_a_canvas_whose_first_click_starts_the_fit(page, explore_app):
    page.goto(f"{explore_app.url}/?dataset=sketch&k=2")
    wait_for_first_run(page)
    labelled(page, "stSelectbox", "Sketch starts from").click()
    page.get_by_role("option", name="an empty canvas").click()
    canvas = page.locator(CANVAS)
    expect(canvas.locator(".js-plotly-plot")).to_be_visible()
    page.wait_for_selector(APP_IDLE)
    draw = canvas.locator(".gmm-draw")
    expect(draw).to_have_attribute("aria-pressed", "true")
    expect(canvas.locator(".gmm-hint")).to_have_text(
        "Click to add points; the fit starts when there are enough: 3 for k = 2 (k + 1), "
        "3 to go.")
    canvas.locator(".gmm-plot").evaluate("plot => plot.scrollIntoView({block: 'center'})")
    area = page.evaluate(AXES_JS, CANVAS)
    assert area["x"] == [-10, 10] and area["y"] == [-10, 10]
    assert area["xScale"] == pytest.approx(area["yScale"], rel=0.01)  # equal scale

    # A click adds a cloud (10 points by default) where it lands: enough to fit.
    page.mouse.click(area["left"] + 0.75 * area["width"], area["top"] + 0.25 * area["height"])
    expect(animated_chart(page)).to_be_visible()
    page.wait_for_selector(APP_IDLE)
    assert fitted_rows(page) == 10
    expect(page.locator(f"{ANIMATION} .gmm-draw")).to_have_attribute("aria-pressed", "true")
    fitted = page.evaluate(AXES_JS, ANIMATION)
    assert fitted["x"][0] <= -10 and fitted["x"][1] >= 10  # the frame it was drawn on
    means = page.evaluate(f"""() => document.querySelector(
        {json.dumps(ANIMATION + " .js-plotly-plot")}).data.find(t => t.name === 'means').x""")
    assert all(2 < x < 8 for x in means)  # the cloud sits at x = 5
    expect(page.locator(EXCEPTION)).to_have_count(0)
    assert "sketch=" in page.url
