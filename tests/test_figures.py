"""The Explore page's Plotly figures, built and read back without a server."""

from __future__ import annotations

import base64
import json

import numpy as np
import plotly.graph_objects as go
import plotly.io as pio
import pytest
from plotly.colors import hex_to_rgb

from dashboard.figures import (
    BLEND_COLORSCALE,
    BLEND_LEVELS,
    COMPONENT_COLORS,
    ELLIPSE_VERTICES,
    MAX_FRAMES,
    MAX_POINTS,
    SLIDER_INDENT_PX,
    FigureOptions,
    axis_ranges,
    blend_codes,
    blend_rgb,
    fit_animation,
    frame_iterations,
    matched_colors,
    mixture_figure,
    plot_data,
)
from dashboard.pipeline import build_figures, prepare_data, run_comparison, run_fit
from dashboard.query_state import default_view
from gmm_core import GMM, Event, FitTrace
from gmm_core.datasets import load_dataset
from gmm_core.trace import IDENTICAL_COMPONENTS, NOT_POSITIVE_DEFINITE

JSON_BUDGET_BYTES = 3_000_000


def wire(fig: go.Figure) -> dict:
    """The figure as Streamlit sends it to the browser."""
    return json.loads(pio.to_json(fig, validate=False))


def numbers(values) -> np.ndarray:
    """An array from the wire format: a plain list or a typed array {dtype, bdata}."""
    if isinstance(values, dict):
        dtype = np.dtype(values["dtype"]).newbyteorder("<")
        return np.frombuffer(base64.b64decode(values["bdata"]), dtype=dtype).astype(float)
    return np.asarray(values, dtype=float)


def by_name(traces: list[dict], name: str) -> dict:
    (trace,) = [t for t in traces if t.get("name") == name]
    return trace


def level_pieces(x, y) -> list[tuple[np.ndarray, np.ndarray]]:
    """Split an ellipse trace at its NaN gaps, one piece per sigma level."""
    x, y = numbers(x), numbers(y)
    breaks = np.flatnonzero(np.isnan(x))
    starts = np.r_[0, breaks[:-1] + 1]
    return [(x[s:e], y[s:e]) for s, e in zip(starts, breaks, strict=True)]


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


@pytest.fixture(scope="module")
def fig69_fit():
    dataset = load_dataset("astroml_fig69")
    X = dataset.matrix(dataset.default_view)
    model = GMM(k=4, seed=42, trace_points=MAX_POINTS).fit(X)
    return X, model.trace_


# ------------------------------------------------------------------ frame choice
def test_every_iteration_gets_a_frame_when_they_fit():
    np.testing.assert_array_equal(frame_iterations(10, max_frames=60), np.arange(11))


def test_frames_are_capped_keep_first_last_and_event_iterations():
    shown = frame_iterations(500, event_iterations=[0, 3, 77, 500], max_frames=60)
    assert len(shown) <= 60
    assert shown[0] == 0 and shown[-1] == 500
    assert {3, 77} <= set(shown.tolist())
    assert np.all(np.diff(shown) > 0)


def test_many_events_take_at_most_a_quarter_of_the_frames():
    shown = frame_iterations(1000, event_iterations=range(1, 400), max_frames=40)
    assert len(shown) <= 40
    assert set(range(1, 11)) <= set(shown.tolist())  # the first 40 // 4 events
    evenly_spread = np.linspace(0, 1000, 30).round().astype(int)
    assert set(evenly_spread.tolist()) <= set(shown.tolist())


# ------------------------------------------------------------------ the animation
def test_animation_has_one_frame_per_shown_iteration_and_a_slider_over_them(fig69_fit):
    X, trace = fig69_fit
    fig = wire(fit_animation(plot_data(X, trace.sample_index), trace))
    shown = frame_iterations(trace.n_iter, [e.iteration for e in trace.events])
    names = [str(t) for t in shown]
    assert [frame["name"] for frame in fig["frames"]] == names
    assert 2 <= len(fig["frames"]) <= MAX_FRAMES
    (slider,) = fig["layout"]["sliders"]
    assert [step["label"] for step in slider["steps"]] == names
    assert [step["args"][0] for step in slider["steps"]] == [[name] for name in names]
    assert slider["active"] == len(names) - 1  # opens on the fitted state
    (menu,) = fig["layout"]["updatemenus"]
    assert [button["label"] for button in menu["buttons"]] == ["Play", "Pause"]
    play = menu["buttons"][0]["args"]
    assert play[0] is None and play[1]["fromcurrent"] is False  # Play starts at iteration 0


def test_the_iteration_label_is_centred_between_the_axis_titles_right_of_the_buttons(
        fig69_fit):
    X, trace = fig69_fit
    layout = wire(fit_animation(plot_data(X, trace.sample_index), trace))["layout"]
    (slider,) = layout["sliders"]
    (menu,) = layout["updatemenus"]
    assert slider["currentvalue"]["xanchor"] == "center"
    assert slider["currentvalue"]["prefix"] == "Iteration "
    # The label's centre (the slider's, shifted right by at most half the indent) is
    # far from both x-axis titles, each centred under its panel.
    centre = slider["x"] + slider["len"] / 2
    left_title, right_title = (sum(layout[axis]["domain"]) / 2 for axis in ("xaxis", "xaxis3"))
    assert left_title + 0.2 < centre < right_title - 0.2
    # The rail starts right of the buttons at any width: both left-anchored at x = 0,
    # the rail indented by a fixed number of pixels.
    assert slider["x"] == menu["x"] == 0.0
    assert slider["pad"]["l"] == SLIDER_INDENT_PX >= 100
    assert slider["y"] == menu["y"] < 0


def test_animation_draws_points_ellipses_paths_means_and_the_curves(fig69_fit):
    X, trace = fig69_fit
    data = plot_data(X, trace.sample_index)
    fig = wire(fit_animation(data, trace))
    traces = fig["data"]
    assert traces[0]["type"] == "scattergl" and traces[0]["name"] == "data"
    np.testing.assert_allclose(numbers(traces[0]["x"]), X[trace.sample_index, 0], rtol=1e-6)
    k = trace.n_components
    for j in range(k):
        assert by_name(traces, f"component {j} ellipses")["type"] == "scattergl"
        path = by_name(traces, f"component {j} path")
        np.testing.assert_allclose(numbers(path["x"]), trace.means[:, j, 0], rtol=1e-6)
    means = by_name(traces, "means")
    np.testing.assert_allclose(numbers(means["x"]), trace.means[-1, :, 0], rtol=1e-6)
    curve = by_name(traces, "log-likelihood")
    np.testing.assert_allclose(numbers(curve["y"]), trace.log_likelihood)
    assert numbers(by_name(traces, "current log-likelihood")["x"]).tolist() == [trace.n_iter]
    # Each frame updates the animated traces only, by index.
    animated = fig["frames"][0]["traces"]
    assert len(fig["frames"][0]["data"]) == len(animated) == 2 * k + 4


def test_each_frame_shows_that_iterations_means_and_their_path_so_far(fig69_fit):
    X, trace = fig69_fit
    fig = wire(fit_animation(plot_data(X, trace.sample_index), trace))
    names = [t["name"] for t in fig["data"]]
    for frame in fig["frames"][:5]:
        t = int(frame["name"])
        data = dict(zip([names[i] for i in frame["traces"]], frame["data"], strict=True))
        np.testing.assert_allclose(numbers(data["means"]["y"]), trace.means[t, :, 1],
                                   rtol=1e-6)
        path = numbers(data["component 1 path"]["x"])
        np.testing.assert_allclose(path, trace.means[: t + 1, 1, 0], rtol=1e-6)
        assert numbers(data["current log-likelihood"]["y"])[0] == pytest.approx(
            trace.log_likelihood[t])
        assert frame["layout"]["title"]["text"].startswith(f"EM: iteration {t} of ")


def test_with_more_iterations_than_frames_paths_run_through_the_shown_iterations():
    T = 200
    means = np.cumsum(np.ones((T, 2, 2)), axis=0)
    trace = handmade_trace(means, np.tile(np.eye(2), (T, 2, 1, 1)), np.full((T, 3, 2), 0.5))
    fig = wire(fit_animation(plot_data(np.zeros((3, 2)), trace.sample_index), trace))
    shown = frame_iterations(T - 1)
    for index in (0, 17, len(shown) - 1):
        frame = fig["frames"][index]
        path = numbers(frame["data"][1 + 2 + 1]["x"])  # points, 2 ellipses, then paths
        np.testing.assert_array_equal(path, means[shown[: index + 1], 1, 0])


def test_ellipses_sit_at_one_two_and_three_sigma_around_each_mean():
    means = [[[1.0, 2.0], [-5.0, 0.0]], [[1.5, 2.5], [-5.0, 1.0]]]
    covariances = np.array([[np.diag([4.0, 1.0]), np.diag([1.0, 9.0])]] * 2)
    resp = np.tile([[1.0, 0.0], [0.0, 1.0], [0.5, 0.5]], (2, 1, 1))
    trace = handmade_trace(means, covariances, resp)
    xy = np.array([[0.0, 0.0], [1.0, 1.0], [2.0, 3.0]])
    fig = wire(fit_animation(plot_data(xy, trace.sample_index), trace))
    names = [t["name"] for t in fig["data"]]
    for frame in fig["frames"]:
        t = int(frame["name"])
        data = dict(zip([names[i] for i in frame["traces"]], frame["data"], strict=True))
        for j, sigmas in enumerate(([2.0, 1.0], [1.0, 3.0])):
            pieces = level_pieces(data[f"component {j} ellipses"]["x"],
                                  data[f"component {j} ellipses"]["y"])
            assert len(pieces) == 3
            for level, (x, y) in zip((1, 2, 3), pieces, strict=True):
                assert len(x) == ELLIPSE_VERTICES
                centre = np.asarray(means[t][j])
                assert x.max() - centre[0] == pytest.approx(level * sigmas[0], rel=1e-5)
                assert centre[0] - x.min() == pytest.approx(level * sigmas[0], rel=1e-5)
                assert y.max() - centre[1] == pytest.approx(level * sigmas[1], rel=1e-5)


def test_points_take_the_blend_of_component_colours_given_by_their_responsibilities():
    resp = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0], [0.5, 0.5, 0.0]])
    rgb = np.array([hex_to_rgb(c) for c in COMPONENT_COLORS[:3]], dtype=float)
    np.testing.assert_allclose(blend_rgb(resp), [rgb[0], rgb[2], (rgb[0] + rgb[1]) / 2])
    # The codes index a colorscale whose colour is within half a level of the blend.
    stops = dict((round(v * (BLEND_LEVELS**3 - 1)), c) for v, c in BLEND_COLORSCALE)
    for code, exact in zip(blend_codes(resp), blend_rgb(resp), strict=True):
        shown = np.array(stops[int(code)][4:-1].split(","), dtype=float)
        assert np.all(np.abs(shown - exact) <= 255 / (BLEND_LEVELS - 1) / 2 + 1e-9)


def test_rows_no_component_claims_are_drawn_black():
    assert blend_rgb(np.zeros((1, 4))).tolist() == [[0.0, 0.0, 0.0]]
    assert int(blend_codes(np.zeros((1, 4)))[0]) == 0


def test_uncertainty_view_colours_points_by_one_minus_the_largest_responsibility(fig69_fit):
    X, trace = fig69_fit
    data = plot_data(X, trace.sample_index)
    fig = wire(fit_animation(data, trace, FigureOptions(color_by="uncertainty")))
    assert fig["data"][0]["marker"]["showscale"] is True
    for frame in fig["frames"][:3]:
        t = int(frame["name"])
        shown = numbers(frame["data"][0]["marker"]["color"])
        expected = 1 - trace.responsibilities[t][data.positions].max(axis=1)
        np.testing.assert_allclose(shown, expected, atol=1e-6)


def test_events_are_marked_on_the_curve_and_named_in_their_frame():
    means = np.zeros((4, 2, 2))
    covariances = np.tile(np.eye(2), (4, 2, 1, 1))
    events = [Event(0, IDENTICAL_COMPONENTS, "Components 0 and 1 start identical.", 0),
              Event(2, NOT_POSITIVE_DEFINITE, "Component 1 collapsed onto a spike.", 1)]
    trace = handmade_trace(means, covariances, np.full((4, 3, 2), 0.5), events,
                           zero_density=np.array([0, 1, 5, 9]), algorithm="notebook")
    fig = wire(fit_animation(plot_data(np.zeros((3, 2)), trace.sample_index), trace))
    marks = by_name(fig["data"], "events")
    assert numbers(marks["x"]).tolist() == [0, 2]
    assert "spike" in marks["hovertext"][1]
    titles = {frame["name"]: frame["layout"]["title"]["text"] for frame in fig["frames"]}
    assert "identical components (component 0)" in titles["0"]
    assert "covariance collapse (component 1)" in titles["2"]
    assert titles["1"] == "Notebook replay: iteration 1 of 3"
    # The replay's lower panel counts rows with zero density.
    assert fig["layout"]["yaxis3"]["title"]["text"] == "rows with zero density"
    np.testing.assert_array_equal(numbers(by_name(fig["data"], "rows with zero density")["y"]),
                                  [0, 1, 5, 9])


def test_every_figure_passes_plotlys_full_validation(fig69_fit):
    X, trace = fig69_fit
    data = plot_data(X, trace.sample_index)
    figures = [fit_animation(data, trace, FigureOptions(color_by=c)) for c in
               ("responsibility", "uncertainty")]
    figures.append(mixture_figure(data, trace.means[-1], trace.covariances[-1],
                                  trace.labels(-1), COMPONENT_COLORS[:4], "ours"))
    for fig in figures:
        go.Figure(fig.to_dict())  # raises on any invalid property or value


# ------------------------------------------------------------------ budgets
def figure_json_size(fig: go.Figure) -> int:
    return len(pio.to_json(fig, validate=False).encode())


def test_default_view_animation_is_under_the_json_budget():
    request = default_view(sdss_present=False).request
    dataset = load_dataset(request.dataset)
    prepared = prepare_data(dataset, request.with_changes(features=dataset.default_view))
    outcome = run_fit(prepared, request)
    figures = build_figures(prepared, outcome, run_comparison(prepared, request, outcome))
    assert figure_json_size(figures.animation) < JSON_BUDGET_BYTES


def test_largest_view_the_controls_allow_is_under_the_json_budget():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(5_000, 2)) + rng.integers(0, 12, size=(5_000, 1)) * 3.0
    trace = GMM(k=12, tol=0.0, max_iters=1000, trace_points=MAX_POINTS).fit(X).trace_
    fig = fit_animation(plot_data(X, trace.sample_index), trace)
    assert len(fig.frames) == MAX_FRAMES
    assert len(wire(fig)["data"][0]["x"]["bdata"]) <= 4 * MAX_POINTS * 4 / 3 + 4
    assert figure_json_size(fig) < JSON_BUDGET_BYTES


# ------------------------------------------------------------------ pieces
def test_plot_data_thins_the_display_sample_evenly_and_reproducibly():
    X = np.arange(20_000, dtype=float).reshape(10_000, 2)
    sample = np.sort(np.random.default_rng(1).choice(10_000, 5_000, replace=False))
    data = plot_data(X, sample, dims=(1, 0), titles=("b", "a"), max_points=2_000)
    again = plot_data(X, sample, dims=(1, 0), titles=("b", "a"), max_points=2_000)
    assert len(data.rows) == 2_000
    np.testing.assert_array_equal(data.rows, again.rows)
    np.testing.assert_array_equal(data.rows, sample[data.positions])
    np.testing.assert_array_equal(data.xy, X[data.rows][:, [1, 0]])
    assert np.ptp(np.diff(data.positions)) <= 1  # evenly spaced through the sample


def test_axis_ranges_pad_the_points_and_survive_a_constant_column():
    (x0, x1), (y0, y1) = axis_ranges(np.array([[0.0, 5.0], [10.0, 5.0]]))
    assert (x0, x1) == pytest.approx((-0.5, 10.5))
    assert y0 < 5.0 < y1


def test_matched_colours_give_each_scikit_learn_component_its_partners_colour():
    colors = matched_colors([2, 0, 1])  # our 0 <-> their 2, our 1 <-> their 0, ...
    assert colors == [COMPONENT_COLORS[1], COMPONENT_COLORS[2], COMPONENT_COLORS[0]]


def test_mixture_figure_draws_labelled_points_ellipses_and_means_on_shared_axes(fig69_fit):
    X, trace = fig69_fit
    data = plot_data(X, trace.sample_index)
    labels = trace.labels(-1)[data.positions]
    colors = list(COMPONENT_COLORS[:4])
    fig = wire(mixture_figure(data, trace.means[-1], trace.covariances[-1], labels, colors,
                              "ours"))
    assert fig["data"][0]["marker"]["color"] == [colors[j] for j in labels]
    mean, cov = trace.means[-1, 0], trace.covariances[-1, 0]
    for level, (x, y) in zip((1, 2, 3), level_pieces(fig["data"][1]["x"], fig["data"][1]["y"]),
                             strict=True):
        diff = np.column_stack([x, y]) - mean
        distance = np.sqrt(np.einsum("ni,ij,nj->n", diff, np.linalg.inv(cov), diff))
        np.testing.assert_allclose(distance, level, rtol=1e-5)
    np.testing.assert_allclose(numbers(by_name(fig["data"], "means")["y"]),
                               trace.means[-1, :, 1])
    animation = wire(fit_animation(data, trace))
    assert fig["layout"]["xaxis"]["range"] == animation["layout"]["xaxis"]["range"]
    assert fig["layout"]["yaxis"]["range"] == animation["layout"]["yaxis"]["range"]
