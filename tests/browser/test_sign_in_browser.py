"""Optional sign-in in Debian's Chromium: ``streamlit run app.py`` with an ``[auth]``
section in secrets.toml that points at a local OpenID Connect provider
(``oidc_provider.py``), and the same app without one.

The secrets file is written into a temporary ``$HOME/.streamlit/`` of the server, one of
the places Streamlit reads ``secrets.toml`` from, so the repository's files stay as they
are.
"""

from __future__ import annotations

import json
import os
import secrets

import pytest
from playwright.sync_api import expect

from dashboard.sign_in import PROMPT, SIGN_IN, SIGN_OUT, TITLE
from tests.browser.conftest import ACTION_TIMEOUT_MS
from tests.browser.explore_page import ANIMATION, APP_IDLE, EXCEPTION, VIEWPORT, animated_chart
from tests.browser.oidc_provider import Identity, running_oidc_provider
from tests.browser.streamlit_server import free_port, running_streamlit

pytestmark = pytest.mark.browser

CLIENT_ID = "gmm-explorer"
# Markdown in the name: the sidebar must show it as typed, not render it.
USER = Identity(sub="user-1", name="Ada **Lovelace** <i>test</i>", email="ada@example.test")
# Every page's address: signed out, each one shows the sign-in view and nothing else.
PAGE_PATHS = ("", "model_selection", "the_math", "the_data", "lessons", "large_catalog")


def secrets_toml(redirect_uri: str, client_secret: str, metadata_url: str) -> str:
    values = {"redirect_uri": redirect_uri, "cookie_secret": secrets.token_hex(32),
              "client_id": CLIENT_ID, "client_secret": client_secret,
              "server_metadata_url": metadata_url}
    # A JSON string of ASCII text is a TOML basic string.
    return "[auth]\n" + "".join(f"{key} = {json.dumps(value)}\n"
                                for key, value in values.items())


@pytest.fixture(scope="module")
def oidc_provider():
    with running_oidc_provider(CLIENT_ID, secrets.token_urlsafe(16), USER) as provider:
        yield provider


@pytest.fixture(scope="module")
def signed_app(browser, oidc_provider, pytestconfig, tmp_path_factory):
    """``streamlit run app.py`` from the repository with sign-in configured."""
    root = pytestconfig.rootpath
    home = tmp_path_factory.mktemp("home")
    (home / ".streamlit").mkdir()
    port = free_port()
    (home / ".streamlit" / "secrets.toml").write_text(secrets_toml(
        f"http://127.0.0.1:{port}/oauth2callback", oidc_provider.client_secret,
        oidc_provider.metadata_url))
    env = {**os.environ, "HOME": str(home),
           "ASTROML_DATA": str(tmp_path_factory.mktemp("astroml_data"))}
    with running_streamlit(root / "app.py", cwd=root, env=env, port=port,
                           log_dir=tmp_path_factory.mktemp("streamlit_log")) as server:
        yield server


@pytest.fixture
def visitor(browser, signed_app):
    """A fresh browser (no cookies) on the signed app."""
    context = browser.new_context(viewport=VIEWPORT)
    tab = context.new_page()
    tab.set_default_timeout(ACTION_TIMEOUT_MS)
    yield tab
    context.close()


def sign_in_button(page):
    return page.get_by_role("button", name=SIGN_IN, exact=True)


def expect_only_the_sign_in_view(page) -> None:
    """The sign-in view has run, and the page shows it and nothing else: no figure, no
    sidebar, no page list, no error."""
    expect(sign_in_button(page)).to_be_visible()
    page.wait_for_selector(APP_IDLE)
    main = page.get_by_test_id("stMain")
    expect(main.get_by_test_id("stElementContainer")).to_have_count(3)
    expect(main.locator("h1")).to_have_text(TITLE)
    expect(main.get_by_test_id("stText")).to_have_text(PROMPT)
    for absent in ("stSidebar", "stSidebarNav", "stPlotlyChart", "stDataFrame"):
        expect(page.get_by_test_id(absent)).to_have_count(0)
    expect(page.locator(ANIMATION)).to_have_count(0)
    expect(page.locator(EXCEPTION)).to_have_count(0)


def test_a_signed_out_visitor_sees_only_the_sign_in_view_on_every_page(visitor, signed_app):
    for path in PAGE_PATHS:
        visitor.goto(f"{signed_app.url}/{path}")
        expect_only_the_sign_in_view(visitor)


def test_signing_in_through_the_provider_opens_the_dashboard_and_signing_out_closes_it(
        visitor, signed_app, oidc_provider):
    visitor.goto(signed_app.url)
    expect_only_the_sign_in_view(visitor)
    authorizations = oidc_provider.authorizations

    sign_in_button(visitor).click()
    expect(animated_chart(visitor)).to_be_visible()
    assert oidc_provider.authorizations == authorizations + 1
    sidebar = visitor.get_by_test_id("stSidebar")
    expect(sidebar.get_by_test_id("stText")).to_have_text(f"Signed in as {USER.name}")
    # Every page but Large catalog, which is listed only on a server given a catalog.
    expect(sidebar.get_by_test_id("stSidebarNav").get_by_role("link")).to_have_count(
        len(PAGE_PATHS) - 1)

    # The identity cookie opens other pages in new sessions too.
    visitor.goto(f"{signed_app.url}/the_math")
    expect(visitor.locator("h1", has_text="The math")).to_be_visible()
    visitor.wait_for_selector(APP_IDLE)
    expect(visitor.locator(EXCEPTION)).to_have_count(0)

    visitor.get_by_test_id("stSidebar").get_by_role("button", name=SIGN_OUT).click()
    expect_only_the_sign_in_view(visitor)
    visitor.reload()
    expect_only_the_sign_in_view(visitor)


def test_without_an_auth_section_the_dashboard_is_open(page):
    expect(animated_chart(page)).to_be_visible()
    expect(sign_in_button(page)).to_have_count(0)
