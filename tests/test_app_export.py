"""The Explore page's downloads and link: the payloads the buttons hand out parse back into
what was fitted (CSV rows = fitted rows, JSON parameters that score the data as the fit
does, a self-contained HTML page of the animation)."""

from __future__ import annotations

import base64
import io
import json
import re
from urllib.parse import parse_qs

import numpy as np
import pandas as pd
import pytest
from scipy.special import logsumexp
from scipy.stats import multivariate_normal
from streamlit.runtime.media_file_manager import MediaFileManager
from streamlit.testing.v1 import AppTest
from test_app_explore import APP, _own_data_home, assert_clean  # noqa: F401 (an autouse fixture)
from test_page_views import with_gaps

from dashboard import exports, pairs_plot
from dashboard.binary_payload import unpack
from dashboard.figures import FigureOptions
from dashboard.pipeline import animation_bytes, drawn_points, prepare_data, run_fit
from gmm_core import FitRequest
from gmm_core.datasets import load_dataset
from gmm_core.export import FORMAT, read_parameters_json
from gmm_core.notebook import notebook_responsibilities


def fitted(dataset, request):
    prepared = prepare_data(dataset, request)
    return prepared, run_fit(prepared, request)


@pytest.fixture(scope="module")
def iris_fit():
    dataset = load_dataset("iris")
    request = FitRequest(dataset="iris", features=("petal_length", "petal_width"), k=3,
                         standardize=True)
    return (dataset, request, *fitted(dataset, request))


def mixture_mean_log_likelihood(X, document) -> float:
    """The mean log-likelihood of ``X`` under full-covariance parameters read from JSON."""
    log_weighted = np.column_stack([
        np.log(w) + multivariate_normal(mean, cov).logpdf(X)
        for w, mean, cov in zip(document["weights"], document["means"],
                                document["covariances"], strict=True)])
    return float(logsumexp(log_weighted, axis=1).mean())


# ------------------------------------------------------------------ the payloads
def test_the_csv_has_one_line_per_fitted_row_in_the_data_sets_units(iris_fit):
    dataset, _, prepared, outcome = iris_fit
    frame = pd.read_csv(io.StringIO(exports.labels_csv_text(dataset, prepared, outcome)))
    assert len(frame) == dataset.n_samples == len(prepared.X)
    assert list(frame.columns) == ["row", "petal_length", "petal_width", "label",
                                   "responsibility_0", "responsibility_1", "responsibility_2"]
    np.testing.assert_array_equal(frame["row"], np.arange(1, 151))
    np.testing.assert_allclose(frame[["petal_length", "petal_width"]],
                               dataset.frame[["petal_length", "petal_width"]])  # unscaled
    responsibilities = frame.filter(like="responsibility_").to_numpy()
    np.testing.assert_allclose(responsibilities.sum(axis=1), 1.0, atol=1e-12)
    np.testing.assert_array_equal(frame["label"], responsibilities.argmax(axis=1))
    np.testing.assert_array_equal(frame["label"], outcome.model.predict(prepared.X))


def test_rows_the_fit_left_out_are_not_in_the_csv():
    dataset = with_gaps()
    prepared, outcome = fitted(dataset, FitRequest(dataset="gaps", features=("a", "b"), k=2))
    frame = pd.read_csv(io.StringIO(exports.labels_csv_text(dataset, prepared, outcome)))
    assert len(frame) == 6
    np.testing.assert_allclose(frame["a"], dataset.frame["a"].iloc[[0, 1, 3, 5, 6, 7]])
    assert list(frame["row"]) == [1, 2, 4, 6, 7, 8]  # the rows left out are gaps


def test_the_notebook_replay_gives_every_row_by_its_own_rule_and_its_parameters():
    dataset = load_dataset("blobs")
    request = FitRequest(dataset="blobs", features=("x", "y"), k=3, algorithm="notebook",
                         standardize=True)
    prepared, outcome = fitted(dataset, request)
    frame = pd.read_csv(io.StringIO(exports.labels_csv_text(dataset, prepared, outcome)))
    assert len(frame) == dataset.n_samples  # every row, not the display sample
    responsibilities = frame.filter(like="responsibility_").to_numpy()
    np.testing.assert_array_equal(
        responsibilities, notebook_responsibilities(prepared.X, outcome.trace))
    np.testing.assert_array_equal(frame["label"], responsibilities.argmax(axis=1))
    assert "π·pdf / (Σ π·pdf + ε)" in exports.labels_help(outcome)
    document = json.loads(exports.parameters_json_text(request, prepared, outcome))
    assert document["algorithm"] == "notebook" and document["bic"] is None
    assert document["request"]["algorithm"] == "notebook"
    assert document["preprocessing"] == prepared.preprocessing.to_dict()


def test_the_json_parameters_score_the_data_as_the_fit_does(iris_fit):
    dataset, request, prepared, outcome = iris_fit
    text = exports.parameters_json_text(request, prepared, outcome)
    document = json.loads(text)
    assert document["format"] == FORMAT
    assert document["request"] == json.loads(json.dumps(request.to_dict()))
    assert document["bic"] == pytest.approx(outcome.model.bic(prepared.X))
    assert mixture_mean_log_likelihood(prepared.X, document) == pytest.approx(
        outcome.model.score(prepared.X), rel=1e-10)
    # The standardization goes with it: the data set's own rows lead to the fitted ones.
    read = read_parameters_json(text)
    assert read.request == request and read.preprocessing.method == "standardize"
    raw = dataset.frame[list(request.features)].to_numpy()
    np.testing.assert_array_equal(read.preprocessing.apply(raw), prepared.X)


@pytest.mark.parametrize(("covariance_type", "shape"), [
    ("tied", (2, 2)), ("diag", (3, 2)), ("spherical", (3,))])
def test_the_json_keeps_scikit_learns_shape_per_covariance_type(iris_fit, covariance_type,
                                                                  shape):
    dataset, request, _, _ = iris_fit
    request = request.with_changes(covariance_type=covariance_type)
    prepared, outcome = fitted(dataset, request)
    document = json.loads(exports.parameters_json_text(request, prepared, outcome))
    assert np.shape(document["covariances"]) == shape
    np.testing.assert_allclose(document["covariances"], outcome.model.covariances_)


def test_the_html_page_carries_plotly_the_drawing_script_and_the_whole_animation(iris_fit):
    _, request, prepared, outcome = iris_fit
    html = exports.animation_html(
        animation_bytes(prepared, request, outcome, FigureOptions(), include_points=True),
        "Iris <k=3>")
    assert html.lower().startswith("<!doctype html>") and html.rstrip().endswith("</html>")
    assert not re.search(r"<script[^>]*\bsrc=", html)  # nothing to fetch: works offline
    assert re.search(r"plotly\.js (\(basic[^)]*\) )?v\d", html)  # the library itself is inside
    assert "<title>Iris &lt;k=3&gt;</title>" in html
    (encoded,) = re.findall(r'mountStandalone\(document\.getElementById\("figure"\), "([^"]+)"\)',
                            html)
    meta, arrays = unpack(base64.b64decode(encoded))
    assert meta["kind"] == "animation" and meta["n_iter"] == outcome.trace.n_iter
    assert len(arrays["points"]) == len(drawn_points(prepared, outcome.trace).rows)
    assert arrays["iterations"][-1] == outcome.trace.n_iter


def test_the_html_page_draws_the_pairs_plot_under_the_animation_in_three_features():
    dataset = load_dataset("iris")
    request = FitRequest(dataset="iris", k=3,
                         features=("petal_length", "petal_width", "sepal_length"))
    prepared, outcome = fitted(dataset, request)
    payload = animation_bytes(prepared, request, outcome, FigureOptions(), include_points=True)
    assert pairs_plot.figure_for(prepared, outcome, FigureOptions()) is not None
    html = exports.animation_html(payload, "Iris", pairs=pairs_plot.figure_for(
        prepared, outcome, FigureOptions()))
    (figure,) = re.findall(r"const figure = (.*);\n", html)
    assert "</" not in figure  # cannot close its <script> early
    figure = json.loads(figure)
    assert len([key for key in figure["layout"] if key.startswith("xaxis")]) == 9
    assert {t["type"] for t in figure["data"]} <= {"scatter", "bar"}  # the basic bundle's
    assert "const figure" not in exports.animation_html(payload, "Iris")


def test_file_names_say_what_was_fitted():
    request = FitRequest(dataset="iris", k=3, covariance_type="diag")
    assert exports.file_stem(request) == "gmm_iris_k3_diag"
    assert exports.file_stem(request.with_changes(algorithm="notebook")) == "gmm_iris_k3_notebook"


# ------------------------------------------------------------------ on the page
@pytest.fixture
def downloads(monkeypatch) -> dict:
    """What each download button would hand out: its callable, caught as Streamlit
    registers it (the test runner keeps no server to click through)."""
    caught = {}
    register = MediaFileManager.add_deferred

    def catch(self, data_callable, mimetype, coordinates, file_name=None, **kwargs):
        caught[file_name] = (mimetype, data_callable)
        return register(self, data_callable, mimetype, coordinates, file_name, **kwargs)

    monkeypatch.setattr(MediaFileManager, "add_deferred", catch)
    return caught


def test_the_explore_page_offers_the_three_downloads_and_the_link(downloads):
    at = AppTest.from_file(APP, default_timeout=120)
    at.query_params.update({"dataset": "iris", "k": "3", "covariance_type": "diag"})
    at.run()
    assert_clean(at)
    assert [b.label for b in at.get("download_button")] == [
        "Labels and responsibilities (CSV)", "Fitted parameters (JSON)",
        "Animated figure (HTML)"]
    stem = "gmm_iris_k3_diag"
    assert set(downloads) == {f"{stem}_labels.csv", f"{stem}_parameters.json",
                              f"{stem}_animation.html"}

    mimetype, make = downloads[f"{stem}_labels.csv"]
    assert mimetype == "text/csv" and len(pd.read_csv(io.StringIO(make()))) == 150
    mimetype, make = downloads[f"{stem}_parameters.json"]
    assert json.loads(make())["covariance_type"] == "diag"
    mimetype, make = downloads[f"{stem}_animation.html"]
    assert mimetype == "text/html" and "mountStandalone(" in make()

    (link,) = [m for e in at.markdown for m in re.findall(r"\]\((\S+)\)", e.value)
               if "Link to this view" in e.value]
    query = {key: values[-1] for key, values in parse_qs(link.split("?", 1)[1]).items()}
    assert query == dict(at.query_params)
    assert query["covariance_type"] == "diag"


def test_the_replay_offers_all_three_downloads(downloads):
    at = AppTest.from_file(APP, default_timeout=120)
    at.query_params.update({"dataset": "iris", "k": "3", "replay": "true"})
    at.run()
    assert not at.exception
    assert [b.label for b in at.get("download_button")] == [
        "Labels and responsibilities (CSV)", "Fitted parameters (JSON)",
        "Animated figure (HTML)"]
    assert "by its own rule" in at.get("download_button")[0].help
    mimetype, make = downloads["gmm_iris_k3_notebook_labels.csv"]
    frame = pd.read_csv(io.StringIO(make()))
    assert mimetype == "text/csv" and len(frame) == 150
    assert list(frame.columns[-4:]) == ["label", "responsibility_0", "responsibility_1",
                                        "responsibility_2"]


def test_an_uploaded_files_labels_number_its_rows_and_cannot_run_formulas(downloads):
    from test_app_explore import run_page, upload

    from dashboard.plain_text import plain

    rows = ["1.0,2.0,left", "1.5,,right", "-1.5,8.0,=cmd", "9.0,9.5,@x", "8.5,9.0,a"]
    content = ("=1+2,@SUM(A1),side\n" + "\n".join(rows) + "\n").encode()
    at = upload(run_page({"k": "2"}), content, "formulas.csv")
    assert_clean(at)
    text = downloads["gmm_upload_k2_full_labels.csv"][1]()
    assert text.splitlines()[0].startswith("row,'=1+2,'@SUM(A1),label,")
    frame = pd.read_csv(io.StringIO(text))
    assert list(frame["row"]) == [1, 3, 4, 5]  # row 2 has a gap, as the notes say
    assert plain("(row 2;") in " ".join(info.value for info in at.sidebar.info)
    assert frame["'=1+2"].tolist() == [1.0, -1.5, 9.0, 8.5]  # numbers stay numbers
