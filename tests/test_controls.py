"""The controls' URL form (query parameters <-> the view) and the features a data set
offers, without a server."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from spec4000_fixture import write_spec4000

from dashboard.controls import COVARIANCE_OPTIONS, INIT_LABELS, spectral_features
from dashboard.figures import COLOR_BY
from dashboard.query_state import (
    K_RANGE,
    MAX_DIMENSIONS,
    MAX_ITERS_RANGE,
    NO_Y,
    REGULARIZATIONS,
    SEED_RANGE,
    TOLERANCES,
    ExploreView,
    default_view,
    name_from_query,
    name_to_query,
    names_from_query,
    names_to_query,
    resolve_features,
    view_from_query,
    view_to_query,
)
from gmm_core import FitRequest
from gmm_core.datasets import Dataset, FeatureInfo, load_dataset
from gmm_core.request import CONVERGENCE_RULES, INIT_METHODS, PLACED

DATASETS = ("sdss", "blobs", "astroml_fig69", "iris")
DEFAULT = default_view(sdss_present=False)
# Any name a column may have: the address's own words ("none" for no Y, the escape "~",
# the commas and quotes of the list of extra dimensions) among them.
FEATURE_NAMES = st.one_of(st.sampled_from([NO_Y, "~", "~none", "spectrum", "a,b", '"q"']),
                          st.text(min_size=1, max_size=12))

views = st.builds(
    lambda dataset, features, k, tol, seed, max_iters, cov, init, rule, reg, std, replay,
    color: ExploreView(FitRequest(
        dataset=dataset, features=features, k=k, tol=tol, seed=seed, max_iters=max_iters,
        covariance_type=cov, init=init, convergence=rule, reg_covar=reg, standardize=std,
        algorithm="notebook" if replay else "em"), color),
    st.sampled_from(DATASETS),
    st.lists(FEATURE_NAMES, min_size=1, max_size=5, unique=True).map(tuple),
    st.integers(*K_RANGE), st.sampled_from(TOLERANCES), st.integers(*SEED_RANGE),
    st.integers(*MAX_ITERS_RANGE), st.sampled_from(COVARIANCE_OPTIONS),
    st.sampled_from(INIT_METHODS), st.sampled_from(CONVERGENCE_RULES),
    st.sampled_from(REGULARIZATIONS), st.booleans(), st.booleans(), st.sampled_from(COLOR_BY),
)


@given(views)
def test_every_view_survives_the_trip_through_the_url(view):
    params = view_to_query(view)
    assert all(isinstance(value, str) for value in params.values())
    again, problems = view_from_query(params, DEFAULT, DATASETS)
    assert problems == []
    assert again == view
    assert view_to_query(again) == params


@pytest.mark.parametrize(("asked", "fitted"), [
    ("full", "full"), ("tied", "tied"), ("diag", "diag"), ("spherical", "spherical"),
    ("VVV", "full"), ("EEE", "tied"), ("VVI", "diag"), ("VII", "spherical"),
    ("VEV", "VEV"), ("EII", "EII"), ("EVE", "EVE"), ("E", "E"), ("V", "V")])
def test_links_take_mclusts_names_and_scikit_learns(asked, fitted):
    view, problems = view_from_query({"covariance_type": asked}, DEFAULT, DATASETS)
    assert problems == []
    assert view.request.covariance_type == fitted  # the control's own choice
    assert fitted in COVARIANCE_OPTIONS
    assert view_to_query(view)["covariance_type"] == fitted


def test_an_mclust_name_in_the_wrong_case_is_refused():
    view, problems = view_from_query({"covariance_type": "vev"}, DEFAULT, DATASETS)
    assert view == DEFAULT and problems[0].startswith("covariance_type=vev is not one of ")


def test_an_empty_url_gives_the_default_view_without_complaint():
    assert view_from_query({}, DEFAULT, DATASETS) == (DEFAULT, [])


def test_the_default_is_the_notebooks_case_when_its_data_is_here():
    assert default_view(sdss_present=True).request.dataset == "sdss"
    assert default_view(sdss_present=True).request.k == 2
    assert default_view(sdss_present=False).request.dataset in DATASETS


def test_the_url_names_every_setting_readably():
    view = ExploreView(FitRequest(dataset="iris", features=("petal_length", "petal_width",
                                                            "sepal_length"),
                                  k=3, tol=3e-5, reg_covar=0.0, standardize=True,
                                  algorithm="notebook"), "uncertainty", "okabe_ito",
                       present=True, aspect="fill")
    assert view_to_query(view) == {
        "dataset": "iris", "x": "petal_length", "y": "petal_width", "extra": "sepal_length",
        "k": "3", "tol": "3e-05", "seed": "42", "max_iters": "100",
        "covariance_type": "full", "init": "kmeans++", "convergence": "loglik",
        "reg_covar": "0", "standardize": "true", "replay": "true", "color": "uncertainty",
        "palette": "okabe_ito", "present": "true", "aspect": "fill",
    }


@pytest.mark.parametrize(("key", "value"), [
    ("dataset", "nope"), ("k", "0"), ("k", "13"), ("k", "two"), ("seed", "-1"),
    ("max_iters", "1.5"), ("tol", "-1e-3"), ("tol", "abc"), ("covariance_type", "round"),
    ("init", "magic"), ("convergence", "never"), ("reg_covar", "inf"),
    ("standardize", "maybe"), ("replay", "2"), ("color", "rainbow"), ("palette", "neon"),
    ("aspect", "stretch"),
    ("present", "loud"), ("noise", "some"),
])
def test_a_bad_value_falls_back_to_the_default_with_one_message_naming_it(key, value):
    view, problems = view_from_query({key: value}, DEFAULT, DATASETS)
    assert view == DEFAULT
    assert len(problems) == 1
    assert problems[0].startswith(f"{key}={value} is ")
    assert "using" in problems[0]


def test_every_start_has_a_label_and_mclusts_is_read_from_the_address():
    assert set(INIT_LABELS) == {*INIT_METHODS, PLACED}
    view, problems = view_from_query({"init": "hierarchical"}, DEFAULT, DATASETS)
    assert (view.request.init, problems) == ("hierarchical", [])
    assert view_to_query(view)["init"] == "hierarchical"


def test_a_tolerance_off_the_slider_snaps_to_the_nearest_on_a_log_scale():
    view, problems = view_from_query({"tol": "2e-5", "reg_covar": "4e-7"}, DEFAULT, DATASETS)
    assert view.request.tol == 3e-5
    assert view.request.reg_covar == 1e-6
    assert problems == ["tol=2e-5 is not on the slider; using 3e-05",
                        "reg_covar=4e-7 is not on the slider; using 1e-06"]


def test_a_repeated_parameter_takes_its_last_value_and_flags_read_words():
    view, problems = view_from_query({"k": ["3", "5"], "standardize": "yes", "replay": "ON"},
                                     DEFAULT, DATASETS)
    assert problems == []
    assert view.request.k == 5
    assert view.request.standardize is True
    assert view.request.algorithm == "notebook"


def test_features_need_both_axes_else_the_data_sets_default_view():
    view, _ = view_from_query({"x": "a"}, DEFAULT, DATASETS)
    assert view.request.features == ()
    view, _ = view_from_query({"x": "a", "y": "b", "extra": "c,,d"}, DEFAULT, DATASETS)
    assert view.request.features == ("a", "b", "c", "d")


@pytest.mark.parametrize(("name", "written"), [
    ("none", "~none"), ("~none", "~~none"), ("~", "~~"), ("spectrum", "spectrum"),
    ("None", "None"), ("a,b", "a,b"), ("petal_length", "petal_length")])
def test_a_column_is_named_in_the_address_so_that_it_reads_as_nothing_else(name, written):
    assert name_to_query(name) == written
    assert name_from_query(written) == name


def test_a_column_named_none_is_chosen_by_link_and_y_none_is_still_x_alone():
    both = ExploreView(FitRequest(dataset="upload", features=("width", "none")))
    assert view_to_query(both)["y"] == "~none"
    again, problems = view_from_query(view_to_query(both), DEFAULT, (*DATASETS, "upload"))
    assert (again, problems) == (both, [])
    # The word alone is X alone, in links from before the escape and after it alike.
    view, _ = view_from_query({"x": "width", "y": "none"}, DEFAULT, DATASETS)
    assert view.request.features == ("width",)
    # X has no word of its own to clash with: a bare name there is the column.
    view, _ = view_from_query({"x": "none", "y": "~none"}, DEFAULT, DATASETS)
    assert view.request.features == ("none", "none")


def test_extra_dimensions_are_one_csv_row_so_a_name_may_hold_a_comma_or_a_quote():
    names = ("a,b", 'say "hi"', "none", "~c", "plain")
    written = names_to_query(names)
    assert written == '"a,b","say ""hi""",~none,~~c,plain'
    assert names_from_query(written) == list(names)
    assert names_from_query("c,,d") == ["c", "d"]  # as links wrote them before
    view, problems = view_from_query({"x": "x", "y": "y", "extra": written}, DEFAULT, DATASETS)
    assert (view.request.features, problems) == (("x", "y", *names), [])


@given(st.dictionaries(st.sampled_from(["x", "y", "extra"]), st.text()))
def test_any_text_where_a_link_names_columns_is_read_without_failing(params):
    view, _ = view_from_query(params, DEFAULT, DATASETS)
    assert all(isinstance(name, str) for name in view.request.features)


# ------------------------------------------------------------------ features vs data set
def test_unknown_features_are_replaced_by_the_default_view_and_named():
    iris = load_dataset("iris")
    features, problems = resolve_features(("petal_length", "flux_3", "sepal_width",
                                           "petal_length", "bogus"), iris)
    assert features == ("petal_length", "petal_width", "sepal_width")
    assert problems == ["Iris flowers (Fisher 1936) has no feature flux_3, bogus; showing "
                        "petal_length and petal_width instead"]
    assert resolve_features((), iris) == (("petal_length", "petal_width"), [])


def test_only_spectra_get_wavelength_sliders(tmp_path, monkeypatch):
    monkeypatch.setenv("ASTROML_DATA", str(tmp_path))
    write_spec4000(tmp_path, n=20, n_bins=50)
    sdss = load_dataset("sdss")
    flux = spectral_features(sdss)
    assert flux == [f"flux_{j}" for j in range(50)]
    assert spectral_features(load_dataset("iris")) == []
    features, problems = resolve_features(("flux_7", "pca_1"), sdss)
    assert (features, problems) == (("flux_7", "pca_1"), [])


def test_extra_dimensions_beyond_the_cap_are_left_out_and_named():
    names = [f"f{j}" for j in range(MAX_DIMENSIONS + 3)]
    wide = Dataset("wide", "Wide", pd.DataFrame(np.zeros((3, len(names))), columns=names),
                   {n: FeatureInfo(n, n) for n in names}, ("f0", "f1"))
    features, problems = resolve_features(names, wide)
    assert features == tuple(names[:MAX_DIMENSIONS])
    assert problems == [f"a fit has at most {MAX_DIMENSIONS} dimensions; left out "
                        + ", ".join(names[MAX_DIMENSIONS:])]


def test_the_upload_choice_comes_back_from_the_url_when_offered():
    view, problems = view_from_query({"dataset": "upload", "x": "a", "y": "b"}, DEFAULT,
                                     (*DATASETS, "upload"))
    assert problems == []
    assert view.request.dataset == "upload"
    assert view.request.features == ("a", "b")


def test_the_noise_component_goes_into_the_url_only_when_on_and_comes_back():
    plain = ExploreView(FitRequest(dataset="iris", features=("petal_length", "petal_width")))
    assert "noise" not in view_to_query(plain)
    noisy = ExploreView(FitRequest(dataset="iris", features=("petal_length", "petal_width"),
                                   noise=True))
    params = view_to_query(noisy)
    assert params["noise"] == "true"
    assert view_from_query(params, DEFAULT, DATASETS) == (noisy, [])
    assert view_from_query({**params, "noise": "false"}, DEFAULT, DATASETS)[0] == plain
