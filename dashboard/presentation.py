"""Presentation mode (``?present=true``): the Explore page on a projector.

The figure's own text and markers grow (``dashboard.figures.PRESENTATION``); this style
makes room for it at 1280x720, with the page's top padding cut and its text enlarged.
"""

STYLE = """<style>
.stMainBlockContainer { padding-top: 3.5rem; }  /* clear of the header bar */
.stMainBlockContainer .stMarkdown p, .stMainBlockContainer [data-testid=stAlertContentSuccess] p,
.stMainBlockContainer [data-testid=stAlertContentWarning] p { font-size: 1.15rem; }
.gmm-controls { font-size: 1.1rem; }
</style>"""
