"""GMM Explorer's pages, as ``dashboard.navigation.page_list`` lists them (``app.py`` serves
them)."""

import streamlit as st

from dashboard.navigation import EXPLORE_PAGE, page_list
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
st.navigation([st.Page(path, title=title, default=path == EXPLORE_PAGE)
               for path, title in page_list()]).run()
