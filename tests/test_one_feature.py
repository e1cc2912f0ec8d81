"""Fits of one feature (Y "none", a one-column file, the two-bumps preset) and the empty
sketch's canvas: the request, the link, the payloads the browser draws."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import norm

from dashboard import sketch
from dashboard.binary_payload import unpack
from dashboard.figures import DEFAULT_OPTIONS, component_densities, histogram
from dashboard.pipeline import (
    animation_bytes,
    panels_bytes,
    prepare_data,
    run_comparison,
    run_fit,
)
from dashboard.query_state import (
    NO_Y,
    default_view,
    resolve_features,
    view_from_query,
    view_to_query,
)
from gmm_core import FitRequest
from gmm_core.datasets import load_dataset
from gmm_core.datasets.sketch import (
    BUMP_GROUPS,
    BUMPS,
    SKETCH,
    bumps_sample,
    sketch_params,
)

DEFAULT = default_view(sdss_present=False)
DATASETS = ["iris", f"sketch_{BUMPS}", SKETCH, "upload"]


# ------------------------------------------------------------------ the preset
def test_the_two_bumps_are_one_feature_in_fixed_shares_and_reproducible():
    values, groups = bumps_sample(200, seed=3)
    assert values.shape == (200,) and np.isfinite(values).all()
    assert np.bincount(groups).tolist() == [120, 80]  # 60% and 40%
    for g, (_, mean, sd) in enumerate(BUMP_GROUPS):
        assert abs(values[groups == g].mean() - mean) < 3 * sd / np.sqrt(80)
    np.testing.assert_array_equal(values, bumps_sample(200, seed=3)[0])
    assert not np.array_equal(values, bumps_sample(200, seed=4)[0])

    dataset = load_dataset(f"sketch_{BUMPS}", n_samples="200", seed="3")
    assert dataset.columns == ["x"] and dataset.default_view == ("x",)
    np.testing.assert_array_equal(dataset.matrix(["x"])[:, 0], values)
    assert dataset.known_labels["group"].value_counts().to_dict() == {"group 1": 120,
                                                                      "group 2": 80}


def test_em_finds_the_two_bumps():
    request = FitRequest(dataset=f"sketch_{BUMPS}", features=("x",), k=2, seed=1)
    outcome = run_fit(prepare_data(load_dataset(request.dataset), request), request)
    means = np.sort(outcome.trace.means[-1][:, 0])
    np.testing.assert_allclose(means, [BUMP_GROUPS[0][1], BUMP_GROUPS[1][1]], atol=0.5)


# ------------------------------------------------------------------ the link
def test_y_none_in_a_link_is_a_fit_of_the_x_feature_alone_and_comes_back():
    query = {"dataset": "iris", "x": "petal_length", "y": NO_Y, "k": "3"}
    view, problems = view_from_query(query, DEFAULT, DATASETS)
    assert problems == []
    assert view.request.features == ("petal_length",)
    written = view_to_query(view)
    assert (written["x"], written["y"]) == ("petal_length", NO_Y) and "extra" not in written
    assert view_from_query(written, DEFAULT, DATASETS)[0] == view


def test_extra_dimensions_with_y_none_are_named_and_left_out():
    view, problems = view_from_query({"dataset": "iris", "x": "petal_length", "y": NO_Y,
                                      "extra": "sepal_width"}, DEFAULT, DATASETS)
    assert view.request.features == ("petal_length",)
    assert problems == ["extra=sepal_width is left out: with y=none the fit has one feature"]


def test_one_feature_resolves_against_the_data_set():
    iris, bumps = load_dataset("iris"), load_dataset(f"sketch_{BUMPS}")
    assert resolve_features(("petal_length",), iris) == (("petal_length",), [])
    features, problems = resolve_features(("bogus",), iris)
    assert features == iris.default_view[:1] and "no feature bogus" in problems[0]
    # A link with x and y on a data set of one feature keeps x and drops y.
    features, problems = resolve_features(("x", "y"), bumps)
    assert features == ("x",) and "no feature y" in problems[0]
    assert resolve_features((), bumps) == (("x",), [])


# ------------------------------------------------------------------ the payloads
@pytest.fixture(scope="module")
def bumps_fit():
    request = FitRequest(dataset=f"sketch_{BUMPS}", features=("x",), k=2, seed=2)
    prepared = prepare_data(load_dataset(request.dataset), request)
    return request, prepared, run_fit(prepared, request)


def test_component_densities_are_the_weighted_normal_densities():
    x = np.linspace(-5, 5, 11)
    expected = np.stack([0.3 * norm.pdf(x, -1, 0.5), 0.7 * norm.pdf(x, 2, 1.5)])
    np.testing.assert_allclose(component_densities(x, [0.3, 0.7], [-1, 2], [0.25, 2.25]),
                               expected, rtol=1e-12)


def test_the_histogram_is_a_density_over_every_row():
    values = np.random.default_rng(0).normal(size=5000)
    counts = histogram(values)
    assert counts.edges[0] == values.min() and counts.edges[-1] == values.max()
    assert np.sum(counts.density * np.diff(counts.edges)) == pytest.approx(1.0)
    assert len(counts.density) <= 80


def test_a_one_feature_animation_carries_the_histogram_and_each_frames_mixture(bumps_fit):
    request, prepared, outcome = bumps_fit
    trace = outcome.trace
    meta, arrays = unpack(animation_bytes(prepared, request, outcome, DEFAULT_OPTIONS,
                                          include_points=True))
    assert meta["kind"] == "animation" and meta["n_dims"] == 1
    assert meta["y_title"] == "density" and meta["k"] == 2
    assert not meta["can_place"] and not meta["can_sketch"]
    assert "centres" not in arrays and "axes" not in arrays
    shown = arrays["iterations"]
    assert shown[0] == 0 and shown[-1] == trace.n_iter
    np.testing.assert_allclose(arrays["weights"], trace.weights[shown])
    np.testing.assert_allclose(arrays["means"], trace.means[shown][:, :, 0])
    np.testing.assert_allclose(arrays["variances"], trace.covariances[shown][:, :, 0, 0])
    assert arrays["colors"].shape == (len(shown), len(arrays["points"]))
    assert arrays["points"].shape == (300, 1)
    # The histogram of every fitted row, and axes that hold it and the strip of points.
    expected = histogram(prepared.X)
    np.testing.assert_allclose(arrays["hist_edges"], expected.edges)
    np.testing.assert_allclose(arrays["hist_density"], expected.density)
    bottom, top = meta["y_range"]
    assert bottom < 0 < arrays["hist_density"].max() < top
    low, high = meta["x_range"]
    assert low < prepared.X.min() and prepared.X.max() < high
    # A new fit of the same points leaves them out.
    again = unpack(animation_bytes(prepared, request, outcome, DEFAULT_OPTIONS, False))
    assert "points" not in again[1] and again[0]["points_id"] == meta["points_id"]


def test_beside_scikit_learn_one_feature_panels_carry_both_mixtures(bumps_fit):
    request, prepared, outcome = bumps_fit
    compared = run_comparison(prepared, request, outcome)
    meta, arrays = unpack(panels_bytes(prepared, outcome, compared, DEFAULT_OPTIONS))
    assert meta["kind"] == "panels" and meta["n_dims"] == 1 and len(meta["panels"]) == 2
    np.testing.assert_allclose(arrays["means_0"], outcome.trace.means[-1][:, 0])
    np.testing.assert_allclose(arrays["weights_1"], compared.theirs.weights)
    np.testing.assert_allclose(arrays["variances_1"],
                               compared.theirs.full_covariances[:, 0, 0])
    # Both found the same two bumps.
    np.testing.assert_allclose(np.sort(arrays["means_0"]), np.sort(arrays["means_1"]),
                               atol=1e-3)


# ------------------------------------------------------------------ the empty sketch
def sketch_request(points, k=3) -> FitRequest:
    return FitRequest(dataset=SKETCH, dataset_params=sketch_params(points), features=("x", "y"),
                      k=k)


def test_a_sketch_is_fitted_from_k_plus_one_points():
    assert sketch.points_missing(sketch_request([], k=3)) == 4
    assert sketch.points_missing(sketch_request([[0, 0]] * 3, k=3)) == 1
    assert sketch.points_missing(sketch_request([[0, 0]] * 4, k=3)) == 0
    assert sketch.points_missing(FitRequest(dataset="iris", k=3)) == 0


def test_the_empty_sketch_is_an_equal_frame_with_its_points_and_the_hint():
    meta, arrays = unpack(sketch.canvas(sketch_request([]), DEFAULT_OPTIONS))
    assert meta["kind"] == "canvas"
    assert meta["x_range"] == meta["y_range"] == [-10.0, 10.0]
    assert meta["hint"] == ("Click to add points; the fit starts when there are enough: 4 for "
                            "k = 3 (k + 1), 4 to go.")
    assert arrays["points"].shape == (0, 2)
    meta2, arrays2 = unpack(sketch.canvas(sketch_request([[1.0, 2.0], [13.0, 0.0]]),
                                          DEFAULT_OPTIONS))
    np.testing.assert_array_equal(arrays2["points"], [[1, 2], [13, 0]])
    assert meta2["x_range"] == meta2["y_range"] == [-10.0, 14.0]  # the frame holds them
    assert meta2["fit_id"] != meta["fit_id"]
