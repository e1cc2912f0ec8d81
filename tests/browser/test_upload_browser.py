"""An uploaded CSV file in Debian's Chromium against a real ``streamlit run app.py``: the
file chosen on the Explore page is still what every page fits after the user moves
through the sidebar's page list, though Streamlit's uploader forgets it on a new page."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from test_app_explore import blobs_csv

from tests.browser.explore_page import APP_IDLE, EXCEPTION, animated_chart, labelled
from tests.browser.test_pages_browser import open_from_sidebar

pytestmark = pytest.mark.browser


def test_an_uploaded_file_survives_a_round_trip_through_the_pages(page):
    expect(animated_chart(page)).to_be_visible()
    labelled(page, "stSelectbox", "Dataset").click()
    page.get_by_role("option", name="Upload a CSV…").click()
    page.get_by_test_id("stFileUploader").locator("input[type=file]").set_input_files(
        files=[{"name": "points.csv", "mimeType": "text/csv", "buffer": blobs_csv()}])
    expect(page.get_by_text("points.csv — 120 rows")).to_be_visible()
    expect(animated_chart(page)).to_be_visible()

    open_from_sidebar(page, "The data", wait_for_chart=False)
    expect(page.get_by_text("points.csv: 120 rows")).to_be_visible()
    expect(page.get_by_text("Fitting points.csv, uploaded earlier")).to_be_visible()

    page.get_by_test_id("stSidebarNav").get_by_role("link").first.click()
    expect(page.get_by_text("points.csv — 120 rows")).to_be_visible()
    expect(animated_chart(page)).to_be_visible()
    page.wait_for_selector(APP_IDLE)
    expect(page.locator(EXCEPTION)).to_have_count(0)
