"""The Model selection, The math and The data pages run by Streamlit's AppTest: each
renders on the default data and on SDSS-format data, its controls change what it shows,
the sidebar's view follows the user from page to page, and nothing raises."""

from __future__ import annotations

import json
import re
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import numpy as np
import pytest
from spec4000_fixture import write_spec4000
from streamlit.testing.v1 import AppTest
from test_app_explore import _own_data_home, assert_clean  # noqa: F401 (an autouse fixture)
from test_figures import numbers

from dashboard import selection_view
from dashboard.pipeline import prepare_data
from dashboard.plain_text import plain
from dashboard.query_state import default_view, view_from_query
from gmm_core import model_names
from gmm_core.datasets import load_dataset
from gmm_core.model_names import MODELS
from gmm_core.selection import SweepResult, sweep

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


def criterion_table(at: AppTest):
    """The criterion by k and model (the second table: the top 3 come first)."""
    return at.dataframe[1].value


def test_the_sweep_runs_with_a_progress_bar_and_a_wider_one_reuses_its_fits(monkeypatch):
    reports = []
    feed = selection_view.SweepProgress.__call__
    monkeypatch.setattr(selection_view.SweepProgress, "__call__",
                        lambda self, done, total: reports.append((done, total))
                        or feed(self, done, total))
    at = open_page(MODEL_SELECTION, {"seed": "101"})
    assert "press **Run the sweep**" in at.info[0].value
    assert not at.dataframe
    assert at.multiselect(key="sweep_types").value == list(MODELS)  # mclust's default

    run_sweep(at, 3, ["VEV", "spherical"])
    assert_clean(at)
    assert reports[-1] == (6, 6)
    assert criterion_table(at).shape == (3, 2)
    assert at.success[0].value.startswith("Lowest BIC: k = ")
    chart = charts(at)["sweep_chart"]
    assert [t["name"] for t in chart["data"] if t["mode"] == "lines+markers"] == [
        "VEV", "VII (spherical)"]
    assert "0 from earlier sweeps on this data, 6 new" in text(at)

    run_sweep(at, 5, ["VEV", "spherical"])
    assert_clean(at)
    assert criterion_table(at).shape == (5, 2)
    assert "6 from earlier sweeps on this data, 4 new" in text(at)


def the_sweep(query: dict, k_max: int, types) -> SweepResult:
    """The sweep the page runs for ``query``'s view, by gmm_core.selection directly."""
    view, _ = view_from_query(query, default_view(False), [query["dataset"]])
    request = view.request
    dataset = load_dataset(query["dataset"])
    features = request.features or tuple(dataset.default_view)
    X = prepare_data(dataset, request.with_changes(features=features)).X
    return sweep(X, range(1, k_max + 1), types, seed=request.seed, tol=request.tol,
                 reg_covar=request.reg_covar, max_iters=request.max_iters,
                 init=request.init, noise=request.noise, n_jobs=1)


def test_the_chart_and_top_three_are_the_sweeps_for_each_criterion():
    query = {"dataset": "iris", "seed": "3", "palette": "okabe_ito", "present": "false"}
    types = ["EII", "VEI", "EEV", "VEV", "full"]
    at = open_page(MODEL_SELECTION, query)
    run_sweep(at, 4, types)
    assert_clean(at)
    result = the_sweep(query, 4, types)
    for criterion, name in (("bic", "BIC"), ("icl", "ICL"), ("aic", "AIC")):
        at.radio(key="sweep_criterion").set_value(criterion).run()
        assert_clean(at)
        k, best = result.best(criterion)
        assert at.success[0].value.startswith(
            f"Lowest {name}: k = {k} with {model_names.label(best)} covariance")
        chart = charts(at)["sweep_chart"]
        assert chart["layout"]["yaxis"]["title"]["text"] == f"{name} (lower is better)"
        lines = [t for t in chart["data"] if t["mode"] == "lines+markers"]
        for model, line in zip(types, lines, strict=True):
            assert line["name"] == model_names.label(model)
            assert line["line"]["color"] == selection_view.model_style(model, "okabe_ito")[
                "color"]
            rows = result.table[result.table["covariance_type"] == model]
            np.testing.assert_allclose(numbers(line["y"]), rows[criterion], rtol=1e-9)
        assert at.subheader[0].value == f"Top 3 models by {name}"
        top = at.dataframe[0].value
        ranked = result.table.sort_values(criterion, kind="stable").head(3)
        assert top["model,k"].tolist() == [
            f"{model_names.mclust_name(t)},{k}"
            for t, k in zip(ranked["covariance_type"], ranked["k"], strict=True)]
        np.testing.assert_allclose(top[name], ranked[criterion], rtol=1e-9)
        np.testing.assert_allclose(top["difference to the best"],
                                   ranked[criterion] - ranked[criterion].min(), atol=1e-6)
        assert criterion_table(at).columns.tolist() == [model_names.label(t) for t in types]


def explore_links(at: AppTest) -> dict[str, dict[str, str]]:
    """The page's links to the Explore page, by their text: each one's query."""
    links = {}
    for element in at.markdown:
        for name, target in re.findall(r"\[([^\]]+)\]\((\./\?[^)]+)\)", element.value):
            assert urlsplit(target).path == "./"  # the Explore page, beside this one
            links[name.replace("\\", "")] = {
                key: values[-1] for key, values in parse_qs(urlsplit(target).query).items()}
    return links


def labelled(at: AppTest, label: str):
    """The page's box of this label (the boxes of "Open any model" have no key: a new
    sweep or criterion starts them on its best model)."""
    (box,) = [box for box in at.main.selectbox if box.label == label]
    return box


def test_links_open_a_model_on_the_explore_page_with_the_view_and_its_look():
    query = {"dataset": "blobs", "k": "7", "seed": "5", "standardize": "true",
             "palette": "okabe_ito", "present": "true", "color": "uncertainty"}
    at = open_page(MODEL_SELECTION, query)
    run_sweep(at, 4, ["EII", "VEV", "tied"])
    assert_clean(at)
    links = explore_links(at)
    top = at.table[0].value  # presented: an HTML table
    assert list(links)[:3] == top["model,k"].tolist()
    for model_k in top["model,k"]:
        model, k = model_k.split(",")
        params = links[model_k]
        assert (params["covariance_type"], params["k"]) == (
            model_names.covariance_type_of(model), k)
        assert {key: params[key] for key in ("dataset", "seed", "standardize", "palette",
                                             "present", "color", "replay")} == {
            "dataset": "blobs", "seed": "5", "standardize": "true", "palette": "okabe_ito",
            "present": "true", "color": "uncertainty", "replay": "false"}
    # Any model: the boxes start on the best, and the link follows them.
    model_box, k_box = labelled(at, "Model"), labelled(at, "k")
    assert (k_box.value, model_box.value) == the_sweep(query, 4, ["EII", "VEV", "tied"]).best()
    model_box.set_value("VEV").run()
    labelled(at, "k").set_value(2).run()
    chosen = explore_links(at)["its link"]
    assert (chosen["covariance_type"], chosen["k"]) == ("VEV", "2")
    assert at.button(key="open_model").label == "Open VEV with k = 2 on the Explore page"


def test_the_chosen_model_opens_on_the_explore_page():
    at = open_page(MODEL_SELECTION, {"dataset": "blobs", "k": "1", "covariance_type": "tied"})
    run_sweep(at, 5, n_init=2)
    assert_clean(at)
    match = re.search(r"k = (\d+) with (\w+)", at.success[0].value)
    best_k, best_model = int(match.group(1)), match.group(2)
    assert best_k == 3  # three blobs
    button = at.button(key="open_model")
    assert button.label == (f"Open {model_names.label(model_names.covariance_type_of(best_model))}"
                            f" with k = {best_k} on the Explore page")
    assert "one start instead of the sweep's restarts" in text(at)

    labelled(at, "Model").set_value("EVE").run()
    at.button(key="open_model").click().run()
    assert_clean(at)
    assert at.title[0].value == "GMM Explorer"
    assert at.slider(key="k").value == best_k
    assert at.selectbox(key="covariance_type").value == "EVE"
    assert (at.query_params["k"], at.query_params["covariance_type"]) == (str(best_k), "EVE")
    assert "blobs" in at.markdown[0].value.lower()


def test_a_sweep_with_the_sidebars_noise_component_opens_with_it_on_explore():
    query = {"dataset": "blobs", "seed": "4", "noise": "true"}
    types = ["EII", "VEV", "full"]
    at = open_page(MODEL_SELECTION, query)
    assert at.checkbox(key="noise").value
    run_sweep(at, 3, types)
    assert_clean(at)
    assert "Every fit has a **noise component**" in text(at)
    result = the_sweep(query, 3, types)
    assert result.settings.noise
    shown = criterion_table(at)
    for model in types:
        np.testing.assert_allclose(shown[model_names.label(model)].to_numpy(),
                                   result.by_type("bic")[model].to_numpy(), rtol=1e-9)
    # Every link carries the noise component, and reads back as the model swept.
    links = explore_links(at)
    assert links and all(params["noise"] == "true" for params in links.values())
    for params in links.values():
        opened, problems = view_from_query(params, default_view(False), ["blobs"])
        assert not problems
        assert opened.request.noise and opened.request.algorithm == "em"
        assert (opened.request.k, opened.request.covariance_type) in set(
            zip(result.table["k"], result.table["covariance_type"], strict=True))
    # Without it, the same sweep is another one: no link carries it.
    at.checkbox(key="noise").uncheck().run()
    assert_clean(at)
    assert "Every fit has a **noise component**" not in text(at)
    assert all("noise" not in params for params in explore_links(at).values())
    assert not np.allclose(criterion_table(at)[model_names.label("full")].to_numpy(),
                           shown[model_names.label("full")].to_numpy())
    at.checkbox(key="noise").check().run()
    labelled(at, "Model").set_value("VEV").run()
    at.button(key="open_model").click().run()
    assert_clean(at)
    assert at.title[0].value == "GMM Explorer"
    assert at.checkbox(key="noise").value
    assert (at.query_params["noise"], at.query_params["covariance_type"]) == ("true", "VEV")


def test_one_feature_sweeps_e_and_v():
    at = open_page(MODEL_SELECTION, {"dataset": "iris", "x": "petal_length", "y": "none"})
    assert at.multiselect(key="sweep_types").value == ["E", "V"]
    run_sweep(at, 3)
    assert_clean(at)
    assert criterion_table(at).columns.tolist() == ["E", "V"]
    at.switch_page(EXPLORE).run()
    at.selectbox(key="y").set_value("petal_width").run()
    at.switch_page(MODEL_SELECTION).run()
    assert at.multiselect(key="sweep_types").value == list(MODELS)


def test_a_sweep_without_a_covariance_type_is_a_message():
    at = open_page(MODEL_SELECTION)
    run_sweep(at, 3, [])
    assert not at.exception
    assert "choose at least one covariance type" in at.error[0].value


def test_the_sweep_runs_on_sdss_data(sdss_file):
    at = open_page(MODEL_SELECTION)
    run_sweep(at, 3, ["full", "diag"])
    assert_clean(at)
    assert criterion_table(at).shape == (3, 2)


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
