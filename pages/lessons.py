"""Lessons: one-click prepared views, each with what to look for. Layout and words only
(the lessons themselves are ``dashboard.lessons``)."""

from __future__ import annotations

import streamlit as st

from dashboard import controls
from dashboard.lessons import LESSONS

st.set_page_config(page_title="Lessons · GMM Explorer", layout="wide")
# The sidebar is not drawn here; its settings wait for the next page that draws it.
controls.keep_across_pages(controls.SIDEBAR_KEYS)
display = controls.display_params()  # lesson links open with this page's look

st.title("Lessons")
st.caption("Prepared views for a class: each opens the Explore page (or Model selection) "
           "in a new tab with every setting in its address, so it can be bookmarked and "
           "shared. Each one shows a thing EM does, or a way it goes wrong.")

for lesson in LESSONS:
    with st.container(border=True):
        st.subheader(lesson.title, anchor=lesson.slug)
        st.markdown(lesson.explanation)
        st.markdown("  \n".join(f"→ [{view.label}]({view.link(display)})"
                                 for view in lesson.views))
        st.caption(f"What to look for: {lesson.claim}")
