"""The Explore page in Debian's Chromium against a real ``streamlit run app.py``."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.explore_page import (
    ANIMATION,
    APP_IDLE,
    ELLIPSE_TRACES_JS,
    ERROR_MESSAGE,
    EXCEPTION,
    FIGURE_CHANGED_JS,
    FIGURE_SIGNATURE_JS,
    K_SLIDER_LABEL,
    PANELS,
    POINTS_LOADS_JS,
    SKLEARN_HEADING_TEXT,
    animated_chart,
    iteration_label,
    labelled,
    play_button,
    slider_handle,
)

pytestmark = pytest.mark.browser

# The animation's current iteration as its plot shows it: the log-likelihood marker's x.
MARKER_ITERATION_JS = f"""() => {{
    const gd = document.querySelector({ANIMATION!r} + ' .js-plotly-plot');
    const marker = gd.data.find(t => t.name === 'current log-likelihood');
    return marker.x[0];
}}"""


def wait_for_first_run(page) -> None:
    expect(animated_chart(page)).to_be_visible()
    page.wait_for_selector(APP_IDLE)


def change_and_wait(page, action) -> None:
    before = page.evaluate(FIGURE_SIGNATURE_JS)
    action()
    page.wait_for_function(FIGURE_CHANGED_JS, arg=before)
    page.wait_for_selector(APP_IDLE)


def test_page_loads_without_an_exception_or_error(page):
    wait_for_first_run(page)
    expect(page.locator(EXCEPTION)).to_have_count(0)
    expect(page.locator(ERROR_MESSAGE)).to_have_count(0)
    expect(slider_handle(page, K_SLIDER_LABEL)).to_be_attached()
    expect(page.get_by_test_id("stSidebarNav").get_by_text("Explore", exact=True)).to_be_visible()


def test_moving_the_k_slider_changes_the_figure(page):
    wait_for_first_run(page)
    handle = slider_handle(page, K_SLIDER_LABEL)
    k_before = int(handle.input_value())
    assert page.evaluate(ELLIPSE_TRACES_JS) == k_before

    change_and_wait(page, lambda: handle.press("ArrowRight" if k_before < 12 else "ArrowLeft"))

    k_after = k_before + 1 if k_before < 12 else k_before - 1
    expect(handle).to_have_value(str(k_after))
    assert page.evaluate(ELLIPSE_TRACES_JS) == k_after
    expect(page.locator(EXCEPTION)).to_have_count(0)


def test_a_new_fit_of_the_same_points_does_not_send_them_again(page):
    """The lighter path: a k change brings colours, ellipses and curves, not the points;
    a change of the plotted data does bring new ones."""
    wait_for_first_run(page)
    assert page.evaluate(POINTS_LOADS_JS) == 1
    handle = slider_handle(page, K_SLIDER_LABEL)
    for key in ("ArrowRight", "ArrowLeft", "ArrowRight"):
        change_and_wait(page, lambda key=key: handle.press(key))
    assert page.evaluate(POINTS_LOADS_JS) == 1

    change_and_wait(page, lambda: labelled(page, "stCheckbox", "Standardize")
                    .locator("label").click())
    assert page.evaluate(POINTS_LOADS_JS) == 2


def test_play_runs_through_the_iterations_and_the_marker_follows(page):
    wait_for_first_run(page)
    label = iteration_label(page)
    last = page.evaluate(MARKER_ITERATION_JS)
    opened_on = label.text_content()
    assert opened_on == f"Iteration {last} of {last}"  # it opens on the fitted state

    play_button(page).click()

    expect(label).not_to_have_text(opened_on)
    page.wait_for_function(f"() => ({MARKER_ITERATION_JS})() < {last}")
    expect(play_button(page)).to_have_text("Play")  # back when the last frame is shown
    expect(label).to_have_text(opened_on)
    assert page.evaluate(MARKER_ITERATION_JS) == last


def test_the_scrubber_picks_an_iteration(page):
    wait_for_first_run(page)
    scrubber = page.locator(f"{ANIMATION} .gmm-scrub")
    scrubber.focus()
    page.keyboard.press("Home")
    expect(iteration_label(page)).to_contain_text("Iteration 0 of ")
    assert page.evaluate(MARKER_ITERATION_JS) == 0
    page.keyboard.press("ArrowRight")
    expect(iteration_label(page)).to_contain_text("Iteration 1 of ")


def test_the_scikit_learn_panels_are_drawn_when_scrolled_to(page):
    wait_for_first_run(page)
    heading = page.get_by_test_id("stHeading").filter(has_text=SKLEARN_HEADING_TEXT)
    expect(heading.first).to_be_visible()
    panels = page.locator(PANELS)
    panels.scroll_into_view_if_needed()
    expect(panels.locator(".js-plotly-plot")).to_have_count(2)
    k = int(slider_handle(page, K_SLIDER_LABEL).input_value())
    counts = panels.evaluate(
        "root => Array.from(root.querySelectorAll('.js-plotly-plot'), gd => "
        "gd.data.filter(t => String(t.name).endsWith('ellipses')).length)")
    assert counts == [k, k]
    expect(page.locator(EXCEPTION)).to_have_count(0)


def test_the_downloaded_animation_plays_offline(page, browser, tmp_path):
    wait_for_first_run(page)
    button = page.get_by_test_id("stDownloadButton").filter(has_text="Animated figure (HTML)")
    button.scroll_into_view_if_needed()
    with page.expect_download() as download:
        button.click()
    path = tmp_path / "animation.html"
    download.value.save_as(path)

    offline = browser.new_context(offline=True)
    try:
        saved = offline.new_page()
        saved.goto(path.as_uri())
        expect(saved.locator(f"{ANIMATION} .js-plotly-plot")).to_be_visible()
        label = saved.locator(f"{ANIMATION} .gmm-iteration")
        shown = label.text_content()
        saved.locator(f"{ANIMATION} .gmm-play").click()
        expect(label).not_to_have_text(shown)
    finally:
        offline.close()


# The colours of the drawn points and component 0's ellipses, as the plot shows them.
COLOURS_AND_ELLIPSE_JS = f"""() => {{
    const gd = document.querySelector({ANIMATION!r} + ' .js-plotly-plot');
    const ellipse = gd.data.find(t => t.name === 'component 0 ellipses');
    return [Array.from(gd.data[0].marker.color).slice(0, 50).join(','),
            ellipse.x.slice(0, 20).join(',')];
}}"""


def test_stepping_with_the_buttons_and_the_keyboard_moves_label_and_marker_together(page):
    wait_for_first_run(page)
    scrubber = page.locator(f"{ANIMATION} .gmm-scrub")
    scrubber.focus()
    page.keyboard.press("Home")
    label = iteration_label(page)
    expect(label).to_contain_text("Iteration 0 of ")

    page.locator(f"{ANIMATION} .gmm-next").click()  # the button, then keys: focus on it
    expect(label).to_contain_text("Iteration 1 of ")
    assert page.evaluate(MARKER_ITERATION_JS) == 1
    page.keyboard.press("ArrowRight")
    expect(label).to_contain_text("Iteration 2 of ")
    assert page.evaluate(MARKER_ITERATION_JS) == 2

    # An iteration in halves: the M-step moves the ellipses and keeps the colours, the
    # E-step recolours the points and keeps the ellipses.
    colours, ellipse = page.evaluate(COLOURS_AND_ELLIPSE_JS)
    page.keyboard.press("m")
    expect(label).to_contain_text("M-step")
    assert label.text_content().startswith("Iteration 3 of ")
    after_m = page.evaluate(COLOURS_AND_ELLIPSE_JS)
    assert after_m[0] == colours and after_m[1] != ellipse
    page.locator(f"{ANIMATION} .gmm-e-step").click()
    expect(label).not_to_contain_text("M-step")
    after_e = page.evaluate(COLOURS_AND_ELLIPSE_JS)
    assert after_e[1] == after_m[1] and after_e[0] != after_m[0]
    assert page.evaluate(MARKER_ITERATION_JS) == 3

    page.keyboard.press("ArrowLeft")
    expect(label).to_contain_text("Iteration 2 of ")
    page.keyboard.press(" ")  # space plays from the start
    expect(play_button(page)).to_have_text("Pause")
    page.keyboard.press(" ")
    expect(play_button(page)).to_have_text("Play")
