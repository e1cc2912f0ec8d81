"""The Model selection, The math and The data pages run by Streamlit's AppTest: each
renders on the default data and on SDSS-format data, its controls change what it shows,
the sidebar's view follows the user from page to page, and nothing raises."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from spec4000_fixture import write_spec4000
from streamlit.testing.v1 import AppTest
from test_app_explore import _own_data_home, assert_clean  # noqa: F401 (an autouse fixture)

from dashboard import selection_view
from dashboard.plain_text import plain

ROOT = Path(__file__).resolve().parents[1]
APP = str(ROOT / "streamlit_app.py")
MODEL_SELECTION = "pages/model_selection.py"
EXPLORE = "pages/explore.py"
MATH = "pages/the_math.py"
DATA = "pages/the_data.py"
PAGES = {MODEL_SELECTION: "Model selection", MATH: "The math", DATA: "The data"}
RUN_SWEEP = "Run the sweep"


@pytest.fixture
def sdss_file(data_home):
    return write_spec4000(data_home, n=200)


def open_page(page: str, query: dict | None = None) -> AppTest:
    """A new session that opens ``page`` of the multipage app, with ``query`` in its URL."""
    at = AppTest.from_file(APP, default_timeout=120)
    at.query_params.update(query or {})
    at.switch_page(page)
    return at.run()


def charts(at: AppTest) -> dict[str, dict]:
    return {chart.key: json.loads(chart.proto.spec) for chart in at.get("plotly_chart")}


def formulas(at: AppTest) -> list[str]:
    return [element.value for element in at.latex]


def text(at: AppTest) -> str:
    return " ".join(e.value for e in [*at.markdown, *at.caption, *at.info, *at.success,
                                      *at.warning])


# ------------------------------------------------------------------ every page renders
@pytest.mark.parametrize("page", PAGES)
def test_every_page_renders_on_the_default_data(page):
    at = open_page(page)
    assert_clean(at)
    assert at.title[0].value == PAGES[page]
    assert at.selectbox(key="dataset").value == "astroml_fig69"  # the shared sidebar
    assert at.query_params["dataset"] == "astroml_fig69"


@pytest.mark.parametrize("page", PAGES)
def test_every_page_renders_on_sdss_data(page, sdss_file):
    at = open_page(page)
    assert_clean(at)
    assert at.selectbox(key="dataset").value == "sdss"
    assert "SDSS corrected spectra" in text(at)


def test_the_sidebar_keeps_its_settings_from_page_to_page():
    at = open_page(MATH, {"dataset": "iris", "k": "5", "covariance_type": "diag"})
    at.slider(key="k").set_value(4).run()
    for page in (DATA, MODEL_SELECTION, EXPLORE):
        at.switch_page(page).run()
        assert_clean(at)
        assert at.selectbox(key="dataset").value == "iris"
        assert (at.slider(key="k").value, at.selectbox(key="covariance_type").value) == (
            4, "diag")
        assert at.query_params["k"] == "4"


# ------------------------------------------------------------------ model selection
def run_sweep(at: AppTest, k_max: int, types=None, n_init: int = 1) -> AppTest:
    at.slider(key="sweep_k_max").set_value(k_max)
    if types is not None:
        at.multiselect(key="sweep_types").set_value(types)
    at.number_input(key="sweep_n_init").set_value(n_init)
    (submit,) = [b for b in at.button if b.label == RUN_SWEEP]
    return submit.click().run()


def sweep_table(at: AppTest):
    return at.dataframe[0].value


def test_the_sweep_runs_with_a_progress_bar_and_a_wider_one_reuses_its_fits(monkeypatch):
    reports = []
    feed = selection_view.SweepProgress.__call__
    monkeypatch.setattr(selection_view.SweepProgress, "__call__",
                        lambda self, done, total: reports.append((done, total))
                        or feed(self, done, total))
    at = open_page(MODEL_SELECTION, {"seed": "101"})
    assert "press **Run the sweep**" in at.info[0].value
    assert not at.dataframe

    run_sweep(at, 3, ["full", "spherical"])
    assert_clean(at)
    assert reports[-1] == (6, 6)
    assert sweep_table(at).shape == (3, 2)
    assert at.success[0].value.startswith("Lowest BIC: k = ")
    chart = charts(at)["sweep_chart"]
    assert {t["name"] for t in chart["data"] if t["mode"] == "lines+markers"} == {
        "full", "spherical"}
    assert "0 from earlier sweeps on this data, 6 new" in text(at)

    run_sweep(at, 5, ["full", "spherical"])
    assert_clean(at)
    assert sweep_table(at).shape == (5, 2)
    assert "6 from earlier sweeps on this data, 4 new" in text(at)


def test_the_best_model_opens_on_the_explore_page():
    at = open_page(MODEL_SELECTION, {"dataset": "blobs", "k": "1", "covariance_type": "tied"})
    run_sweep(at, 5, n_init=2)
    assert_clean(at)
    match = re.search(r"k = (\d+) with (\w+) covariance", at.success[0].value)
    best_k, best_type = int(match.group(1)), match.group(2)
    assert best_k == 3  # three blobs
    button = at.button(key="open_best")
    assert button.label == f"Open the best model on the Explore page (k = {best_k}, {best_type})"
    assert "one start instead of the sweep's restarts" in text(at)

    button.click().run()
    assert_clean(at)
    assert at.title[0].value == "GMM Explorer"
    assert at.slider(key="k").value == best_k
    assert at.selectbox(key="covariance_type").value == best_type
    assert (at.query_params["k"], at.query_params["covariance_type"]) == (str(best_k),
                                                                           best_type)
    assert "blobs" in at.markdown[0].value.lower()


def test_choosing_the_aic_names_its_best_model_on_the_button():
    at = open_page(MODEL_SELECTION)
    run_sweep(at, 6)
    aic_k, aic_type = re.search(r"Lowest AIC: k = (\d+) with (\w+)",
                                at.info[0].value).groups()
    at.radio(key="sweep_criterion").set_value("aic").run()
    assert_clean(at)
    assert at.button(key="open_best").label.endswith(f"(k = {aic_k}, {aic_type})")
    assert at.subheader[0].value == "AIC by k and covariance type"


def test_a_sweep_without_a_covariance_type_is_a_message():
    at = open_page(MODEL_SELECTION)
    run_sweep(at, 3, [])
    assert not at.exception
    assert "choose at least one covariance type" in at.error[0].value


def test_the_sweep_runs_on_sdss_data(sdss_file):
    at = open_page(MODEL_SELECTION)
    run_sweep(at, 3, ["full", "diag"])
    assert_clean(at)
    assert sweep_table(at).shape == (3, 2)


# ------------------------------------------------------------------ the math
def step(at: AppTest, key: str) -> AppTest:
    return at.button(key=key).click().run()


def test_e_and_m_steps_alternate_and_change_the_numbers_shown():
    at = open_page(MATH)
    assert_clean(at)
    assert len(formulas(at)) >= 7  # the derivations
    assert at.button(key="m_step").disabled and not at.button(key="e_step").disabled
    assert "**Iteration 0**, 0 half-steps done" in text(at)
    seen = [formulas(at)]
    for key, iteration in (("e_step", 0), ("m_step", 1), ("e_step", 1), ("m_step", 2)):
        step(at, key)
        assert_clean(at)
        assert formulas(at) != seen[-1]
        seen.append(formulas(at))
        assert f"**Iteration {iteration}**" in text(at)
        assert f"{len(seen) - 1} half-step{'' if len(seen) == 2 else 's'} done" in text(at)
        other = "m_step" if key == "e_step" else "e_step"
        assert at.button(key=key).disabled and not at.button(key=other).disabled
    assert any(r"\tfrac{1}{N}\log L &= " in line for line in seen[-1])
    assert any(r"\mu^{\text{new}} - \mu^{\text{old}}" in line for line in seen[-1])
    assert any(r"\log L^{(t-1)}" in line for line in seen[-1])
    assert charts(at)["step_figure"]["layout"]["title"]["text"] == (
        "Iteration 2: after the M-step")

    step(at, "restart")
    assert "**Iteration 0**, 0 half-steps done" in text(at)
    assert formulas(at) == seen[0]


def filled_responsibility(at: AppTest) -> str:
    """The E-step's last line: γ for the chosen point and component, with its numbers."""
    (line,) = [line for line in formulas(at) if r"\gamma_{" in line and "&= e^{" in line]
    return line


def test_the_e_step_numbers_follow_the_chosen_point_and_component():
    at = open_page(MATH)
    step(at, "e_step")
    responsibility = filled_responsibility(at)
    at.number_input(key="math_point").set_value(17).run()
    assert_clean(at)
    assert any(r"x_{17} = " in line for line in formulas(at))
    at.number_input(key="math_component").set_value(2).run()
    now = filled_responsibility(at)
    assert now != responsibility and r"\gamma_{17,2}" in now
    assert any(r"N_{2} = " in line for line in formulas(at))


def test_changing_the_fit_in_the_sidebar_starts_the_step_through_again():
    at = open_page(MATH, {"k": "4"})
    at.number_input(key="math_component").set_value(3).run()
    step(at, "e_step")
    at.slider(key="k").set_value(2).run()
    assert_clean(at)
    assert "**Iteration 0**, 0 half-steps done" in text(at)
    assert at.number_input(key="math_component").value == 1  # kept within k


def test_the_density_and_uncertainty_views_show_the_fitted_mixture():
    at = open_page(MATH)
    views = charts(at)
    assert views["density"]["data"][0]["type"] == "contour"
    assert views["uncertainty"]["layout"]["title"]["text"].startswith("Uncertainty")
    at.slider(key="k").set_value(2).run()
    assert charts(at)["density"]["data"] != views["density"]["data"]


def test_the_math_page_steps_through_sdss_data_and_the_replay(sdss_file):
    at = open_page(MATH)
    step(at, "e_step")
    step(at, "m_step")
    assert_clean(at)
    at = open_page(MATH, {"replay": "true"})
    assert not at.exception


# ------------------------------------------------------------------ the data
def test_the_data_page_previews_and_compares_with_the_truth():
    at = open_page(DATA)
    assert_clean(at)
    assert at.dataframe[0].value.shape[0] == 20
    assert [m.label for m in at.metric] == ["Adjusted Rand index (truth)"]
    assert "spectrum" not in charts(at)
    histograms = charts(at)["histograms"]
    at.multiselect(key="data_histogram_features").set_value(["x"]).run()
    assert_clean(at)
    assert len(charts(at)["histograms"]["data"]) < len(histograms["data"])


def test_iris_clusters_are_compared_with_the_species():
    at = open_page(DATA, {"dataset": "iris", "k": "3"})
    assert_clean(at)
    (metric,) = at.metric
    assert metric.label == "Adjusted Rand index (species)" and float(metric.value) > 0.5
    table = at.dataframe[1].value
    assert set(table.columns) == {"setosa", "versicolor", "virginica"}
    assert table.to_numpy().sum() == 150


def test_sdss_spectra_follow_the_chosen_object(sdss_file):
    at = open_page(DATA)
    assert_clean(at)
    before = charts(at)
    assert before["spectrum"]["layout"]["title"]["text"] == "Object 0"
    assert before["spectrum"]["data"][0]["name"] == "masked pixels"
    assert len(before["mean_spectra"]["data"]) == at.slider(key="k").value
    assert [m.label for m in at.metric] == [f"Adjusted Rand index ({plain('spec_cln')})",
                                           f"Adjusted Rand index ({plain('lineindex_cln')})"]
    at.number_input(key="data_object").set_value(11).run()
    assert_clean(at)
    after = charts(at)["spectrum"]
    assert after["layout"]["title"]["text"] == "Object 11"
    assert after["data"][1]["y"] != before["spectrum"]["data"][1]["y"]
    assert f"Object 11: {plain('spec_cln')} " in text(at)


def test_the_data_page_with_a_noise_component_keeps_its_rows_apart(sdss_file):
    at = open_page(DATA, {"noise": "true"})
    assert_clean(at)
    k = at.slider(key="k").value
    names = {trace["name"] for trace in charts(at)["histograms"]["data"]}
    # The fixture's spectra have rows no Gaussian explains: the noise takes them.
    assert "noise" in names
    assert names <= {f"cluster {j}" for j in range(k)} | {"noise", "not fitted"}
    assert len(charts(at)["mean_spectra"]["data"]) <= k  # noise has no mean spectrum
    clusters = at.dataframe[-1].value
    assert -1 in clusters.index  # the cross-table's noise row, labelled as predict does
    assert clusters.to_numpy().sum() == 200
