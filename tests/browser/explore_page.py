"""Where things are on the Explore page, for the browser tests and the load benchmark.

Locators are built without awaiting in both Playwright APIs, so these helpers serve the
sync tests and the async benchmark alike; the JavaScript runs in the page.
"""

from __future__ import annotations

import json

K_SLIDER_LABEL = "Components (k)"
SEED_LABEL = "Seed"
SKLEARN_HEADING_TEXT = "scikit-learn"

# Streamlit sets these attributes on its root element; "notRunning" once a run finished.
APP_IDLE = ("[data-testid=stApp][data-test-connection-state=CONNECTED]"
            "[data-test-script-state=notRunning]")
EXCEPTION = "[data-testid=stException]"
ERROR_MESSAGE = "[data-testid=stAlertContentError]"  # st.error: how the page reports failures

# What the animated Plotly chart shows, cheap enough to evaluate every frame ("[]" while it
# is not drawn): its title and, for its traces and for those of its first animation frame
# (the starting point, which the seed moves even when two fits end alike), each trace's
# name, type and the head of its coordinates (base64 "bdata" as Plotly 6+ sends arrays).
FIGURE_SIGNATURE_JS = """() => {
    const head = v => v == null ? null
        : v.bdata !== undefined ? [v.dtype, v.bdata.length, v.bdata.slice(0, 64)]
        : v.length !== undefined ? [v.length, v[0], v[v.length - 1]] : v;
    const traces = list => (list || []).map(t => [t.name, t.type, head(t.x), head(t.y)]);
    const charts = Array.from(document.querySelectorAll('[data-testid=stPlotlyChart]'))
        .filter(chart => chart.querySelector('g.updatemenu-button') !== null)
        .map(chart => chart.querySelector('.js-plotly-plot'));
    return JSON.stringify(charts.map(gd => {
        const frames = (gd._transitionData && gd._transitionData._frames) || [];
        const title = gd.layout && gd.layout.title;
        return [title && title.text !== undefined ? title.text : title || '',
                traces(gd.data), frames.length, frames.length ? traces(frames[0].data) : []];
    }));
}"""

# True once a finished run shows a figure other than ``before`` (a signature from above).
FIGURE_CHANGED_JS = (
    "(before) => {"
    f"  const idle = document.querySelector({json.dumps(APP_IDLE)}) !== null;"
    f"  const now = ({FIGURE_SIGNATURE_JS})();"
    "  return idle && now !== before && now !== '[]';"
    "}"
)


# How many components the animated chart draws: one "component j ellipses" trace each.
ELLIPSE_TRACES_JS = """() => {
    const chart = Array.from(document.querySelectorAll('[data-testid=stPlotlyChart]'))
        .find(chart => chart.querySelector('g.updatemenu-button') !== null);
    const gd = chart && chart.querySelector('.js-plotly-plot');
    return gd ? gd.data.filter(t => String(t.name).endsWith('ellipses')).length : 0;
}"""

def labelled(page, test_id: str, label: str):
    """The Streamlit element ``test_id`` whose label reads exactly ``label``."""
    return page.locator(f"[data-testid={test_id}]").filter(
        has=page.get_by_test_id("stWidgetLabel").get_by_text(label, exact=True))


def slider_handle(page, label: str):
    """The focusable handle of a Streamlit slider (an ``input[type=range]`` in 1.67)."""
    return labelled(page, "stSlider", label).locator("input[type=range], [role=slider]").first


def animated_chart(page):
    """The Plotly chart that has animation buttons (the main Explore figure)."""
    return page.get_by_test_id("stPlotlyChart").filter(
        has=page.locator("g.updatemenu-button")).first


def play_button(page):
    return animated_chart(page).locator("g.updatemenu-button").filter(has_text="Play")


def iteration_label(page):
    """The text over the Plotly slider that names the frame shown (its current value)."""
    return animated_chart(page).locator(".slider-group > text.slider-label")


def seed_step_up(page):
    """The "+" of the seed's number input: one click is one new seed and one rerun."""
    return labelled(page, "stNumberInput", SEED_LABEL).get_by_test_id("stNumberInputStepUp")
