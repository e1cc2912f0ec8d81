"""Where things are on the Explore page, for the browser tests and the load benchmark.

Locators are built without awaiting in both Playwright APIs, so these helpers serve the
sync tests and the async benchmark alike; the JavaScript runs in the page.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

VIEWPORT = {"width": 1400, "height": 1000}  # every test's and benchmark's browser window
K_SLIDER_LABEL = "Components (k)"
SEED_LABEL = "Seed"
SKLEARN_HEADING_TEXT = "scikit-learn"

# Streamlit sets these attributes on its root element; "notRunning" once a run finished.
APP_IDLE = ("[data-testid=stApp][data-test-connection-state=CONNECTED]"
            "[data-test-script-state=notRunning]")
EXCEPTION = "[data-testid=stException]"
ERROR_MESSAGE = "[data-testid=stAlertContentError]"  # st.error: how the page reports failures

ANIMATION = "[data-gmm-view=animation]"
PANELS = "[data-gmm-view=panels]"

# What the animation (dashboard/static/fit_view.js) has drawn: it counts the payloads it
# drew (``data-drawn``) and the point sets it received (``data-points-loads``). "[]"
# while nothing is drawn.
FIGURE_SIGNATURE_JS = f"""() => {{
    const root = document.querySelector({json.dumps(ANIMATION)});
    return root && root.dataset.drawn
        ? JSON.stringify([root.dataset.drawn, root.dataset.pointsLoads || "0"]) : "[]";
}}"""

# True once the animation shows a payload other than the one drawn at ``before``.
FIGURE_CHANGED_JS = (
    "(before) => {"
    f"  const now = ({FIGURE_SIGNATURE_JS})();"
    "  return now !== before && now !== '[]';"
    "}"
)

# How many components the animation draws: one "component j ellipses" trace each.
ELLIPSE_TRACES_JS = f"""() => {{
    const gd = document.querySelector({json.dumps(ANIMATION + " .js-plotly-plot")});
    return gd ? gd.data.filter(t => String(t.name).endsWith('ellipses')).length : 0;
}}"""

# How many point sets the animation has received since the page opened.
POINTS_LOADS_JS = f"""() => Number(
    document.querySelector({json.dumps(ANIMATION)}).dataset.pointsLoads || 0)"""


def labelled(page, test_id: str, label: str):
    """The Streamlit element ``test_id`` whose label reads exactly ``label``."""
    return page.locator(f"[data-testid={test_id}]").filter(
        has=page.get_by_test_id("stWidgetLabel").get_by_text(label, exact=True))


def slider_handle(page, label: str):
    """The focusable handle of a Streamlit slider (an ``input[type=range]`` in 1.67)."""
    return labelled(page, "stSlider", label).locator("input[type=range], [role=slider]").first


def animated_chart(page):
    """The animation's plot, once drawn (the main Explore figure)."""
    return page.locator(f"{ANIMATION} .js-plotly-plot").first


def play_button(page):
    """Play, which reads Pause while the animation runs."""
    return page.locator(f"{ANIMATION} .gmm-play")


def iteration_label(page):
    """"Iteration t of N" under the animation: the iteration shown."""
    return page.locator(f"{ANIMATION} .gmm-iteration")


def seed_step_up(page):
    """The "+" of the seed's number input: one click is one new seed and one rerun."""
    return labelled(page, "stNumberInput", SEED_LABEL).get_by_test_id("stNumberInputStepUp")


def fitted_rows(page) -> int:
    """The row count the page states above the figure ("… — 120 rows, fitted in …")."""
    text = page.get_by_test_id("stMarkdown").filter(has_text="rows, fitted in").first
    return int(re.search(r"— ([\d,]+) rows", text.inner_text()).group(1).replace(",", ""))


def download_animation(page, folder: Path) -> Path:
    """The Explore page's "Animated figure (HTML)" download, saved in ``folder``."""
    button = page.get_by_test_id("stDownloadButton").filter(has_text="Animated figure (HTML)")
    button.scroll_into_view_if_needed()
    with page.expect_download() as download:
        button.click()
    path = folder / "animation.html"
    download.value.save_as(path)
    return path
