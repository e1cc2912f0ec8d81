"""The Lessons page in Debian's Chromium against a real ``streamlit run app.py``: a
lesson's link, a relative URL, opens its view in a new tab on the right page."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from dashboard.lessons import LESSONS
from tests.browser.explore_page import APP_IDLE, EXCEPTION, animated_chart
from tests.browser.test_pages_browser import open_from_sidebar

pytestmark = pytest.mark.browser

REPLAY = LESSONS[0].views[0]
SWEEP = next(view for lesson in LESSONS for view in lesson.views
             if view.page == "pages/model_selection.py")


def open_link(page, label: str):
    """Click the lesson link ``label``; the new tab it opens, once its page has run."""
    with page.context.expect_page() as opened:
        page.get_by_role("link", name=label, exact=True).click()
    tab = opened.value
    tab.wait_for_load_state()
    return tab


def test_a_lesson_link_opens_its_view_in_a_new_tab(page, explore_app):
    open_from_sidebar(page, "Lessons")
    expect(page.get_by_role("heading", name=LESSONS[-1].title)).to_be_visible()

    tab = open_link(page, REPLAY.label)
    expect(tab).to_have_url(re.compile(rf"^{re.escape(explore_app.url)}/\?.*"
                                       "dataset=zero_spike.*replay=true"))
    expect(animated_chart(tab)).to_be_visible()
    expect(tab.get_by_role("heading", name="What the notebook's algorithm did")).to_be_visible()
    expect(tab.locator(EXCEPTION)).to_have_count(0)

    tab = open_link(page, SWEEP.label)
    expect(tab).to_have_url(re.compile(rf"^{re.escape(explore_app.url)}/model_selection\?"
                                       ".*dataset=sketch_separated"))
    expect(tab.locator("h1", has_text="Model selection")).to_be_visible()
    tab.wait_for_selector(APP_IDLE)
    expect(tab.locator(EXCEPTION)).to_have_count(0)
