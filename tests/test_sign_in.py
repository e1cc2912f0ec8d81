"""The sign-in gate (``dashboard/sign_in.py``) run by Streamlit's AppTest: with an
``[auth]`` secrets section a signed-out run shows the sign-in view and nothing else on
any page; a signed-in run shows the page, the user's name as plain text and a sign-out
button; without the section nothing asks anyone to sign in.

The browser test (``tests/browser/test_sign_in_browser.py``) goes through a real
OpenID Connect provider and opens every page's address; here ``AppTest.user`` stands in
for the identity cookie. Each test is one run of the Explore page: AppTest runs another
page, and any rerun, from the page's file alone (Streamlit's older ``pages/`` convention,
which ``app.py`` turns off for the real server), without ``streamlit_app.py`` and so
without the gate; signing out is the browser test's.
"""

from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest
from test_app_explore import (  # noqa: F401 (_own_data_home: an autouse fixture)
    ANIMATION_KEY,
    _own_data_home,
    assert_clean,
)

from dashboard.sign_in import PROMPT, SIGN_IN, SIGN_OUT, TITLE

ROOT = Path(__file__).resolve().parents[1]
APP = str(ROOT / "streamlit_app.py")
AUTH = {"redirect_uri": "http://localhost:8501/oauth2callback",
        "cookie_secret": "a-test-cookie-secret-of-some-length",
        "client_id": "gmm-explorer", "client_secret": "not-a-real-secret",
        "server_metadata_url": "http://127.0.0.1:9/.well-known/openid-configuration"}
NAME = "Ada **Lovelace** <i>test</i>"


def run(user: dict, auth: dict | None = AUTH) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120)
    if auth is not None:
        at.secrets["auth"] = auth
    at.user = user
    return at.run()


def figures(at: AppTest) -> list[str]:
    return [element.key for element in at.get("bidi_component")]


def assert_only_the_sign_in_view(at: AppTest) -> None:
    assert_clean(at)
    assert [title.value for title in at.title] == [TITLE]
    assert [text.value for text in at.text] == [PROMPT]
    assert [button.label for button in at.button] == [SIGN_IN]
    assert len(at.main.children) == 3
    assert not at.sidebar.children
    assert not figures(at)


def test_a_signed_out_run_shows_only_the_sign_in_view():
    assert_only_the_sign_in_view(run({"is_logged_in": False}))


def test_a_signed_in_run_shows_the_page_the_name_as_plain_text_and_a_sign_out_button():
    at = run({"is_logged_in": True, "name": NAME, "email": "ada@example.test"})
    assert_clean(at)
    assert ANIMATION_KEY in figures(at)
    assert [text.value for text in at.sidebar.text] == [f"Signed in as {NAME}"]
    assert not [md for md in at.sidebar.markdown if "Lovelace" in md.value]
    assert SIGN_OUT in [button.label for button in at.sidebar.button]


def test_without_an_auth_section_nobody_is_asked_to_sign_in():
    at = run({}, auth=None)
    assert_clean(at)
    assert ANIMATION_KEY in figures(at)
    assert SIGN_IN not in [button.label for button in at.button]
    assert not [text for text in at.sidebar.text if text.value.startswith("Signed in")]
