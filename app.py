"""GMM Explorer's server: ``streamlit run app.py``.

The pages are ``streamlit_app.py``'s; this file adds the routes that serve the figures'
scripts (``dashboard.assets``), so Streamlit runs it as an ASGI app (``st.App``).
"""

import streamlit as st

from dashboard.assets import asset_routes

app = st.App("streamlit_app.py", routes=asset_routes())
