"""The Explore page's figure payloads (``dashboard.fit_payload``), read back as the browser
reads them: what moves per frame, the curves and events, points sent only when asked,
and the size budget."""

from __future__ import annotations

import numpy as np
import pytest

from dashboard.binary_payload import pack, unpack
from dashboard.figures import (
    MAX_FRAMES,
    MAX_POINTS,
    FigureOptions,
    blend_codes,
    frame_iterations,
    plot_data,
)
from dashboard.fit_payload import Panel, animation_payload, panels_payload, points_id
from dashboard.pipeline import animation_bytes, prepare_data, run_fit
from dashboard.query_state import default_view
from gmm_core import GMM, Event, FitTrace
from gmm_core.datasets import load_dataset
from gmm_core.trace import IDENTICAL_COMPONENTS, NOT_POSITIVE_DEFINITE

# DESIGN.md: the animated figure's payload is at most 3 MB.
PAYLOAD_BUDGET_BYTES = 3_000_000


def handmade_trace(means, covariances, responsibilities, events=(), zero_density=None,
                   algorithm="em") -> FitTrace:
    means = np.asarray(means, dtype=float)
    T, k, _ = means.shape
    m = np.asarray(responsibilities).shape[1]
    return FitTrace(
        covariance_type="full", n_samples=m, weights=np.full((T, k), 1 / k), means=means,
        covariances=np.asarray(covariances, dtype=float),
        mean_log_likelihood=np.linspace(-3.0, -1.0, T), mean_shift=np.r_[np.nan, np.ones(T - 1)],
        sample_index=np.arange(m), responsibilities=np.asarray(responsibilities, np.float32),
        stop_reason="converged", events=list(events), zero_density=zero_density,
        algorithm=algorithm)


def outline(centre, axes, level, n=41):
    """What the browser draws for one sigma level: the unit circle mapped by the axes."""
    angle = np.linspace(0, 2 * np.pi, n)
    return centre[:, None] + level * axes @ np.stack([np.cos(angle), np.sin(angle)])


# ------------------------------------------------------------------ the container
def test_the_container_round_trips_typed_arrays_and_json():
    arrays = {"a": np.arange(5, dtype=np.uint16), "b": np.eye(3, dtype=np.float32),
              "c": np.array([np.nan, 1.5]), "d": np.arange(3, dtype=np.uint8)}
    for compress in (True, False):
        meta, back = unpack(pack({"x": [1, "two"]}, arrays, compress=compress))
        assert meta == {"x": [1, "two"]}
        for name, array in arrays.items():
            np.testing.assert_array_equal(back[name], array)
            assert back[name].dtype == array.dtype


def test_the_container_refuses_what_javascript_cannot_read():
    with pytest.raises(ValueError, match="dtype int64"):
        pack({}, {"a": np.arange(3, dtype=np.int64)})
    with pytest.raises(ValueError, match="not a GMM Explorer payload"):
        unpack(b"PK\x03\x04 a zip file")


# ------------------------------------------------------------------ the animation
def test_one_frame_per_shown_iteration_opening_on_the_last(fig69_fit):
    X, trace = fig69_fit
    data = plot_data(X, trace.sample_index)
    meta, arrays = unpack(animation_payload(data, trace))
    shown = frame_iterations(trace.n_iter, [e.iteration for e in trace.events])
    np.testing.assert_array_equal(arrays["iterations"], shown)
    k, m = trace.n_components, len(data.rows)
    assert arrays["colors"].shape == (len(shown), m)
    assert arrays["centres"].shape == (len(shown), k, 2)
    assert arrays["axes"].shape == (len(shown), k, 2, 2)
    assert meta["k"] == k and meta["n_iter"] == trace.n_iter
    assert meta["titles"][-1] == f"EM: iteration {trace.n_iter} of {trace.n_iter}"
    np.testing.assert_allclose(arrays["log_likelihood"], trace.log_likelihood)
    np.testing.assert_allclose(arrays["points"], data.xy, rtol=1e-6)


def test_each_frame_carries_that_iterations_colours_and_means(fig69_fit):
    X, trace = fig69_fit
    data = plot_data(X, trace.sample_index)
    _, arrays = unpack(animation_payload(data, trace))
    for f, t in enumerate(arrays["iterations"][:5]):
        np.testing.assert_array_equal(
            arrays["colors"][f], blend_codes(trace.responsibilities[t][data.positions]))
        np.testing.assert_allclose(arrays["centres"][f], trace.means[t], rtol=1e-6)
        np.testing.assert_allclose(arrays["weights"][f], trace.weights[t], rtol=1e-6)
        # The table beside the figure reads each covariance back from the ellipse axes.
        axes = arrays["axes"][f].astype(float)
        np.testing.assert_allclose(axes @ axes.transpose(0, 2, 1), trace.covariances[t],
                                   rtol=1e-4, atol=1e-6)


def test_ellipses_drawn_from_the_axes_sit_at_one_two_and_three_sigma():
    means = [[[1.0, 2.0], [-5.0, 0.0]], [[1.5, 2.5], [-5.0, 1.0]]]
    rotation = np.array([[np.cos(0.5), -np.sin(0.5)], [np.sin(0.5), np.cos(0.5)]])
    tilted = rotation @ np.diag([4.0, 0.25]) @ rotation.T
    covariances = np.array([[np.diag([4.0, 1.0]), tilted]] * 2)
    trace = handmade_trace(means, covariances, np.full((2, 3, 2), 0.5))
    _, arrays = unpack(animation_payload(plot_data(np.zeros((3, 2)), trace.sample_index),
                                         trace))
    for f in range(2):
        for j in range(2):
            for level in (1, 2, 3):
                ring = outline(arrays["centres"][f, j], arrays["axes"][f, j], level)
                diff = ring.T - np.asarray(means[f][j])
                distance = np.sqrt(np.einsum("ni,ij,nj->n", diff,
                                             np.linalg.inv(covariances[f, j]), diff))
                np.testing.assert_allclose(distance, level, rtol=1e-5)


def test_mean_paths_run_through_the_shown_iterations_when_there_are_more_than_frames():
    T = 200
    means = np.cumsum(np.ones((T, 2, 2)), axis=0)
    trace = handmade_trace(means, np.tile(np.eye(2), (T, 2, 1, 1)), np.full((T, 3, 2), 0.5))
    _, arrays = unpack(animation_payload(plot_data(np.zeros((3, 2)), trace.sample_index),
                                         trace))
    shown = frame_iterations(T - 1)
    assert len(arrays["iterations"]) == len(shown) <= MAX_FRAMES
    np.testing.assert_array_equal(arrays["centres"][:, 1, 0], means[shown, 1, 0])


def test_uncertainty_colours_are_one_minus_the_largest_responsibility(fig69_fit):
    X, trace = fig69_fit
    data = plot_data(X, trace.sample_index)
    meta, arrays = unpack(animation_payload(data, trace, FigureOptions(color_by="uncertainty")))
    assert meta["color_by"] == "uncertainty" and meta["uncertainty_max"] == 0.75
    for f, t in enumerate(arrays["iterations"][:3]):
        expected = 1 - trace.responsibilities[t][data.positions].max(axis=1)
        np.testing.assert_allclose(arrays["colors"][f] / 255, expected, atol=0.5 / 255 + 1e-6)


def test_events_are_marked_and_named_in_their_frame_and_the_replay_counts_zero_densities():
    means = np.zeros((4, 2, 2))
    covariances = np.tile(np.eye(2), (4, 2, 1, 1))
    events = [Event(0, IDENTICAL_COMPONENTS, "Components 0 and 1 start identical.", 0),
              Event(2, NOT_POSITIVE_DEFINITE, "Component 1 collapsed onto a spike.", 1)]
    trace = handmade_trace(means, covariances, np.full((4, 3, 2), 0.5), events,
                           zero_density=np.array([0, 1, 5, 9]), algorithm="notebook")
    meta, arrays = unpack(animation_payload(plot_data(np.zeros((3, 2)), trace.sample_index),
                                            trace))
    assert [e["iteration"] for e in meta["events"]] == [0, 2]
    assert "spike" in meta["events"][1]["text"]
    assert "identical components (component 0)" in meta["titles"][0]
    assert "covariance collapse (component 1)" in meta["titles"][2]
    assert meta["titles"][1] == "Notebook replay: iteration 1 of 3"
    assert meta["second_title"] == "rows with zero density"
    np.testing.assert_array_equal(arrays["second"], [0, 1, 5, 9])


def test_points_travel_only_when_asked_for_and_are_named_by_their_coordinates(fig69_fit):
    X, trace = fig69_fit
    data = plot_data(X, trace.sample_index)
    with_points = animation_payload(data, trace, include_points=True)
    without = animation_payload(data, trace, include_points=False)
    meta, arrays = unpack(without)
    assert "points" not in arrays
    assert meta["points_id"] == points_id(data) == unpack(with_points)[0]["points_id"]
    assert len(with_points) - len(without) > 4 * len(data.rows)  # two float32 a point
    moved = plot_data(X + 1.0, trace.sample_index)
    assert points_id(moved) != points_id(data)


def test_panels_draw_the_animations_points_with_their_own_labels_and_colours(fig69_fit):
    X, trace = fig69_fit
    data = plot_data(X, trace.sample_index)
    labels = trace.labels(-1)[data.positions]
    panel = Panel("ours", labels, trace.weights[-1], trace.means[-1], trace.covariances[-1],
                  ["#000"] * 4)
    meta, arrays = unpack(panels_payload(data, [panel, panel]))
    assert meta["points_id"] == points_id(data) and "points" not in arrays
    assert [p["title"] for p in meta["panels"]] == ["ours", "ours"]
    np.testing.assert_array_equal(arrays["labels_1"], labels)
    np.testing.assert_allclose(arrays["centres_0"], trace.means[-1], rtol=1e-6)


# ------------------------------------------------------------------ budgets
def test_default_view_payload_is_small():
    request = default_view(sdss_present=False).request
    dataset = load_dataset(request.dataset)
    prepared = prepare_data(dataset, request.with_changes(features=dataset.default_view))
    outcome = run_fit(prepared, request)
    size = len(animation_bytes(prepared, request, outcome, FigureOptions(), include_points=True))
    assert size < PAYLOAD_BUDGET_BYTES / 10


def test_largest_view_the_controls_allow_is_under_the_budget():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(5_000, 2)) + rng.integers(0, 12, size=(5_000, 1)) * 3.0
    trace = GMM(k=12, tol=0.0, max_iters=1000, trace_points=MAX_POINTS).fit(X).trace_
    _, arrays = unpack(payload := animation_payload(plot_data(X, trace.sample_index), trace))
    assert len(arrays["iterations"]) == MAX_FRAMES
    assert len(payload) < PAYLOAD_BUDGET_BYTES


def test_the_payloads_say_whether_the_browser_draws_true_to_scale(fig69_fit):
    X, trace = fig69_fit
    data = plot_data(X, trace.sample_index)
    default, _ = unpack(animation_payload(data, trace))
    filled, _ = unpack(animation_payload(data, trace, FigureOptions(aspect="fill")))
    assert default["aspect"] == "equal" and filled["aspect"] == "fill"
    assert default["fit_id"] != filled["fit_id"]  # the browser redraws on a change
