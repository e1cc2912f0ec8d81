"""Style every page shares (``streamlit_app.py`` adds it before running a page).

A Markdown table wider than the page (the matched components of a fit in many
dimensions, say) scrolls inside itself instead of making the whole page scroll sideways.
"""

STYLE = """<style>
[data-testid=stMarkdownContainer] table { display: block; max-width: 100%; overflow-x: auto; }
</style>"""
