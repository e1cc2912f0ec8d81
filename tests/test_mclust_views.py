"""mclust's models on the Explore page: each model's animated ellipses keep what the model
keeps equal, the covariance control offers the 14 (E and V for one feature), a link
with an mclust name opens it, and scikit-learn's panel says when it has no such model."""

from __future__ import annotations

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest
from test_app_explore import APP, _own_data_home, animation, assert_clean, status  # noqa: F401

from dashboard.binary_payload import unpack
from dashboard.controls import COVARIANCE_OPTIONS, covariance_choice
from dashboard.figures import DEFAULT_OPTIONS
from dashboard.fit_component import PANELS_KEY
from dashboard.pipeline import animation_bytes, prepare_data, run_fit
from gmm_core import FitRequest
from gmm_core.datasets import load_dataset
from gmm_core.model_names import MODELS, mclust_name

IRIS = load_dataset("iris")
PETALS = ("petal_length", "petal_width")


def final_axes(covariance_type: str) -> np.ndarray:
    """The 1-sigma semi-axes ``(k, 2, 2)`` of the animation's last frame, as the browser
    gets them, for a k = 3 fit of iris's petals."""
    request = FitRequest(dataset="iris", features=PETALS, k=3, covariance_type=covariance_type)
    prepared = prepare_data(IRIS, request)
    outcome = run_fit(prepared, request)
    _, arrays = unpack(animation_bytes(prepared, request, outcome, DEFAULT_OPTIONS, False))
    assert np.isfinite(arrays["axes"]).all() and len(arrays["iterations"]) > 1
    return arrays["axes"][-1].astype(np.float64)


def same(values) -> bool:
    return np.allclose(values, values[0], rtol=1e-3)


@pytest.mark.parametrize("covariance_type", MODELS)
def test_each_models_ellipses_keep_what_it_keeps_equal(covariance_type):
    volume, shape, orientation = mclust_name(covariance_type)
    axes = final_axes(covariance_type)
    lengths = np.sort(np.linalg.norm(axes, axis=1), axis=1)  # (k, 2): minor, major
    major = axes[np.arange(3), :, np.linalg.norm(axes, axis=1).argmax(axis=1)]
    directions = major / np.linalg.norm(major, axis=1, keepdims=True)
    assert same(lengths.prod(axis=1)) == (volume == "E")
    ratios = lengths[:, 1] / lengths[:, 0]
    if shape == "I":
        np.testing.assert_allclose(ratios, 1, rtol=1e-3)
    else:
        assert same(ratios) == (shape == "E")
    if orientation == "I":  # along the axes: each semi-axis has one zero coordinate
        assert np.allclose(np.abs(directions).max(axis=1), 1, atol=1e-3) or shape == "I"
    elif shape != "I":
        assert same(np.abs(directions @ directions[0])) == (orientation == "E")


# ------------------------------------------------------------------ the page
def run_page(query: dict) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120)
    at.query_params.update(query)
    return at.run()


def test_the_control_lists_the_14_grouped_with_scikit_learns_names():
    assert (*MODELS, "E", "V") == COVARIANCE_OPTIONS
    assert [covariance_choice(t) for t in ("EII", "spherical", "tied", "VEV", "full", "V")] \
        == ["EII · spherical", "VII (spherical) · spherical", "EEE (tied) · ellipsoidal",
            "VEV · ellipsoidal", "VVV (full) · ellipsoidal", "V · one feature"]


def test_a_link_with_vev_opens_and_animates_it_and_says_scikit_learn_has_none():
    at = run_page({"dataset": "iris", "covariance_type": "VEV", "k": "2"})
    assert_clean(at)
    control = at.selectbox(key="covariance_type")
    assert control.value == "VEV" and control.options == [covariance_choice(t) for t in
                                                          COVARIANCE_OPTIONS]
    assert at.query_params["covariance_type"] == "VEV"
    assert status(at).startswith("Converged after")
    figure = animation(at)
    assert figure.arrays["centres"].shape[1:] == (2, 2) and figure.meta["n_iter"] > 1
    assert "varying volume, equal shape, varying orientation" in " ".join(
        c.value for c in at.sidebar.caption)
    (said,) = [i.value for i in at.info if "scikit-learn" in i.value]
    assert said.startswith("scikit-learn's GaussianMixture has no VEV model")
    assert PANELS_KEY not in [e.key for e in at.get("bidi_component")]
    assert any(s.value == "Share and download" for s in at.subheader)  # the page goes on


def test_vvv_in_a_link_is_scikit_learns_full_and_compared_with_it():
    at = run_page({"dataset": "iris", "covariance_type": "VVV"})
    assert_clean(at)
    assert at.selectbox(key="covariance_type").value == "full"
    assert at.query_params["covariance_type"] == "full"
    assert PANELS_KEY in [e.key for e in at.get("bidi_component")]


def test_e_on_two_features_fits_eii_and_says_so():
    at = run_page({"dataset": "iris", "covariance_type": "E"})
    assert not at.exception and not at.error
    assert at.query_params["covariance_type"] == "EII"
    assert any(w.value.startswith("E \\(equal variance\\) is a model of one feature")
               for w in at.warning)


def test_one_feature_fits_e_and_compares_it_with_scikit_learns_tied():
    at = run_page({"dataset": "iris", "x": "petal_length", "y": "none", "k": "2",
                   "covariance_type": "E"})
    assert_clean(at)
    assert at.query_params["covariance_type"] == "E"
    assert PANELS_KEY in [e.key for e in at.get("bidi_component")]
    assert any(i.value.startswith("Both reached the same optimum") for i in at.info)
    assert any("the same model under its name, tied" in c.value for c in at.caption)
