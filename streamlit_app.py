"""GMM Explorer's pages, as ``dashboard.navigation.page_list`` lists them (``app.py`` serves
them)."""

import streamlit as st

from dashboard import controls, presentation
from dashboard.navigation import EXPLORE_PAGE, page_list
from dashboard.page_style import STYLE
from dashboard.sign_in import require_sign_in

controls.remember_url()
# Presentation mode (?present=true) opens with the sidebar out of the projector's way,
# and styles every page for the room.
presenting = controls.presenting()
st.set_page_config(page_title="GMM Explorer", layout="wide",
                   initial_sidebar_state="collapsed" if presenting else "auto")
presentation.style_page(presenting)
st.html(STYLE)
# With sign-in configured, a signed-out visitor's run ends here, before any page.
require_sign_in()
st.navigation([st.Page(path, title=title, default=path == EXPLORE_PAGE)
               for path, title in page_list()]).run()
