"""Optional sign-in: with an ``[auth]`` section in ``.streamlit/secrets.toml`` every page
is behind Streamlit's own OpenID Connect sign-in (``st.login``); without one the
dashboard is open.

``streamlit_app.py`` calls ``require_sign_in`` before ``st.navigation``: a signed-out
visitor's run stops there, so no page runs, no data is loaded and no page list is sent,
whatever page the address names.
"""

from __future__ import annotations

import streamlit as st

TITLE = "GMM Explorer"
PROMPT = "Sign in to open the dashboard."
SIGN_IN = "Sign in"
SIGN_OUT = "Sign out"


def sign_in_required() -> bool:
    """Whether secrets.toml configures sign-in (an ``[auth]`` section)."""
    return st.secrets.load_if_toml_exists() and "auth" in st.secrets


def display_name() -> str:
    """Who is signed in: the identity provider's name for them, else their e-mail or
    their subject identifier (which every OpenID Connect identity has)."""
    return str(st.user.get("name") or st.user.get("email") or st.user.get("sub"))


def require_sign_in() -> None:
    """Show the sign-in view and stop the run unless sign-in is off or the visitor is
    signed in; then the sidebar says who is signed in and offers to sign out."""
    if not sign_in_required():
        return
    if not st.user.is_logged_in:
        st.title(TITLE)
        st.text(PROMPT)
        st.button(SIGN_IN, type="primary", on_click=st.login)
        st.stop()
    # The name comes from the identity provider: plain text, never Markdown.
    st.sidebar.text(f"Signed in as {display_name()}")
    st.sidebar.button(SIGN_OUT, on_click=st.logout)
