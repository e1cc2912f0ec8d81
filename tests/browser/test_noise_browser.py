"""The noise component in the browser's figure (dashboard/static/fit_view.js), on the
offline export of a fit (no server): its points are open grey circles, and "Show as
table" ends with its weight."""

from __future__ import annotations

import re

import numpy as np
import pytest
from playwright.sync_api import expect

from dashboard.exports import animation_html
from dashboard.figures import NOISE_COLOR, plot_data
from dashboard.fit_payload import animation_payload
from gmm_core import GMM
from tests.browser.explore_page import ANIMATION, VIEWPORT

pytestmark = pytest.mark.browser

PLOT = f"{ANIMATION} .gmm-plot"
# The drawn points' symbols and the colour their codes map to, per point.
POINTS_JS = f"""() => {{
    const trace = document.querySelector({PLOT!r}).data.find(t => t.name === 'data');
    const scale = trace.marker.colorscale;
    return Array.from(trace.marker.color, (code, i) => [
        Array.isArray(trace.marker.symbol) ? trace.marker.symbol[i] : trace.marker.symbol,
        scale[code][1]]);
}}"""


def hex_rgb(colour: str) -> str:
    return "rgb(" + ",".join(str(int(colour[i:i + 2], 16)) for i in (1, 3, 5)) + ")"


def test_noise_points_are_open_grey_circles_and_the_table_lists_the_noise(browser, tmp_path):
    rng = np.random.default_rng(0)
    X = np.vstack([rng.normal([0, 0], 1, (300, 2)), rng.normal([8, 3], [1.5, 0.7], (300, 2)),
                   rng.uniform([-15, -15], [25, 20], (60, 2))])
    model = GMM(k=2, noise=True, seed=0).fit(X)
    trace = model.trace_
    page_file = tmp_path / "animation.html"
    page_file.write_text(animation_html(animation_payload(plot_data(X, trace.sample_index),
                                                          trace), "export"), encoding="utf-8")
    context = browser.new_context(viewport=VIEWPORT)
    try:
        page = context.new_page()
        page.goto(page_file.as_uri())
        expect(page.locator(PLOT)).to_have_attribute("aria-label", re.compile("iteration"))
        drawn = page.evaluate(POINTS_JS)
        is_noise = model.predict(X[trace.sample_index]) == -1
        assert len(drawn) == len(is_noise) and is_noise.sum() >= 50
        symbols = np.array([symbol for symbol, _ in drawn])
        np.testing.assert_array_equal(symbols == "circle-open", is_noise)
        # A sure noise point is the full noise grey (an unsure one paler, towards white).
        noise_colours = {colour for (_, colour), noise in zip(drawn, is_noise, strict=True)
                         if noise}
        assert hex_rgb(NOISE_COLOR) in noise_colours

        page.locator(f"{ANIMATION} .gmm-table-toggle").click()
        rows = page.locator(f"{ANIMATION} .gmm-table tbody tr")
        expect(rows).to_have_count(3)
        expect(rows.nth(2).locator("th")).to_have_text(re.compile(r"^\s*noise$"))
        weights = [float(w) for w in rows.locator("td:nth-child(2)").all_inner_texts()]
        assert weights[2] == pytest.approx(model.noise_weight_, rel=1e-4)
        assert sum(weights) == pytest.approx(1.0, abs=1e-4)
    finally:
        context.close()
