"""The Model selection and The math pages in Debian's Chromium against a real
``streamlit run app.py``, reached the way a user reaches them: from the Explore page
through the sidebar's page list."""

from __future__ import annotations

import json
import os
import re

import pytest
from playwright.sync_api import expect

from tests.browser.explore_page import (
    APP_IDLE,
    EXCEPTION,
    K_SLIDER_LABEL,
    animated_chart,
    slider_handle,
)
from tests.browser.streamlit_server import running_streamlit

pytestmark = pytest.mark.browser

# The "open any model" button starts on the best model: "Open VVV (full) with k = 3 …".
OPEN_MODEL = re.compile(r"Open ((\w+)(?: \((\w+)\))?) with k = (\d+) on the Explore page")
# Every formula on the page as KaTeX drew it: the numbers in them change with each step.
FORMULAS_JS = """() => Array.from(document.querySelectorAll(
    '[data-testid=stMarkdownContainer] .katex')).map(f => f.textContent).join('\\n')"""
# True once a finished run shows formulas other than ``before``.
FORMULAS_CHANGED_JS = (
    "(before) => {"
    f"  const idle = document.querySelector({json.dumps(APP_IDLE)}) !== null;"
    f"  const now = ({FORMULAS_JS})();"
    "  return idle && now !== before;"
    "}"
)


def open_from_sidebar(page, title: str, wait_for_chart: bool = True) -> None:
    """Click ``title`` in the sidebar's page list and wait for that page's first run
    (after the Explore page's, unless ``wait_for_chart`` is False)."""
    if wait_for_chart:
        expect(animated_chart(page)).to_be_visible()  # the Explore page has run once
    page.get_by_test_id("stSidebarNav").get_by_role("link", name=title).click()
    expect(page.locator("h1", has_text=title)).to_be_visible()
    page.wait_for_selector(APP_IDLE)
    expect(page.locator(EXCEPTION)).to_have_count(0)


def test_a_bic_sweep_opens_its_best_model_on_the_explore_page(page):
    open_from_sidebar(page, "Model selection")
    page.get_by_role("button", name="Run the sweep").click()

    open_best = page.get_by_role("button", name=OPEN_MODEL)
    expect(open_best).to_be_visible()
    expect(page.get_by_test_id("stPlotlyChart")).to_have_count(1)  # the criterion's chart
    label, model, alias, best_k = OPEN_MODEL.search(open_best.text_content()).groups()
    best_type = alias or model  # the control's own name: scikit-learn's where it has one
    expect(page.get_by_test_id("stAlertContentSuccess")).to_contain_text(
        f"Lowest BIC: k = {best_k} with {label} covariance")

    open_best.click()

    expect(page).to_have_url(re.compile(rf"/\?(.*&)?k={best_k}&.*covariance_type={best_type}"))
    expect(animated_chart(page)).to_be_visible()
    page.wait_for_selector(APP_IDLE)
    expect(slider_handle(page, K_SLIDER_LABEL)).to_have_value(best_k)
    expect(page.locator(EXCEPTION)).to_have_count(0)


def test_stepping_e_then_m_twice_changes_the_numbers_shown(page):
    open_from_sidebar(page, "The math")
    e_step = page.get_by_role("button", name="E-step", exact=True)
    m_step = page.get_by_role("button", name="M-step", exact=True)
    expect(m_step).to_be_disabled()

    for button, other in ((e_step, m_step), (m_step, e_step)) * 2:
        before = page.evaluate(FORMULAS_JS)
        button.click()
        page.wait_for_function(FORMULAS_CHANGED_JS, arg=before)
        expect(button).to_be_disabled()
        expect(other).to_be_enabled()
        expect(page.locator(EXCEPTION)).to_have_count(0)

    expect(page.get_by_text("Iteration 2", exact=False).first).to_be_visible()


def test_a_fresh_servers_first_visit_to_another_page_lists_the_pages_by_title(
        browser, pytestconfig, tmp_path):
    """The first request a new server gets may be a shared link to a page other than
    Explore: the sidebar must still list the app's pages, not the files in pages/."""
    root = pytestconfig.rootpath
    env = {**os.environ, "ASTROML_DATA": str(tmp_path)}
    with running_streamlit(root / "app.py", cwd=root, env=env, log_dir=tmp_path) as server:
        context = browser.new_context()
        try:
            tab = context.new_page()
            tab.goto(f"{server.url}/model_selection?dataset=blobs")
            expect(tab.locator("h1", has_text="Model selection")).to_be_visible()
            nav = tab.get_by_test_id("stSidebarNav")
            for title in ("Explore", "Model selection", "The math", "The data", "Lessons"):
                expect(nav.get_by_text(title, exact=True)).to_be_visible()
            expect(nav.get_by_text("streamlit app")).to_have_count(0)
        finally:
            context.close()
