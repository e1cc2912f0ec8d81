"""mclust's models on the Explore page in Debian's Chromium: a model is picked from the
covariance control by typing its name, as a user (and benchmarks/bench_browser.py) does,
and the page fits and draws it."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import expect

from dashboard.controls import covariance_choice
from tests.browser.explore_page import ELLIPSE_TRACES_JS, EXCEPTION, labelled
from tests.browser.test_explore_browser import change_and_wait, wait_for_first_run

pytestmark = pytest.mark.browser


def choose_model(page, covariance_type: str) -> None:
    field = labelled(page, "stSelectbox", "Covariance type").locator("input")
    field.click()
    field.fill(covariance_choice(covariance_type))
    page.get_by_role("option", name=covariance_choice(covariance_type), exact=True).click()


@pytest.mark.parametrize("covariance_type", ["VEV", "diag"])
def test_a_model_typed_into_the_control_is_fitted_and_drawn(page, covariance_type):
    wait_for_first_run(page)
    change_and_wait(page, lambda: choose_model(page, covariance_type))
    expect(page).to_have_url(re.compile(rf"[?&]covariance_type={covariance_type}(&|$)"))
    expect(page.locator(EXCEPTION)).to_have_count(0)
    k = int(parse_qs(urlsplit(page.url).query)["k"][0])
    assert page.evaluate(ELLIPSE_TRACES_JS) == k  # one ellipse trace per component
