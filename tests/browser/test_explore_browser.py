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
    VIEWPORT,
    animated_chart,
    download_animation,
    fitted_rows,
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


# The animation's left margin as its layout asked for it, and as Plotly drew it (fitted to
# the axis labels: a second pass when they differ); and how many plotly.js scripts the
# page holds.
MARGINS_JS = f"""() => {{
    const gd = document.querySelector({ANIMATION!r} + ' .js-plotly-plot');
    return [gd.layout.margin.l, gd._fullLayout._size.l];
}}"""
PLOTLY_SCRIPTS_JS = """() => Array.from(document.scripts)
    .filter((s) => s.src.includes('/gmm-assets/plotly.min.js')).length"""


def test_a_new_tab_has_plotly_from_the_page_and_draws_at_the_margins_drawn_before(
        page, explore_app):
    wait_for_first_run(page)  # a fresh browser profile: no margins stored yet
    asked, drawn = page.evaluate(MARGINS_JS)
    assert asked < drawn  # Plotly widened the margin for the labels: a second pass
    second = page.context.new_page()
    second.goto(explore_app.url)
    wait_for_first_run(second)
    # The same view starts from the margins the first tab drew with (a few pixels wider),
    # and Plotly keeps them: one pass.
    asked_again, drawn_again = second.evaluate(MARGINS_JS)
    assert asked_again == drawn_again
    assert drawn <= asked_again <= drawn + 5
    # plotly.js came with Streamlit's page (dashboard.assets), and the view used it
    # rather than loading a second copy.
    assert second.evaluate(PLOTLY_SCRIPTS_JS) == 1
    assert second.evaluate("() => document.head.querySelector('script[defer][src*=plotly]')"
                           " !== null")
    assert not second.locator(EXCEPTION).count()


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


# What the animation shows: its title, and each drawn point's fill in the order of the
# points (Plotly's data of each drawn point names its index).
SHOWN_FRAME_JS = f"""() => {{
    const gd = document.querySelector({ANIMATION!r} + ' .js-plotly-plot');
    const layer = Array.from(gd.querySelectorAll('.scatterlayer .trace'))
        .find(g => g.__data__[0].trace.name === 'data');
    const fills = [];
    for (const point of layer.querySelectorAll('path.point')) {{
        fills[point.__data__.i] = point.style.fill;
    }}
    return {{title: gd.querySelector('.gtitle').textContent, fills}};
}}"""

# Draw frame ``f`` whole (as the scrubber does) and wait for Plotly to have drawn it.
DRAW_FRAME_WHOLE_JS = f"""async (f) => {{
    const root = document.querySelector({ANIMATION!r});
    const gd = root.querySelector('.js-plotly-plot'), scrub = root.querySelector('.gmm-scrub');
    const drawn = new Promise((resolve) => gd.once('plotly_afterplot', resolve));
    scrub.value = String(f);
    scrub.dispatchEvent(new Event('input'));
    await drawn;
}}"""


def test_a_frame_of_playback_shows_its_iteration_as_a_whole_draw_does(page):
    """Playback recolours the points in place and retitles the figure: paused there, the
    figure is what a whole draw of that iteration shows, its title the label's iteration."""
    wait_for_first_run(page)
    scrubber = page.locator(f"{ANIMATION} .gmm-scrub")
    last_frame = int(scrubber.get_attribute("max"))
    page.locator(f"{ANIMATION} .gmm-speed").select_option(label="slow")
    label = iteration_label(page)
    play_button(page).click()
    page.wait_for_function("(el) => /^Iteration ([3-9]|\\d\\d) /.test(el.textContent)",
                           arg=label.element_handle())
    play_button(page).click()  # pause
    expect(play_button(page)).to_have_text("Play")
    iteration = label.text_content().split()[1]
    title = page.locator(f"{ANIMATION} .gtitle")
    expect(title).to_contain_text(f"iteration {iteration} of")  # the frame is drawn
    frame = int(scrubber.input_value())
    assert 0 < frame < last_frame  # a frame between the whole draws of the first and last
    during_play = page.evaluate(SHOWN_FRAME_JS)
    page.evaluate(DRAW_FRAME_WHOLE_JS, frame)
    assert page.evaluate(SHOWN_FRAME_JS) == during_play


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
    path = download_animation(page, tmp_path)

    offline = browser.new_context(offline=True)
    try:
        saved = offline.new_page()
        saved.goto(path.as_uri())
        expect(saved.locator(f"{ANIMATION} .js-plotly-plot")).to_be_visible()
        x_scale, y_scale = saved.locator(f"{ANIMATION} .js-plotly-plot").evaluate(
            "(gd) => [gd._fullLayout.xaxis._m, -gd._fullLayout.yaxis._m]")
        assert y_scale == pytest.approx(x_scale, rel=0.02)  # true to scale offline too
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


# The x-y plot area on the page (CSS pixels) and the data ranges it shows.
PLOT_AREA_JS = f"""() => {{
    const gd = document.querySelector({ANIMATION!r} + ' .js-plotly-plot');
    const box = gd.getBoundingClientRect(), {{ xaxis, yaxis }} = gd._fullLayout;
    return {{ left: box.left + xaxis._offset, top: box.top + yaxis._offset,
              width: xaxis._length, height: yaxis._length,
              x: xaxis.range, y: yaxis.range }};
}}"""
# The means the plot shows (after scrubbing to an iteration).
MEANS_JS = f"""() => {{
    const gd = document.querySelector({ANIMATION!r} + ' .js-plotly-plot');
    const means = gd.data.find(t => t.name === 'means');
    return Array.from(means.x, (x, j) => [x, means.y[j]]);
}}"""


def show_iteration_zero(page) -> None:
    page.locator(f"{ANIMATION} .gmm-scrub").focus()
    page.keyboard.press("Home")
    expect(iteration_label(page)).to_contain_text("Iteration 0 of ")


def test_a_start_placed_by_clicking_is_where_the_fit_begins_and_the_link_keeps_it(
        page, browser):
    wait_for_first_run(page)
    k = int(slider_handle(page, K_SLIDER_LABEL).input_value())
    page.locator(f"{ANIMATION} .gmm-place").click()
    expect(page.locator(f"{ANIMATION} .gmm-placing-text")).to_contain_text(f"0 of {k} placed")
    # The whole plot on screen, below Streamlit's header bar.
    page.locator(f"{ANIMATION} .gmm-plot").evaluate(
        "plot => plot.scrollIntoView({block: 'center'})")
    fractions = [(0.2 + 0.6 * j / (k - 1), 0.25 + 0.5 * j / (k - 1)) for j in range(k)]
    expected, pixel = [], None
    before = page.evaluate(FIGURE_SIGNATURE_JS)
    for fx, fy in fractions:
        area = page.evaluate(PLOT_AREA_JS)  # as the user sees it at each click
        assert area["top"] > 80 and area["top"] + area["height"] < VIEWPORT["height"]
        px = round(area["left"] + fx * area["width"])
        py = round(area["top"] + fy * area["height"])
        (x0, x1), (y0, y1) = area["x"], area["y"]
        expected.append((x0 + (px - area["left"]) / area["width"] * (x1 - x0),
                         y1 - (py - area["top"]) / area["height"] * (y1 - y0)))
        pixel = ((x1 - x0) / area["width"], (y1 - y0) / area["height"])
        page.mouse.click(px, py)
    page.wait_for_function(FIGURE_CHANGED_JS, arg=before)
    page.wait_for_selector(APP_IDLE)
    expect(labelled(page, "stSelectbox", "Initialization").locator("input")).to_have_value(
        "placed by hand on the figure")

    def assert_starts_at_the_clicks(tab) -> None:
        show_iteration_zero(tab)
        for (x, y), (ex, ey) in zip(tab.evaluate(MEANS_JS), expected, strict=True):
            assert abs(x - ex) <= pixel[0] and abs(y - ey) <= pixel[1], ((x, y), (ex, ey))

    assert_starts_at_the_clicks(page)
    assert "init=placed" in page.url and "means=" in page.url
    shared = browser.new_context(viewport=VIEWPORT)
    try:
        tab = shared.new_page()
        tab.goto(page.url)
        wait_for_first_run(tab)
        assert_starts_at_the_clicks(tab)
        expect(tab.locator(f"{ANIMATION} .gmm-clear-start")).to_be_visible()
    finally:
        shared.close()

    # Cleared, the fit starts the sidebar's way again.
    before = page.evaluate(FIGURE_SIGNATURE_JS)
    page.locator(f"{ANIMATION} .gmm-clear-start").click()
    page.wait_for_function(FIGURE_CHANGED_JS, arg=before)
    page.wait_for_selector(APP_IDLE)
    assert "init=placed" not in page.url


def test_points_drawn_on_a_sketch_join_the_fit(page, explore_app):
    page.goto(f"{explore_app.url}/?dataset=sketch&k=3")
    wait_for_first_run(page)
    rows = fitted_rows(page)
    loads = page.evaluate(POINTS_LOADS_JS)
    draw = page.locator(f"{ANIMATION} .gmm-draw")
    draw.click()
    expect(draw).to_have_text("Stop drawing")
    page.locator(f"{ANIMATION} .gmm-plot").evaluate(
        "plot => plot.scrollIntoView({block: 'center'})")
    area = page.evaluate(PLOT_AREA_JS)

    # A click adds a cloud (10 points by default) around the pointer.
    change_and_wait(page, lambda: page.mouse.click(area["left"] + 0.8 * area["width"],
                                                   area["top"] + 0.2 * area["height"]))
    assert fitted_rows(page) == rows + 10
    assert page.evaluate(POINTS_LOADS_JS) == loads + 1  # the new points are drawn

    # A dragged box fills its area.
    def drag_a_box() -> None:
        page.mouse.move(area["left"] + 0.1 * area["width"], area["top"] + 0.7 * area["height"])
        page.mouse.down()
        page.mouse.move(area["left"] + 0.3 * area["width"], area["top"] + 0.9 * area["height"],
                        steps=8)
        page.mouse.up()

    change_and_wait(page, drag_a_box)
    assert fitted_rows(page) == rows + 20
    expect(page.locator(EXCEPTION)).to_have_count(0)
    assert "sketch=" in page.url
