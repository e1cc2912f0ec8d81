"""The Explore page in Debian's Chromium against a real ``streamlit run app.py``."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.explore_page import (
    APP_IDLE,
    ELLIPSE_TRACES_JS,
    ERROR_MESSAGE,
    EXCEPTION,
    FIGURE_CHANGED_JS,
    FIGURE_SIGNATURE_JS,
    K_SLIDER_LABEL,
    SKLEARN_HEADING_TEXT,
    animated_chart,
    iteration_label,
    play_button,
    slider_handle,
)

pytestmark = pytest.mark.browser


def wait_for_first_run(page) -> None:
    expect(animated_chart(page)).to_be_visible()
    page.wait_for_selector(APP_IDLE)


def test_page_loads_without_an_exception_or_error(page):
    wait_for_first_run(page)
    expect(page.locator(EXCEPTION)).to_have_count(0)
    expect(page.locator(ERROR_MESSAGE)).to_have_count(0)
    expect(slider_handle(page, K_SLIDER_LABEL)).to_be_attached()


def test_moving_the_k_slider_changes_the_figure(page):
    wait_for_first_run(page)
    handle = slider_handle(page, K_SLIDER_LABEL)
    k_before = int(handle.input_value())
    assert page.evaluate(ELLIPSE_TRACES_JS) == k_before
    figure_before = page.evaluate(FIGURE_SIGNATURE_JS)

    handle.focus()
    page.keyboard.press("ArrowRight" if k_before < 12 else "ArrowLeft")

    k_after = k_before + 1 if k_before < 12 else k_before - 1
    expect(handle).to_have_value(str(k_after))
    page.wait_for_function(FIGURE_CHANGED_JS, arg=figure_before)
    assert page.evaluate(ELLIPSE_TRACES_JS) == k_after
    expect(page.locator(EXCEPTION)).to_have_count(0)


def test_play_advances_the_iteration(page):
    wait_for_first_run(page)
    label = iteration_label(page)
    expect(label).to_be_visible()
    shown_before = label.text_content()

    play_button(page).click()

    expect(label).not_to_have_text(shown_before)


def test_the_scikit_learn_panel_is_there(page):
    wait_for_first_run(page)
    heading = page.get_by_test_id("stHeading").filter(has_text=SKLEARN_HEADING_TEXT)
    expect(heading.first).to_be_visible()
    expect(page.locator(EXCEPTION)).to_have_count(0)
