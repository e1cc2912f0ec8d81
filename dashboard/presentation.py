"""Presentation mode (``?present=true``): every page on a projector, read from the back of
a room.

The Explore figure's own text and markers grow (``dashboard.figures.PRESENTATION``);
``STYLE`` enlarges the pages' text and tables and cuts the top padding, ``sized`` does
the same for a Plotly figure's text, and ``table`` draws a table as HTML (Streamlit's
data frame is drawn on a canvas that styles cannot reach). ``BASE`` holds on every
page: captions darker than Streamlit's 4.4:1 grey, and the top padding cut so that the
Explore figure and its Play button fit under the title at 1280x720.
"""

from __future__ import annotations

import plotly.graph_objects as go
import streamlit as st

from dashboard.figures import PRESENTATION

TEXT_PX = 20  # body text, captions, labels and tables
TICK_PX = PRESENTATION["font_size"]  # a figure's text; its ticks take the same size

# Captions at 80 % of the text colour: 6.8:1 on white (Streamlit's 60 % gives 4.4:1).
BASE = """<style>
.stMainBlockContainer { padding-top: 3.5rem; }  /* clear of the header bar */
[data-testid=stCaptionContainer] { color: color-mix(in srgb, currentColor 80%, transparent); }
</style>"""

STYLE = f"""<style>
.stMainBlockContainer :is(p, li, label, summary, td, th, input, select, button, textarea),
.stMainBlockContainer [data-testid=stCaptionContainer],
.stMainBlockContainer [data-testid=stMetricLabel] p {{ font-size: {TEXT_PX}px; }}
.stMainBlockContainer :is(p, li, td, th) code {{ font-size: 0.9em; }}
.gmm-controls {{ font-size: {TEXT_PX}px; }}
</style>"""


def style_page(present: bool) -> None:
    """Put this run's page styles on the page (call once per run, from the entry point)."""
    st.html(BASE + (STYLE if present else ""))


def sized(figure: go.Figure, present: bool) -> go.Figure:
    """``figure``, its text (ticks, titles, legend) at the presentation size if
    ``present``."""
    if present:
        figure.update_layout(font={"size": TICK_PX})
        figure.update_xaxes(tickfont={"size": TICK_PX})
        figure.update_yaxes(tickfont={"size": TICK_PX})
    return figure


def table(frame, present: bool, hide_index: bool = False) -> None:
    """A table: Streamlit's interactive data frame, or, presented, an HTML table whose
    text the presentation style enlarges."""
    if not present:
        st.dataframe(frame, hide_index=hide_index)
    else:
        st.table(frame.style.hide(axis="index") if hide_index else frame)
