"""GMM Explorer's pages, in the order the sidebar lists them (``app.py`` serves them)."""

import streamlit as st

from dashboard import controls, presentation
from dashboard.navigation import EXPLORE_PAGE

controls.remember_url()
# Presentation mode (?present=true) opens with the sidebar out of the projector's way,
# and styles every page for the room.
presenting = controls.presenting()
st.set_page_config(page_title="GMM Explorer", layout="wide",
                   initial_sidebar_state="collapsed" if presenting else "auto")
presentation.style_page(presenting)
st.navigation([
    st.Page(EXPLORE_PAGE, title="Explore", default=True),
    st.Page("pages/model_selection.py", title="Model selection"),
    st.Page("pages/the_math.py", title="The math"),
    st.Page("pages/the_data.py", title="The data"),
    st.Page("pages/lessons.py", title="Lessons"),
    st.Page("pages/large_catalog.py", title="Large catalog"),
]).run()
