"""GMM Explorer's pages, in the order the sidebar lists them (``app.py`` serves them)."""

import streamlit as st

from dashboard.navigation import EXPLORE_PAGE
from dashboard.page_style import STYLE
from dashboard.query_state import TRUE_WORDS
from dashboard.sign_in import require_sign_in

# Presentation mode (?present=true) opens with the sidebar out of the projector's way.
presenting = st.query_params.get("present", "").lower() in TRUE_WORDS
st.set_page_config(page_title="GMM Explorer", layout="wide",
                   initial_sidebar_state="collapsed" if presenting else "auto")
st.html(STYLE)
# With sign-in configured, a signed-out visitor's run ends here, before any page.
require_sign_in()
st.navigation([
    st.Page(EXPLORE_PAGE, title="Explore", default=True),
    st.Page("pages/model_selection.py", title="Model selection"),
    st.Page("pages/the_math.py", title="The math"),
    st.Page("pages/the_data.py", title="The data"),
    st.Page("pages/lessons.py", title="Lessons"),
    st.Page("pages/large_catalog.py", title="Large catalog"),
]).run()
