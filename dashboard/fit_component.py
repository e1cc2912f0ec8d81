"""The Explore page's figures as a Streamlit component: ``dashboard/static/fit_view.js``
drawing the payloads of ``dashboard.fit_payload`` with Plotly.js in the page.

The component's own script is a two-line loader: the real one and plotly.js come from
``app.py``'s asset routes once per browser (cached), not inside every message. A
payload carries the drawn points only when this session has not sent them yet; a
browser that lost them (its page reloaded its scripts) asks again with the
``missing_points`` trigger. The user's actions come back as triggers too: ``placed``,
a start placed by hand, and ``sketch_add``, points drawn on a sketch.
"""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st

from dashboard.assets import asset_url, read_text

COMPONENT = "gmm_explorer.fit_view"
ANIMATION_KEY = "fit_animation"
PANELS_KEY = "fit_panels"
PRELOAD_KEY = "fit_preload"  # fit_view.css hides its element (Streamlit's st-key-* class)
_POINTS_SENT = "_fit_points_sent"  # the id of the drawn points this session has sent


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


def preload() -> None:
    """Mount an empty, hidden view: the browser starts fetching plotly.js and the drawing
    script while the server is still fitting. Call it early on the page."""
    _mount()(data=b"", key=PRELOAD_KEY)


def _trigger(name: str):
    return (st.session_state.get(ANIMATION_KEY) or {}).get(name)


def show_animation(payload: Callable[[bool], bytes], points_id: str,
                   on_place: Callable[[list], None], on_draw: Callable[[dict], None]) -> None:
    """Mount the animation; ``payload(include_points)`` builds what it draws.
    ``on_place(points)`` takes a start the user placed on it ([] to clear it),
    ``on_draw(shape)`` points drawn on a sketch (``dashboard.sketch.add_points``)."""
    include = (st.session_state.get(_POINTS_SENT) != points_id
               or _trigger("missing_points") == points_id)
    _mount()(data=payload(include), key=ANIMATION_KEY,
             on_missing_points_change=lambda: None,
             on_placed_change=lambda: on_place(_trigger("placed") or []),
             on_sketch_add_change=lambda: on_draw(_trigger("sketch_add")))
    if include:
        st.session_state[_POINTS_SENT] = points_id


def show_panels(payload: bytes) -> None:
    """Mount still mixtures side by side (they draw the animation's points)."""
    _mount()(data=payload, key=PANELS_KEY)


def show_canvas(payload: bytes, on_draw: Callable[[dict], None]) -> None:
    """Mount an empty sketch's canvas in the animation's place (the same key, so the
    fit takes its place when there are enough points); ``on_draw(shape)`` takes the
    points drawn on it."""
    _mount()(data=payload, key=ANIMATION_KEY,
             on_sketch_add_change=lambda: on_draw(_trigger("sketch_add")))
