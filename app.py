"""GMM Explorer's server: ``streamlit run app.py``.

The pages are ``streamlit_app.py``'s; this file adds the routes that serve the figures'
scripts, and has Streamlit's HTML page load them (``dashboard.assets``), so Streamlit runs
it as an ASGI app (``st.App``).
"""

import gc
import importlib
import threading

import streamlit as st
from starlette.middleware import Middleware
from streamlit.runtime.pages_manager import PagesManager

from dashboard.assets import PreloadFigureScripts, asset_routes

# The page list is streamlit_app.py's st.navigation. Without this, a fresh server whose
# first request is for another page (a lesson's link to /model_selection, say) would
# list the files of pages/ instead, Streamlit's older convention for that folder, until
# someone opened the Explore page.
PagesManager.uses_pages_directory = False

# A server just started would keep its first visitor waiting while the page's first run
# imports scikit-learn, SciPy, astroML and the rest (the most of that wait): they are
# imported now, beside Streamlit's own start, in the order the pages import them (a run
# that catches up waits for the module being imported instead of importing it again).
PAGE_MODULES = ("dashboard.controls", "dashboard.presentation", "dashboard.navigation",
                "dashboard.page_style", "dashboard.sign_in", "dashboard.cache",
                "dashboard.exports", "dashboard.fit_component", "dashboard.sketch",
                "dashboard.status")


def _import_page_modules() -> None:
    # Python's cyclic garbage collector would scan everything imported so far, again and
    # again as it grows: a few full collections, 0.2-0.6 s of CPU (measured) in front of
    # the first figure. Modules are not garbage: it waits until they are in, and later
    # collections skip them (frozen).
    gc.disable()
    try:
        for name in PAGE_MODULES:
            importlib.import_module(name)
    finally:
        gc.freeze()
        gc.enable()


threading.Thread(target=_import_page_modules, name="import-page-modules", daemon=True).start()

app = st.App("streamlit_app.py", routes=asset_routes(),
             middleware=[Middleware(PreloadFigureScripts)])
