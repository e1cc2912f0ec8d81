"""GMM Explorer's server: ``streamlit run app.py``.

The pages are ``streamlit_app.py``'s; this file adds the routes that serve the figures'
scripts (``dashboard.assets``), so Streamlit runs it as an ASGI app (``st.App``).
"""

import streamlit as st
from streamlit.runtime.pages_manager import PagesManager

from dashboard.assets import asset_routes

# The page list is streamlit_app.py's st.navigation. Without this, a fresh server whose
# first request is for another page (a lesson's link to /model_selection, say) would
# list the files of pages/ instead, Streamlit's older convention for that folder, until
# someone opened the Explore page.
PagesManager.uses_pages_directory = False

app = st.App("streamlit_app.py", routes=asset_routes())
