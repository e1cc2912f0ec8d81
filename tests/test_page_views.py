"""The pages' helpers without a server: the sweep's chart and cache, the math page's
formulas and figures, the data page's figures and tables, the rows a fit used, the link."""

from __future__ import annotations

import math
from dataclasses import replace
from urllib.parse import parse_qs, urlsplit

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest
from sklearn.metrics import adjusted_rand_score
from test_figures import numbers, wire

from dashboard import data_view, math_view, selection_view
from dashboard.figures import plot_data
from dashboard.fitted_rows import fitted_rows, row_labels, row_responsibilities
from dashboard.navigation import view_link
from dashboard.pipeline import prepare_data, run_fit
from dashboard.query_state import ExploreView, view_to_query
from gmm_core import FitRequest, model_names
from gmm_core.datasets import Dataset, FeatureInfo, load_dataset
from gmm_core.selection import sweep
from gmm_core.stepper import EMStepper

END_ALIGNED = r" \end{aligned}"


def validated(figure: go.Figure) -> go.Figure:
    return go.Figure(figure.to_dict())  # raises on any invalid property or value


@pytest.fixture(scope="module")
def blobs():
    return load_dataset("blobs", n_components=3, n_samples=300, seed=2)


@pytest.fixture(scope="module")
def blob_fit(blobs):
    request = FitRequest(dataset="blobs", features=("x", "y"), k=3)
    prepared = prepare_data(blobs, request)
    return request, prepared, run_fit(prepared, request)


SMALL_SWEEP_MODELS = ("EII", "spherical", "EEI", "full")


@pytest.fixture(scope="module")
def small_sweep(blobs):
    return sweep(blobs.matrix(["x", "y"]), k_values=range(1, 5),
                 covariance_types=SMALL_SWEEP_MODELS, n_jobs=1)


def with_gaps() -> Dataset:
    """Eight rows, two of them with a NaN: the fit leaves rows 2 and 5 out."""
    frame = pd.DataFrame({"a": [0.0, 0.1, np.nan, 5.0, 5.1, 5.2, 0.2, 4.9],
                          "b": [0.0, 0.2, 1.0, 5.0, np.nan, 5.1, 0.1, 5.3]})
    features = {name: FeatureInfo(name, name) for name in frame}
    known = {"truth": pd.Series(["low", "low", "low", "high", "high", "high", "low", "high"])}
    return Dataset("gaps", "Data with gaps", frame, features, ("a", "b"), known_labels=known)


# ---------------------------------------------------------------- model selection
def test_sweep_request_refuses_what_the_form_cannot_ask_for():
    assert selection_view.SweepRequest(k_max=12, n_init=20).k_max == 12
    with pytest.raises(ValueError, match="k_max must be a whole number from 1 to 12"):
        selection_view.SweepRequest(k_max=13)
    with pytest.raises(ValueError, match="at least one covariance type"):
        selection_view.SweepRequest(covariance_types=())
    with pytest.raises(ValueError, match="n_init"):
        selection_view.SweepRequest(n_init=0)


@pytest.mark.parametrize("criterion", ["bic", "icl", "aic"])
def test_the_sweep_chart_has_one_line_per_model_and_stars_the_best(small_sweep, criterion):
    spec = wire(validated(selection_view.sweep_figure(small_sweep, criterion, "okabe_ito")))
    lines = [t for t in spec["data"] if t["mode"] == "lines+markers"]
    assert [t["name"] for t in lines] == ["EII", "VII (spherical)", "EEI", "VVV (full)"]
    styles = [{"color": t["line"]["color"], "dash": t["line"]["dash"],
               "symbol": t["marker"]["symbol"][0]} for t in lines]
    assert styles == [selection_view.model_style(m, "okabe_ito") for m in SMALL_SWEEP_MODELS]
    assert spec["layout"]["yaxis"]["title"]["text"] == (
        f"{selection_view.CRITERION_TITLES[criterion]} (lower is better)")
    (star,) = [t for t in spec["data"] if t["marker"].get("symbol") == "star"]
    k, covariance_type = small_sweep.best(criterion)
    assert numbers(star["x"]).tolist() == [k]
    assert numbers(star["y"])[0] == pytest.approx(small_sweep.table[criterion].min())
    (line,) = [t for t in lines if t["name"] == model_names.label(covariance_type)]
    assert numbers(line["y"]).min() == pytest.approx(numbers(star["y"])[0])
    for model, line in zip(SMALL_SWEEP_MODELS, lines, strict=True):
        rows = small_sweep.table[small_sweep.table["covariance_type"] == model]
        np.testing.assert_allclose(numbers(line["y"]), rows[criterion])


def test_a_sweep_under_mclusts_names_is_drawn_as_under_scikit_learns(blobs):
    result = sweep(blobs.matrix(["x", "y"]), k_values=range(1, 3), covariance_types=["VVV"],
                   n_jobs=1)
    (line, _) = wire(validated(selection_view.sweep_figure(result)))["data"]
    assert line["name"] == "VVV"
    assert line["line"]["color"] == selection_view.model_style("full")["color"]


def test_the_criterion_table_and_the_summary_name_the_best_model(small_sweep):
    table = selection_view.criterion_table(small_sweep, "icl")
    assert list(table.columns) == ["EII", "VII (spherical)", "EEI", "VVV (full)"]
    assert table.shape == (4, 4) and list(table.index) == [1, 2, 3, 4]
    k, covariance_type = small_sweep.best("icl")
    assert table.loc[k, model_names.label(covariance_type)] == table.to_numpy().min()
    assert selection_view.best_summary(small_sweep, "icl").startswith(
        f"Lowest ICL: k = {k} with {model_names.label(covariance_type)} covariance")


@pytest.mark.parametrize("criterion", ["bic", "icl", "aic"])
def test_the_top_three_are_mclusts_with_their_differences_to_the_best(small_sweep, criterion):
    top = selection_view.top_models(small_sweep, criterion)
    ranked = small_sweep.table.sort_values(criterion).head(3)
    name = selection_view.CRITERION_TITLES[criterion]
    assert top["model,k"].tolist() == [f"{model_names.mclust_name(t)},{k}" for t, k in
                                       zip(ranked["covariance_type"], ranked["k"], strict=True)]
    np.testing.assert_allclose(top[name], ranked[criterion])
    np.testing.assert_allclose(top["difference to the best"],
                               ranked[criterion] - ranked[criterion].iloc[0])
    assert top["difference to the best"].iloc[0] == 0
    assert (top["k"].iloc[0], top["covariance_type"].iloc[0]) == small_sweep.best(criterion)


def test_a_singular_fit_is_not_among_the_top_three(small_sweep):
    table = small_sweep.table.copy()
    lowest = table["bic"].idxmin()
    table.loc[lowest, "singular"] = "component 0: on a point"
    marked = replace(small_sweep, table=table)
    top = selection_view.top_models(marked, "bic")
    assert top["difference to the best"].iloc[0] == 0
    assert (top["k"].iloc[0], top["covariance_type"].iloc[0]) == marked.best("bic")
    singular = table.loc[lowest]
    assert (f"{model_names.mclust_name(singular['covariance_type'])},{singular['k']}"
            not in top["model,k"].tolist())


def test_fits_stopped_at_the_cap_are_listed(blobs):
    capped = sweep(blobs.matrix(["x", "y"]), k_values=[2, 3], covariance_types=["full"],
                   tol=1e-14, max_iters=2, n_jobs=1)
    assert capped.table["converged"].tolist() == [False, False]
    assert selection_view.unconverged(capped) == ["VVV (full) at k = 2", "VVV (full) at k = 3"]
    assert selection_view.unconverged(sweep(blobs.matrix(["x", "y"]), k_values=[3],
                                            covariance_types=["full"], n_jobs=1)) == []


def test_run_sweep_reuses_the_fits_of_earlier_sweeps_on_the_same_data(blobs, monkeypatch):
    request = FitRequest(dataset="blobs", features=("x", "y"), k=2, seed=5)
    monkeypatch.setattr(selection_view.cache, "prepared",
                        lambda r: prepare_data(blobs, r))
    calls = []
    small = selection_view.SweepRequest(k_max=2, covariance_types=("full", "diag"))
    first = selection_view.run_sweep(request, "blobs-test", small,
                                     lambda done, total: calls.append((done, total)))
    assert calls[-1] == (4, 4) and first.n_cached == 0
    wider = selection_view.run_sweep(request, "blobs-test",
                                     selection_view.SweepRequest(k_max=3,
                                                                 covariance_types=("full", "diag")))
    assert wider.n_cached == 4 and len(wider.table) == 6
    direct = sweep(blobs.matrix(["x", "y"]), range(1, 4), ("full", "diag"), seed=5,
                   tol=request.tol, init=request.init, n_jobs=1)
    pd.testing.assert_frame_equal(wider.table, direct.table)


# ---------------------------------------------------------------- the math
@pytest.mark.parametrize(("value", "text"), [
    (17280.3, "17280"), (-8549.902, "-8550"), (0.37, "0.37"), (0.0001, "0.0001"),
    (0.0, "0"), (1e-6, r"1 \times 10^{-6}"), (-2.5e-9, r"-2.5 \times 10^{-9}"),
    (12345678.0, r"1.235 \times 10^{7}"), (math.inf, r"\infty"), (-math.inf, r"-\infty"),
])
def test_numbers_are_written_for_latex(value, text):
    assert math_view.tex_number(value) == text


def test_a_power_that_underflows_is_written_without_its_value():
    assert math_view.tex_exp(-2.0) == r"e^{-2} = 0.1353"
    assert math_view.tex_exp(-800.0) == r"e^{-800}"


def test_wide_formulas_are_split_in_aligned_lines():
    assert math_view.aligned_lines("a &= b", "&= c") == (
        r"\begin{aligned} a &= b \\ &= c \end{aligned}")
    assert math_view.aligned_lines("a &= b", "&= c", "d &= e").count(r" \\ ") == 2


def test_long_vectors_and_matrices_are_cut_short():
    assert math_view.tex_vector([1, 2]) == r"\begin{bmatrix}1 \\ 2\end{bmatrix}"
    long = math_view.tex_vector(np.arange(10.0))
    assert long.count(r"\\") == math_view.SHOWN_ENTRIES - 1 and r"\vdots" in long
    matrix = math_view.tex_matrix(np.eye(6))
    assert matrix.count(r"\\") == math_view.SHOWN_ENTRIES - 1


@pytest.fixture
def stepper(blobs):
    return EMStepper(blobs.matrix(["x", "y"]), 3, seed=4)


def test_the_e_step_formulas_end_on_the_responsibility_the_e_step_computes(stepper):
    state = stepper.e_step()
    point = stepper.explain_point(7, 1)
    lines = math_view.e_step_formulas(point)
    assert len(lines) == 7
    assert lines[0].startswith(r"x_{7} = \begin{bmatrix}")
    assert lines[1].startswith(r"\Sigma_{1} = \begin{bmatrix}")
    assert lines[2].endswith(f"= {math_view.tex_number(point['mahalanobis'] ** 2)}")
    # The log-density's value on a line of its own, where a narrow column cannot cut it.
    assert lines[3].endswith(r" \\ &= " + math_view.tex_number(point["log_density"])
                             + END_ALIGNED)
    assert lines[3].count(r" \\ ") == 2
    assert lines[-1].endswith(f"= {math_view.tex_number(state.responsibilities[7, 1])}"
                              + END_ALIGNED)
    assert r"\gamma_{7,1} &=" in lines[-1]


@pytest.mark.parametrize(("covariance_type", "words"), [
    ("full", r"(x_i - \mu_{2})^\top"), ("tied", "one for all"), ("diag", "variances only"),
    ("spherical", "one variance")])
def test_the_m_step_formulas_fill_in_the_component_and_its_type(blobs, covariance_type,
                                                                 words):
    stepper = EMStepper(blobs.matrix(["x", "y"]), 3, covariance_type=covariance_type, seed=4)
    stepper.e_step()
    component = stepper.explain_component(2)
    lines = math_view.m_step_formulas(component)
    assert len(lines) == 4
    assert lines[0] == rf"N_{{2}} = \sum_{{i=1}}^{{N}} \gamma_{{i,2}} = " \
                       f"{math_view.tex_number(component['resp_sum'])}"
    assert lines[1].endswith(f"= {math_view.tex_number(stepper.m_step().weights[2])}")
    assert words in lines[3] and "@" not in lines[3] and lines[3].count("&=") == 2
    assert r"\varepsilon" not in lines[3] and r"1 \times 10^{-6}" in lines[3]


def test_the_log_likelihood_line_holds_the_e_steps_total(stepper):
    state = stepper.e_step()
    line = math_view.log_likelihood_formula(state, stepper.n)
    assert f"&= {math_view.tex_number(state.log_likelihood, 7)}" in line
    assert f"N = {stepper.n}" in line
    # Each number on a line of its own, so a narrow column does not cut the last one off.
    total, mean = line.removesuffix(r" \end{aligned}").split(r" \\ ")[1:]
    assert f"(N = {stepper.n})" in total
    assert mean.endswith(f"&= {math_view.tex_number(state.mean_log_likelihood, 6)}")


def test_the_stopping_rules_appear_once_there_is_something_to_compare():
    assert math_view.convergence_formulas([-2.0], None, np.zeros((2, 2)), 1e-3) == []
    lines = math_view.convergence_formulas([-2.0, -1.9995], np.zeros((2, 2)),
                                           np.full((2, 2), 0.5), 1e-3)
    assert len(lines) == 2
    assert lines[0].endswith(r"\quad \text{(stop)}")  # |Δ| = 5e-4 < 1e-3
    assert r"= 1\; \geq" in lines[1] and lines[1].endswith(r"\text{(go on)}")


def test_the_step_figure_colours_points_once_they_have_responsibilities(stepper):
    X = stepper.X
    start = wire(validated(math_view.step_figure(X, ("x", "y"), stepper.state, 3)))
    (points,) = [t for t in start["data"] if t["name"] == "data"]
    assert set(points["marker"]["color"]) == {math_view.UNASSIGNED_COLOR}
    (ring,) = [t for t in start["data"] if t["name"] == "x_3"]
    assert numbers(ring["x"])[0] == pytest.approx(X[3, 0])
    assert start["layout"]["title"]["text"] == "Iteration 0: start"

    stepper.e_step()
    before = stepper.state
    after = stepper.m_step()
    spec = wire(validated(math_view.step_figure(X, ("x", "y"), after, 3, before.means,
                                                before.covariances)))
    (points,) = [t for t in spec["data"] if t["name"] == "data"]
    assert math_view.UNASSIGNED_COLOR not in points["marker"]["color"]
    dotted = [t for t in spec["data"] if t["name"].endswith("before the M-step")]
    assert len(dotted) == 3 and {t["line"]["dash"] for t in dotted} == {"dot"}
    assert spec["layout"]["title"]["text"] == "Iteration 1: after the M-step"


def test_the_density_contours_lie_under_the_points_and_peak_at_the_top(blob_fit):
    _, prepared, outcome = blob_fit
    data = plot_data(prepared.X, outcome.trace.sample_index)
    spec = wire(validated(math_view.density_figure(data, outcome.trace)))
    contour = spec["data"][0]
    assert contour["type"] == "contour"
    z = numbers(contour["z"])
    assert z.size == math_view.DENSITY_GRID**2
    assert contour["zmax"] == pytest.approx(z.max())
    assert z.min() >= contour["zmax"] - math_view.DENSITY_DECADES - 1e-9


def test_uncertain_points_are_drawn_bigger(blob_fit):
    _, prepared, outcome = blob_fit
    data = plot_data(prepared.X, outcome.trace.sample_index)
    spec = wire(validated(math_view.uncertainty_figure(data, outcome.trace)))
    (points,) = [t for t in spec["data"] if t["name"] == "data"]
    sizes, unsure = numbers(points["marker"]["size"]), numbers(points["customdata"])
    order = np.argsort(unsure)
    assert np.all(np.diff(sizes[order]) >= -1e-9)
    low, high = math_view.UNCERTAINTY_SIZES
    assert sizes.min() >= low and sizes.max() <= high


# ---------------------------------------------------------------- the data
def test_the_preview_puts_the_known_classes_first():
    frame = data_view.preview(load_dataset("iris"), 5)
    assert list(frame.columns[:2]) == ["species", "sepal_length"] and len(frame) == 5


def test_histograms_stack_every_row_by_cluster_and_the_unfitted_apart():
    dataset = with_gaps()
    clusters = pd.Series([0, 0, 1, 1, 0, 1], index=[0, 1, 3, 5, 6, 7])
    spec = wire(validated(data_view.histogram_figure(dataset, ["a", "b"], clusters)))
    assert spec["layout"]["barmode"] == "stack"
    names = [t["name"] for t in spec["data"]]
    assert names == ["cluster 0", "cluster 1", "not fitted"] * 2
    first_feature = spec["data"][:3]
    counts = [np.count_nonzero(~np.isnan(numbers(t["x"]))) for t in first_feature]
    assert counts == [3, 3, 1]  # row 2's a is NaN; row 4 is left out but has an a


def test_masked_runs_and_bin_edges():
    assert data_view.masked_runs([True, True, False, True, False, False, True]) == [
        (0, 2), (3, 4), (6, 7)]
    assert data_view.masked_runs([False, False]) == []
    wavelengths = 10 ** (3.5 + 4e-4 * np.arange(6))
    edges = data_view.bin_edges(wavelengths)
    assert len(edges) == 7
    assert np.all(edges[:-1] < wavelengths) and np.all(wavelengths < edges[1:])
    np.testing.assert_allclose(edges[1:-1], np.sqrt(wavelengths[:-1] * wavelengths[1:]))


def test_the_spectrum_shades_each_masked_run():
    wavelengths = 10 ** (3.5 + 4e-4 * np.arange(8))
    flux = np.arange(8.0)
    mask = np.array([1, 1, 0, 0, 1, 0, 0, 0], dtype=bool)
    spec = wire(validated(data_view.spectrum_figure(wavelengths, flux, mask, "Object 3")))
    shading, line = spec["data"]
    assert shading["fill"] == "toself" and shading["x"].count(None) == 2
    assert numbers(line["y"]).tolist() == flux.tolist()
    assert spec["layout"]["title"]["text"] == "Object 3"


def test_mean_spectra_average_unmasked_pixels_per_cluster():
    spectra = np.array([[1.0, 2.0, 9.0], [3.0, 4.0, 9.0], [5.0, 6.0, 7.0], [0.0, 0.0, 0.0]])
    mask = np.array([[0, 0, 1], [0, 1, 1], [0, 0, 0], [1, 1, 1]], dtype=bool)
    clusters = pd.Series([0, 0, 2], index=[0, 1, 2])  # row 3 not fitted; cluster 1 empty
    means, sizes = data_view.mean_spectra(spectra, mask, clusters)
    np.testing.assert_array_equal(sizes, [2, 0, 1])
    np.testing.assert_allclose(means[0], [2.0, 2.0, np.nan])
    assert np.isnan(means[1]).all()
    np.testing.assert_allclose(means[2], [5.0, 6.0, 7.0])
    spec = wire(validated(data_view.mean_spectra_figure(np.arange(3.0), means, sizes)))
    assert [t["name"] for t in spec["data"]] == ["cluster 0 (2 spectra)",
                                                 "cluster 2 (1 spectrum)"]


def test_the_cross_table_counts_classes_per_cluster_with_the_rand_index():
    dataset = with_gaps()
    clusters = pd.Series([1, 1, 0, 0, 1, 0], index=[0, 1, 3, 5, 6, 7])
    table, ari = data_view.cross_table(clusters, dataset.known_labels["truth"], "truth")
    assert table.loc[0, "high"] == 3 and table.loc[1, "low"] == 3 and table.to_numpy().sum() == 6
    assert table.columns.name == "truth" and ari == pytest.approx(1.0)
    mixed = pd.Series([0, 1, 0, 1, 0, 1], index=clusters.index)
    _, ari = data_view.cross_table(mixed, dataset.known_labels["truth"])
    expected = adjusted_rand_score(["low", "low", "high", "high", "low", "high"],
                                   mixed.to_numpy())
    assert ari == pytest.approx(expected)


# ---------------------------------------------------------------- rows of a fit, links
def test_fitted_rows_place_the_fit_back_in_the_data_set():
    dataset = with_gaps()
    assert fitted_rows(dataset, ["a", "b"], 6).tolist() == [0, 1, 3, 5, 6, 7]
    with pytest.raises(ValueError, match="the fit has 8 rows but Data with gaps has 6"):
        fitted_rows(dataset, ["a", "b"], 8)


def test_labels_and_responsibilities_of_every_fitted_row(blob_fit, blobs):
    request, prepared, outcome = blob_fit
    labels = row_labels(outcome, prepared.X)
    np.testing.assert_array_equal(labels, outcome.model.predict(prepared.X))
    responsibilities = row_responsibilities(outcome, prepared.X)
    assert responsibilities.shape == (blobs.n_samples, 3)
    np.testing.assert_array_equal(responsibilities.argmax(axis=1), labels)

    replay_request = request.with_changes(algorithm="notebook")
    replay = run_fit(prepared, replay_request)
    # The replay's rows by the notebook's own predict: argmax of π·pdf / (Σ π·pdf + ε).
    responsibilities = row_responsibilities(replay, prepared.X)
    np.testing.assert_allclose(responsibilities[replay.trace.sample_index],
                               replay.trace.responsibilities[-1], rtol=0, atol=1e-7)
    np.testing.assert_array_equal(row_labels(replay, prepared.X),
                                  responsibilities.argmax(axis=1))


def test_a_link_carries_the_whole_view():
    view = ExploreView(FitRequest(dataset="iris", features=("petal_length", "petal_width"),
                                  k=3, tol=3e-6), "uncertainty")
    link = view_link("http://localhost:8501/", view)
    parts = urlsplit(link)
    assert (parts.scheme, parts.netloc, parts.path) == ("http", "localhost:8501", "/")
    query = {key: values[-1] for key, values in parse_qs(parts.query).items()}
    assert query == view_to_query(view)
    assert view_link(None, view).startswith("?dataset=iris&")
