"""Fixtures for the real-browser tests: one Streamlit server and one Chromium per session,
a fresh browser context per test, and a screenshot in ``test-artifacts/`` when a test fails.
"""

from __future__ import annotations

import os
import re

import pytest
from playwright.sync_api import expect, sync_playwright

from tests.browser.explore_page import VIEWPORT
from tests.browser.streamlit_server import (
    chromium_missing_reason,
    launch_chromium,
    running_streamlit,
)

# A cold first run fits and draws the default view; a shared 2-core machine can be slow.
ACTION_TIMEOUT_MS = 90_000

call_report_key = pytest.StashKey()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if report.when == "call":
        item.stash[call_report_key] = report
    return report


@pytest.fixture(scope="session")
def browser():
    reason = chromium_missing_reason()
    if reason is not None:
        pytest.skip(reason)
    expect.set_options(timeout=ACTION_TIMEOUT_MS)
    with sync_playwright() as playwright:
        chromium = launch_chromium(playwright)
        yield chromium
        chromium.close()


@pytest.fixture(scope="session")
def explore_app(browser, pytestconfig, tmp_path_factory):
    """``streamlit run app.py`` from the repository, with an empty astroML data home so
    the page opens on built-in data whatever this machine has downloaded.

    It asks for ``browser`` so that a machine without Chromium skips before starting it.
    """
    root = pytestconfig.rootpath
    env = {**os.environ, "ASTROML_DATA": str(tmp_path_factory.mktemp("astroml_data"))}
    with running_streamlit(root / "app.py", cwd=root, env=env,
                           log_dir=tmp_path_factory.mktemp("streamlit_log")) as server:
        yield server


def new_tab(browser, url: str):
    """A tab on ``url`` in a browser context of its own: a session of its own, as
    another user's browser would be. Close its ``context`` when done."""
    context = browser.new_context(viewport=VIEWPORT)
    tab = context.new_page()
    tab.set_default_timeout(ACTION_TIMEOUT_MS)
    tab.goto(url)
    return tab


@pytest.fixture
def page(browser, explore_app, request):
    tab = new_tab(browser, explore_app.url)
    context = tab.context
    yield tab
    report = request.node.stash.get(call_report_key, None)
    if report is not None and report.failed:
        artifacts = request.config.rootpath / "test-artifacts"
        artifacts.mkdir(exist_ok=True)
        name = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.nodeid)
        tab.screenshot(path=artifacts / f"{name}.png", full_page=True)
        (artifacts / f"{name}.server.log").write_text(explore_app.log_tail())
    context.close()
