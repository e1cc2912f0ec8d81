"""The Explore page (app.py) run by Streamlit's AppTest: every data set and covariance
type renders, the controls change the fit, the URL round-trips, failures are messages."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import streamlit as st
from spec4000_fixture import FakeDownloadServer, closed_port_url, write_spec4000
from streamlit.testing.v1 import AppTest

import dashboard.cache
import gmm_core.datasets.sdss
from dashboard import pairs_plot
from dashboard.binary_payload import unpack
from dashboard.controls import AxisChoice
from dashboard.download import DOWNLOAD_FAILED
from dashboard.figures import NOISE_COLOR, OKABE_ITO, PRESENTATION
from dashboard.fit_component import ANIMATION_KEY, PANELS_KEY
from dashboard.plain_text import plain
from gmm_core.request import COVARIANCE_TYPES

APP = str(Path(__file__).resolve().parents[1] / "streamlit_app.py")
DATASETS = ("sdss", "blobs", "astroml_fig69", "iris")


@pytest.fixture(autouse=True)
def _own_data_home(data_home):
    """Every page test starts with an empty astroML data home of its own."""
    return data_home


@pytest.fixture
def sdss_file(data_home):
    return write_spec4000(data_home, n=200)


def run_page(query: dict | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params.update(query or {})
    return at.run()


def assert_clean(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]


@dataclass(frozen=True)
class Drawn:
    """A figure's payload as the browser gets it (``dashboard.fit_payload``)."""

    meta: dict
    arrays: dict


def drawn(at: AppTest, key: str) -> Drawn:
    (element,) = [e for e in at.get("bidi_component") if e.key == key]
    return Drawn(*unpack(element.proto.bytes))


def animation(at: AppTest) -> Drawn:
    """The animation's payload, as sent to the browser."""
    return drawn(at, ANIMATION_KEY)


def status(at: AppTest) -> str:
    """The status line: how the fit stopped, its log-likelihood and BIC."""
    (line,) = [e.value for e in [*at.success, *at.warning, *at.error]
               if re.match(r"(Converged|Stopped|Broke down) .* · log-likelihood ", e.value)]
    return line


def iterations(at: AppTest) -> int:
    return int(re.search(r"(?:after |cap \()(\d+)", status(at)).group(1))


def components(figure: Drawn) -> int:
    """How many components' ellipses the animation draws."""
    return figure.arrays["centres"].shape[1]


# ------------------------------------------------------------------ rendering
def test_without_sdss_the_page_opens_on_a_built_in_set_and_offers_the_download():
    at = run_page()
    assert_clean(at)
    assert at.selectbox(key="dataset").value == "astroml_fig69"
    assert at.button(key="download_sdss").label == "Download SDSS spectra"
    assert at.slider(key="k").label == "Components (k)"
    assert status(at).startswith("Converged after")
    assert "BIC" in status(at)
    assert any("scikit-learn" in s.value for s in at.subheader)
    figure = animation(at)
    assert figure.meta["titles"][-1] == f"EM: iteration {figure.meta['n_iter']} of " \
        f"{figure.meta['n_iter']}"
    assert components(figure) == at.slider(key="k").value
    # The animation, and ours beside scikit-learn's.
    assert [e.key for e in at.main.get("bidi_component")] == [ANIMATION_KEY, PANELS_KEY]
    assert [p["title"] for p in drawn(at, PANELS_KEY).meta["panels"]] == [
        "Ours (gmm_core)", "scikit-learn GaussianMixture"]


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
@pytest.mark.parametrize("dataset", DATASETS)
def test_every_data_set_and_covariance_type_renders(dataset, covariance_type, data_home):
    if dataset == "sdss":
        write_spec4000(data_home, n=200)
    at = run_page({"dataset": dataset, "covariance_type": covariance_type})
    assert_clean(at)
    assert at.selectbox(key="dataset").value == dataset
    assert at.selectbox(key="covariance_type").value == covariance_type
    assert status(at)
    assert components(animation(at)) == at.slider(key="k").value
    assert at.query_params["covariance_type"] == covariance_type


def test_with_sdss_present_the_page_opens_on_the_notebooks_case(sdss_file):
    at = run_page()
    assert_clean(at)
    assert at.selectbox(key="dataset").value == "sdss"
    assert at.slider(key="k").value == 2
    assert (at.query_params["x"], at.query_params["y"]) == ("flux_0", "flux_1")
    assert not at.button  # nothing to download


# ------------------------------------------------------------------ controls change the fit
def test_changing_k_redraws_with_that_many_components_and_updates_the_url():
    at = run_page()
    before = status(at)
    at.slider(key="k").set_value(3).run()
    assert_clean(at)
    assert components(animation(at)) == 3
    assert status(at) != before
    assert at.query_params["k"] == "3"


def test_changing_the_tolerance_changes_when_the_fit_stops():
    at = run_page({"tol": "0.1"})
    loose = iterations(at)
    at.select_slider(key="tol").set_value(1e-8).run()
    assert_clean(at)
    assert iterations(at) > loose
    assert at.query_params["tol"] == "1e-08"


def test_changing_the_seed_changes_the_start():
    at = run_page()
    start = animation(at).arrays["centres"][0]
    at.number_input(key="seed").set_value(7).run()
    assert_clean(at)
    assert not np.array_equal(animation(at).arrays["centres"][0], start)
    assert at.query_params["seed"] == "7"


def test_changing_a_feature_refits_on_it():
    at = run_page({"dataset": "iris"})
    before = status(at)
    at.selectbox(key="x").set_value("sepal_length").run()
    assert_clean(at)
    assert animation(at).meta["x_title"] == "sepal length [cm]"
    assert status(at) != before
    assert at.query_params["x"] == "sepal_length"


def test_spectra_features_are_chosen_by_wavelength(sdss_file):
    at = run_page()
    assert at.selectbox(key="y").value is AxisChoice.SPECTRUM
    at.select_slider(key="y_wavelength").set_value("flux_400").run()
    assert_clean(at)
    assert at.query_params["y"] == "flux_400"
    assert animation(at).meta["y_title"].startswith("flux ")
    at.selectbox(key="x").set_value("pca_1").run()
    assert_clean(at)
    labels = [slider.label for slider in at.select_slider]
    assert "Y wavelength" in labels and "X wavelength" not in labels
    assert at.query_params["x"] == "pca_1"


def test_extra_dimensions_join_the_fit_while_the_plot_keeps_x_and_y():
    at = run_page({"dataset": "iris"})
    at.multiselect(key="extra").set_value(["sepal_length", "sepal_width"]).run()
    assert_clean(at)
    assert "fitted in 4 dimensions" in at.markdown[0].value
    assert at.query_params["extra"] == "sepal_length,sepal_width"
    assert animation(at).meta["x_title"] == "petal length [cm]"


def pairs_plots(at: AppTest) -> list[dict]:
    """The pairs plot's Plotly figure as sent to the browser (none, or one)."""
    return [json.loads(chart.proto.spec) for chart in at.get("plotly_chart")
            if chart.key == pairs_plot.KEY]


def test_a_fit_in_three_features_adds_the_pairs_plot_and_two_features_do_not():
    at = run_page({"dataset": "iris", "palette": "okabe_ito"})
    assert_clean(at)
    assert pairs_plots(at) == []
    at.multiselect(key="extra").set_value(["sepal_length"]).run()
    assert_clean(at)
    (figure,) = pairs_plots(at)
    layout = figure["layout"]
    assert len([key for key in layout if key.startswith("xaxis")]) == 9
    assert [layout[f"xaxis{n}"]["title"]["text"] for n in (7, 8, 9)] == [
        "petal length [cm]", "petal width [cm]", "sepal length [cm]"]
    assert layout["title"]["text"].startswith("Classification in every pair of the 3 "
                                              "features: k = ")
    ellipses = {t["line"]["color"] for t in figure["data"] if t["name"] == "component 0 ellipses"}
    assert ellipses == {OKABE_ITO[0]}
    assert any("drawn in each panel" in caption.value for caption in at.caption)
    at.multiselect(key="extra").set_value([]).run()
    assert pairs_plots(at) == []


def test_beyond_four_features_the_pairs_plot_waits_for_its_switch():
    # Drawing d x d panels slows every change of the page in the browser: off by
    # default for more than pairs_plot.SHOWN_UP_TO features, on for up to that many.
    at = run_page({"dataset": "wine"})
    at.multiselect(key="extra").set_value(["alcohol", "ash"]).run()
    assert at.toggle(key="pairs_plot_shown_few").value
    assert len(pairs_plots(at)) == 1
    at.multiselect(key="extra").set_value(["alcohol", "ash", "magnesium"]).run()
    assert_clean(at)
    assert not at.toggle(key="pairs_plot_shown_many").value
    assert pairs_plots(at) == []
    at.toggle(key="pairs_plot_shown_many").set_value(True).run()
    assert_clean(at)
    (figure,) = pairs_plots(at)
    assert len([key for key in figure["layout"] if key.startswith("xaxis")]) == 25


def test_returning_to_an_earlier_setting_is_served_from_the_cache(monkeypatch):
    st.cache_data.clear()
    st.cache_resource.clear()
    calls = []
    run_fit = dashboard.cache.run_fit
    monkeypatch.setattr(dashboard.cache, "run_fit",
                        lambda prepared, request: calls.append(request.k)
                        or run_fit(prepared, request))
    at = run_page({"k": "4"})
    at.slider(key="k").set_value(5).run()
    at.slider(key="k").set_value(4).run()
    assert_clean(at)
    assert calls == [4, 5]


# ------------------------------------------------------------------ the URL
def test_query_parameters_set_every_control_and_come_back_unchanged():
    query = {"dataset": "iris", "x": "sepal_width", "y": "petal_length",
             "extra": "petal_width", "k": "3", "tol": "3e-06", "seed": "11",
             "max_iters": "250", "covariance_type": "tied", "init": "random_from_data",
             "convergence": "means", "reg_covar": "0.0001", "standardize": "true",
             "replay": "false", "color": "uncertainty", "palette": "okabe_ito",
             "present": "true", "aspect": "fill"}
    at = run_page(query)
    assert_clean(at)
    assert not at.warning
    assert at.query_params == query
    assert at.selectbox(key="dataset").value == "iris"
    assert (at.selectbox(key="x").value, at.selectbox(key="y").value) == ("sepal_width",
                                                                          "petal_length")
    assert at.multiselect(key="extra").value == ["petal_width"]
    assert at.slider(key="k").value == 3
    assert at.select_slider(key="tol").value == 3e-6
    assert at.number_input(key="seed").value == 11
    assert at.number_input(key="max_iters").value == 250
    assert at.selectbox(key="covariance_type").value == "tied"
    assert at.selectbox(key="init").value == "random_from_data"
    assert at.selectbox(key="convergence").value == "means"
    assert at.select_slider(key="reg_covar").value == 1e-4
    assert at.checkbox(key="standardize").value is True
    assert at.toggle(key="replay").value is False
    assert at.radio(key="color").value == "uncertainty"
    assert at.radio(key="palette").value == "okabe_ito"
    assert at.toggle(key="present").value is True
    assert at.checkbox(key="aspect").value is True
    figure = animation(at)
    assert figure.meta["palette"][0] == OKABE_ITO[0]
    assert figure.meta["font_size"] == PRESENTATION["font_size"]
    assert figure.meta["aspect"] == "fill"
    assert "(standardized)" in animation(at).meta["x_title"]


def test_bad_query_parameters_are_named_and_replaced_by_defaults():
    at = run_page({"k": "99", "covariance_type": "round", "x": "nope", "y": "y"})
    assert_clean(at)
    warnings = " ".join(w.value for w in at.warning)
    # shown as plain text: every punctuation character escaped (dashboard.plain_text)
    assert plain("k=99 is not a whole number from 1 to 12") in warnings
    assert plain("covariance_type=round") in warnings
    assert plain("no feature nope") in warnings
    assert at.query_params["k"] == "4"
    assert at.query_params["covariance_type"] == "full"


# ------------------------------------------------------------------ the notebook replay
def test_the_notebook_replay_animates_and_says_what_went_wrong(sdss_file):
    at = run_page({"replay": "true"})
    assert not at.exception
    assert any(s.value == "What the notebook's algorithm did" for s in at.subheader)
    figure = animation(at)
    assert figure.meta["titles"][-1].startswith("Notebook replay: iteration")
    assert figure.meta["second_title"] == "rows with zero density"
    warnings = " ".join(w.value for w in at.warning)
    assert "Identical start" in warnings  # the fixture's bluest bins are mostly zero
    assert "BIC" in status(at) and "exact log-likelihood of the final mixture" in status(at)
    assert at.selectbox(key="covariance_type").disabled
    assert any("scikit-learn" in s.value for s in at.subheader)
    # Compared like any fit: the adjusted Rand index and why the two differ.
    assert at.metric[0].label == "Adjusted Rand index between the two labelings"
    assert any(i.value.startswith("They differ because the notebook's fit") for i in at.info)


# ------------------------------------------------------------------ CSV uploads
def blobs_csv(n_per_blob: int = 60) -> bytes:
    """Two well-separated blobs, a text column, and one row with a gap."""
    rng = np.random.default_rng(3)
    rows = [f"{x:.4f},{y:.4f},{'left' if x < 5 else 'right'}"
            for centre in (0.0, 10.0)
            for x, y in rng.normal(centre, 1.0, size=(n_per_blob, 2))]
    return ("width,height,side\n" + "\n".join(rows) + "\n3.0,,left\n").encode()


def upload(at: AppTest, content: bytes, name: str = "points.csv") -> AppTest:
    at.selectbox(key="dataset").set_value("upload").run()
    return at.file_uploader(key="upload_file").upload(name, content, "text/csv").run()


def test_choosing_upload_offers_the_uploader_with_its_limits_and_waits_for_a_file():
    at = run_page().selectbox(key="dataset").set_value("upload").run()
    assert not at.exception
    uploader = at.file_uploader(key="upload_file")
    assert "1,000,000 rows" in uploader.help
    assert uploader.proto.max_upload_size_mb == 50  # the browser refuses larger files
    assert uploader.label == "CSV file, up to 50 MB" and "up to 50 MB" in uploader.help
    assert "Choose a CSV file of up to 50 MB" in at.error[0].value
    assert "refused by the uploader" in at.error[0].value
    assert any("not the file" in caption.value for caption in at.sidebar.caption)


def test_an_uploaded_csv_is_fitted_like_any_data_set_and_its_notes_are_shown():
    at = upload(run_page(), blobs_csv())
    assert_clean(at)
    notes = " ".join(info.value for info in at.sidebar.info)
    assert plain("dropped non-numeric column(s): side") in notes
    assert plain("dropped 1 of 121 rows") in notes
    assert at.markdown[0].value.startswith(f"**{plain('points.csv')}** — 120 rows")
    assert (at.selectbox(key="x").value, at.selectbox(key="y").value) == ("width", "height")
    assert animation(at).meta["x_title"] == "width"
    assert status(at).startswith("Converged after")
    assert at.metric[0].label == "Adjusted Rand index between the two labelings"
    at.slider(key="k").set_value(2).run()  # a new fit finds the file by its digest
    assert_clean(at)
    assert components(animation(at)) == 2
    at.selectbox(key="x").set_value("height")
    at.selectbox(key="y").set_value("width").run()
    assert_clean(at)
    assert animation(at).meta["x_title"] == "height"


def test_an_upload_is_read_once_and_found_by_its_digest_on_every_rerun(csv_reads):
    at = upload(run_page(), blobs_csv())
    for k in (2, 3):
        at.slider(key="k").set_value(k).run()
    assert_clean(at)
    assert csv_reads == [len(blobs_csv())]
    assert at.query_params["dataset"] == "upload"
    assert "digest" not in at.query_params  # the URL cannot carry the file


def test_removing_the_file_from_the_uploader_forgets_it():
    at = upload(run_page(), blobs_csv())
    at.file_uploader(key="upload_file").clear().run()
    assert not at.exception
    assert "Choose a CSV file" in at.error[0].value
    assert not at.get("plotly_chart")


@pytest.mark.parametrize(("content", "message"), [
    (b"", "is empty"),
    (b"\x00\x01\x02binary\x00" * 20, "looks binary"),
    (b"name,colour\nann,red\nbob,blue\n", "has no numeric column"),
    (b"a,b\n1,2\n3,4,5,6\n", "line 3 has 4 fields"),
])
def test_a_refused_csv_is_an_error_message_not_a_traceback(content, message):
    at = upload(run_page(), content, "bad.csv")
    assert not at.exception
    assert plain(message) in at.error[0].value
    assert not at.main.get("bidi_component")


# ------------------------------------------------------------------ failures are messages
def test_sdss_asked_for_but_absent_is_a_message_not_a_traceback():
    at = run_page({"dataset": "sdss"})
    assert not at.exception
    assert "not on this server yet" in at.error[0].value
    assert at.button(key="download_sdss")


def test_choosing_the_absent_sdss_and_going_back_recovers():
    at = run_page({"dataset": "iris", "x": "sepal_width", "y": "sepal_length"})
    at.selectbox(key="dataset").set_value("sdss").run()
    assert not at.exception
    assert "not on this server yet" in at.error[0].value
    at.selectbox(key="dataset").set_value("iris").run()
    assert_clean(at)
    assert (at.query_params["x"], at.query_params["y"]) == ("sepal_width", "sepal_length")


def test_the_same_feature_twice_is_a_message_not_a_traceback():
    at = run_page({"x": "x", "y": "x"})
    assert not at.exception
    assert "listed twice" in at.error[0].value


def test_the_download_button_fetches_sdss_and_switches_to_it(data_home, monkeypatch):
    body = write_spec4000(data_home.parent / "served.npz", n=120).read_bytes()
    with FakeDownloadServer(body) as server:
        monkeypatch.setattr(gmm_core.datasets.sdss, "DATA_URL", server.url)
        at = run_page()
        at.button(key="download_sdss").click().run()
    assert_clean(at)
    assert (data_home / "spec4000.npz").read_bytes() == body
    assert at.selectbox(key="dataset").value == "sdss"
    assert at.query_params["dataset"] == "sdss"
    assert "120 rows" in at.markdown[0].value


def test_a_failed_download_is_a_message_and_the_page_stays(monkeypatch):
    monkeypatch.setattr(gmm_core.datasets.sdss, "DATA_URL", closed_port_url())
    at = run_page()
    at.button(key="download_sdss").click().run()
    assert not at.exception
    assert at.error[0].value == DOWNLOAD_FAILED
    assert at.selectbox(key="dataset").value == "astroml_fig69"
    assert status(at).startswith("Converged")


# ------------------------------------------------------------------ the noise component
def test_the_noise_checkbox_fits_a_noise_component_and_goes_into_the_url():
    at = run_page({"dataset": "iris", "k": "2"})
    assert at.checkbox(key="noise").value is False
    assert "noise" not in at.query_params
    assert "noise_code" not in animation(at).meta
    bic_without = re.search(r"BIC ([\d,.-]+)", status(at)).group(1)
    at.checkbox(key="noise").check().run()
    assert_clean(at)
    assert at.query_params["noise"] == "true"
    assert "noise component weight" in status(at)
    assert re.search(r"BIC ([\d,.-]+)", status(at)).group(1) != bic_without
    figure = animation(at)
    assert figure.meta["palette"][-1] == NOISE_COLOR
    assert len(figure.arrays["noise_weights"]) == len(figure.arrays["iterations"])
    assert components(figure) == 2
    # The link opens the same fit, checkbox ticked.
    again = run_page(dict(at.query_params))
    assert_clean(again)
    assert again.checkbox(key="noise").value is True
    assert status(again) == status(at)
