"""What every page shares: the sidebar's view of the data and the fit, kept across pages,
a link that reproduces it, and the way back to the Explore page with a chosen model.

Streamlit forgets a widget's value when the user changes page (the widget gets a new
identity on the new page and starts from its default), and clears the URL's query
string. Re-assigning the sidebar's values at the top of every run turns them into values
set by code, which the widgets take on any page (Streamlit's documented way to keep
widget state across pages); the sidebar then writes the URL again.
"""

from __future__ import annotations

from dataclasses import replace
from urllib.parse import urlencode, urljoin

import streamlit as st

from dashboard import cache, controls, sketch
from dashboard.catalog_view import configured_source
from dashboard.lessons import page_url_path
from dashboard.plain_text import plain
from dashboard.query_state import ExploreView, view_to_query
from gmm_core.datasets import Dataset, sdss_available
from gmm_core.request import INIT_METHODS, PLACED
from gmm_core.wording import counted

EXPLORE_PAGE = "pages/explore.py"
CATALOG_PAGE = "pages/large_catalog.py"


def page_list() -> list[tuple[str, str]]:
    """The pages the sidebar lists, in its order, as (file, title). Large catalog is
    listed only on a server started with a catalog (``$GMM_CATALOG``): without one it
    has nothing to show a user."""
    pages = [(EXPLORE_PAGE, "Explore"), ("pages/model_selection.py", "Model selection"),
             ("pages/the_math.py", "The math"), ("pages/the_data.py", "The data"),
             ("pages/lessons.py", "Lessons")]
    return pages + [(CATALOG_PAGE, "Large catalog")] * (configured_source() is not None)


def shared_view(sketch_canvas: bool = False) -> tuple[ExploreView, Dataset]:
    """The sidebar's view and its data set, on any page; its warnings are shown, and the
    page stops with a message when the data cannot be loaded, or when a sketch is too
    small to fit unless the page draws it on a canvas (``sketch_canvas``)."""
    selection = controls.sidebar(cache.dataset, sdss_available())
    for message in selection.messages:
        st.warning(plain(message))
    if selection.error:
        st.error(plain(selection.error))
        st.stop()
    missing = sketch.points_missing(selection.view.request)
    if missing and not sketch_canvas:
        st.info(f"The sketch needs {counted(missing, 'more point')} before it is fitted: draw "
                "them with “Draw points” on the Explore page.")
        st.stop()
    return selection.view, selection.dataset


def view_link(base_url: str | None, view: ExploreView) -> str:
    """The address that opens ``view``: the page's URL and the view's query string."""
    return f"{base_url or ''}?{urlencode(view_to_query(view))}"


def model_link(base_url: str | None, view: ExploreView, k: int, covariance_type: str) -> str:
    """The Explore page's address for ``view`` fitted by EM with ``k`` components of
    ``covariance_type``, with the view's data, settings and display; ``base_url`` is any
    page's address (the pages share a folder). A start placed by hand for another k
    gives way to the default start."""
    request = view.request
    unplaced = ({"init": INIT_METHODS[0], "placed_means": ()}
                if request.init == PLACED and len(request.placed_means) != k else {})
    chosen = request.with_changes(k=int(k), covariance_type=covariance_type, algorithm="em",
                                  **unplaced)
    return view_link(urljoin(base_url or "", f"./{page_url_path(EXPLORE_PAGE)}"),
                     replace(view, request=chosen))


def choose_model(k: int, covariance_type: str, noise: bool) -> None:
    """A button callback: set the sidebar to EM with ``k`` components of ``covariance_type``,
    with a noise component or without (callbacks run before the page, so the widgets take
    the values this run)."""
    st.session_state.update(k=int(k), covariance_type=covariance_type, noise=bool(noise),
                            replay=False)
