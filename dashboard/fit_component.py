"""The Explore page's figures as a Streamlit component: ``dashboard/static/fit_view.js``
drawing the payloads of ``dashboard.fit_payload`` with Plotly.js in the page.

The component's own script is a two-line loader: the real one and plotly.js come from
``app.py``'s asset routes once per browser (cached), not inside every message. The
animation reports, as its ``points`` state, which drawn points the browser holds; the
next payload leaves them out while they are still the ones drawn.
"""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st

from dashboard.assets import asset_url, read_text

COMPONENT = "gmm_explorer.fit_view"
ANIMATION_KEY = "fit_animation"
PANELS_KEY = "fit_panels"


def _loader_js() -> str:
    # The component's script runs from a blob: address; the import needs an absolute one.
    return ("export default function (component) {\n"
            f"  const url = new URL({asset_url('fit_view.js')!r}, document.baseURI);\n"
            "  import(url.href).then((view) => view.default(component));\n"
            "}\n")


def _mount():
    # Registering the same definition again is a no-op for Streamlit; doing it on every
    # run keeps it registered in whichever runtime runs the page (AppTest makes new ones).
    return st.components.v2.component(
        COMPONENT, js=_loader_js(), css=read_text("fit_view.css"),
        isolate_styles=False)  # Plotly styles its plots from the page's <head>


def points_held() -> str | None:
    """The id of the drawn points the browser last said it holds (None: none yet)."""
    state = st.session_state.get(ANIMATION_KEY) or {}
    return state.get("points")


def show_animation(payload: Callable[[bool], bytes], points_id: str) -> None:
    """Mount the animation; ``payload(include_points)`` builds what it draws."""
    _mount()(data=payload(points_held() != points_id), key=ANIMATION_KEY,
             on_points_change=lambda: None)


def show_panels(payload: bytes) -> None:
    """Mount still mixtures side by side (they draw the animation's points)."""
    _mount()(data=payload, key=PANELS_KEY)
