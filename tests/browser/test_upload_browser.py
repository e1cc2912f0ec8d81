"""An uploaded CSV file in Debian's Chromium against a real ``streamlit run app.py``: the
file chosen on the Explore page is still what every page fits after the user moves
through the sidebar's page list, though Streamlit's uploader forgets it on a new page;
two sessions uploading the same bytes each see only the name they gave it; a file over
the limit and a file the server lost are said so."""

from __future__ import annotations

import os
import re

import pytest
from playwright.sync_api import expect
from test_app_explore import blobs_csv
from test_app_upload import clashing_csv

from dashboard.upload import LOST_FILE
from tests.browser.conftest import new_tab
from tests.browser.explore_page import (
    APP_IDLE,
    ERROR_MESSAGE,
    EXCEPTION,
    animated_chart,
    labelled,
    seed_step_up,
)
from tests.browser.streamlit_server import free_port, running_server, streamlit_command
from tests.browser.test_pages_browser import open_from_sidebar

pytestmark = pytest.mark.browser


def choose_upload(page) -> None:
    expect(animated_chart(page)).to_be_visible()
    labelled(page, "stSelectbox", "Dataset").click()
    page.get_by_role("option", name="Upload a CSV…").click()


def upload_file(page, name: str, content: bytes) -> None:
    choose_upload(page)
    give_file(page, name, content)


def give_file(page, name: str, content: bytes) -> None:
    page.get_by_test_id("stFileUploader").locator("input[type=file]").set_input_files(
        files=[{"name": name, "mimeType": "text/csv", "buffer": content}])


def choose(page, control: str, option: str) -> None:
    labelled(page, "stSelectbox", control).click()
    page.get_by_role("option", name=option, exact=True).click()


def test_an_uploaded_file_survives_a_round_trip_through_the_pages(page):
    upload_file(page, "points.csv", blobs_csv())
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


@pytest.mark.parametrize(("content", "alice_sees", "bob_sees"), [
    (blobs_csv(), "alice_private.csv — 120 rows", "bob_copy.csv — 120 rows"),
    (b"", "alice_private.csv is empty", "bob_copy.csv is empty"),
], ids=["same bytes", "empty files"])
def test_two_sessions_uploading_the_same_bytes_each_see_only_their_own_file_name(
        browser, explore_app, content, alice_sees, bob_sees):
    alice = new_tab(browser, explore_app.url)
    bob = new_tab(browser, explore_app.url)
    try:
        upload_file(alice, "alice_private.csv", content)
        expect(alice.get_by_text(alice_sees)).to_be_visible()
        upload_file(bob, "bob_copy.csv", content)  # found in the cache alice filled
        expect(bob.get_by_text(bob_sees)).to_be_visible()
        bob.wait_for_selector(APP_IDLE)
        assert "alice" not in bob.locator("body").inner_text()
        assert "bob" not in alice.locator("body").inner_text()
    finally:
        alice.context.close()
        bob.context.close()


def test_a_column_named_none_is_chosen_as_y_and_its_link_reopens_it(browser, page):
    upload_file(page, "clash.csv", clashing_csv())
    choose(page, "X feature", "spectrum")
    choose(page, "Y feature", "none")
    fitted_on_both = page.get_by_text("fitted in 2 dimensions (spectrum, none)")
    expect(fitted_on_both).to_be_visible()
    expect(page).to_have_url(re.compile(r"[?&]x=spectrum&y=~none(&|$)"))  # as README says

    other = new_tab(browser, page.url)  # the link, then the same file
    try:
        give_file(other, "clash.csv", clashing_csv())
        expect(other.get_by_text("fitted in 2 dimensions (spectrum, none)")).to_be_visible()
        expect(other.get_by_role("combobox", name="Y feature")).to_have_value("none")
        expect(other.locator(EXCEPTION)).to_have_count(0)
    finally:
        other.context.close()

    choose(page, "Y feature", "none: one feature, a histogram")  # X alone is still there
    expect(page.get_by_text("fitted on one feature (spectrum)")).to_be_visible()
    expect(page).to_have_url(re.compile(r"[?&]y=none(&|$)"))
    expect(page.locator(EXCEPTION)).to_have_count(0)


def test_a_file_over_the_limit_is_refused_with_the_limit_on_the_page(page, tmp_path):
    big = tmp_path / "big.csv"
    with big.open("wb") as sparse:  # one byte over 50 MB, without writing 50 MB
        sparse.truncate(50_000_001)
    choose_upload(page)
    expect(page.get_by_test_id("stFileUploaderDropzoneInstructions")).to_contain_text(
        "50MB")
    page.get_by_test_id("stFileUploader").locator("input[type=file]").set_input_files(big)
    chip = page.get_by_test_id("stFileChip")
    expect(chip).to_contain_text("big.csv")
    expect(chip.get_by_test_id("stFileChipIconError")).to_be_visible()  # refused there
    message = page.locator(ERROR_MESSAGE)
    expect(message).to_contain_text("Choose a CSV file of up to 50 MB")
    expect(message).to_contain_text("A larger file is refused by the uploader itself")
    expect(page.locator(EXCEPTION)).to_have_count(0)


def test_a_file_lost_to_a_server_restart_is_said_so_and_the_uploader_emptied(
        browser, pytestconfig, tmp_path):
    root = pytestconfig.rootpath
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {**os.environ, "ASTROML_DATA": str(tmp_path)}

    def server(log_dir: str):
        (tmp_path / log_dir).mkdir()
        return running_server(streamlit_command(root / "app.py", port), url=url,
                              health_url=f"{url}/_stcore/health", cwd=root, env=env,
                              log_dir=tmp_path / log_dir)

    with server("before"):
        page = new_tab(browser, url)
        upload_file(page, "points.csv", blobs_csv())
        expect(page.get_by_text("points.csv — 120 rows")).to_be_visible()
        expect(page.get_by_test_id("stFileChip")).to_contain_text("points.csv")
    try:
        page.wait_for_selector("[data-testid=stApp]:not([data-test-connection-state=CONNECTED])")
        with server("after"):
            # The page reconnects on its own, and reruns at the user's next change, with
            # the uploader still naming a file this server never received.
            page.wait_for_selector(APP_IDLE)
            seed_step_up(page).click()
            expect(page.locator(ERROR_MESSAGE)).to_contain_text(LOST_FILE)
            expect(page.get_by_test_id("stFileChip")).to_have_count(0)
            expect(page.locator(EXCEPTION)).to_have_count(0)
    finally:
        page.context.close()
