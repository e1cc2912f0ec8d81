"""Real-browser tests: a Streamlit server driven by Playwright in Debian's Chromium."""
