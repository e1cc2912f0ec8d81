"""Streamlit-facing helpers: controls <-> URL, cached fits, Plotly figure builders."""
