"""What the figures draw (drawn points, frames, colours) and the Plotly mixture figure of
the other pages, built and read back without a server."""

from __future__ import annotations

import base64
import json

import numpy as np
import plotly.graph_objects as go
import plotly.io as pio
import pytest
from plotly.colors import hex_to_rgb

from dashboard.figures import (
    BLEND_LEVELS,
    COMPONENT_COLORS,
    DEFAULT_OPTIONS,
    EQUAL,
    FILL,
    axis_ranges,
    blend_codes,
    blend_rgb,
    figure_options,
    frame_iterations,
    matched_colors,
    mixture_figure,
    plot_data,
)


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


# ------------------------------------------------------------------ frame choice
def test_every_iteration_gets_a_frame_when_they_fit():
    np.testing.assert_array_equal(frame_iterations(10, max_frames=60), np.arange(11))


def test_frames_are_capped_keep_the_first_iterations_each_then_spread_to_the_last():
    shown = frame_iterations(500, event_iterations=[0, 3, 77, 500], max_frames=60)
    assert len(shown) <= 60
    np.testing.assert_array_equal(shown[:30], np.arange(30))  # every early iteration
    assert shown[-1] == 500 and 77 in shown
    assert np.all(np.diff(shown) > 0)


def test_many_events_take_at_most_a_quarter_of_the_frames():
    shown = frame_iterations(1000, event_iterations=range(1, 400), max_frames=40)
    assert len(shown) <= 40
    assert set(range(20, 30)) <= set(shown.tolist())  # the first 40 // 4 events after 19
    evenly_spread = np.linspace(20, 1000, 10).round().astype(int)
    assert set(evenly_spread.tolist()) <= set(shown.tolist())


# ------------------------------------------------------------------ colours
def test_points_take_their_winning_components_colour_paler_the_less_sure():
    resp = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0], [0.6, 0.4, 0.0], [0.2, 0.1, 0.7]])
    rgb = np.array([hex_to_rgb(c) for c in COMPONENT_COLORS[:3]], dtype=float)
    white = np.full(3, 255.0)
    exact = blend_rgb(resp)
    np.testing.assert_allclose(exact[:2], [rgb[0], rgb[2]])
    # A shared point lies between white and its winner's colour, never towards another
    # component's: its hue is its winner's.
    for row, winner in ((2, 0), (3, 2)):
        tint = (exact[row] - white) / (rgb[winner] - white)
        np.testing.assert_allclose(tint, tint[0])
        assert 0.3 <= tint[0] < 1
    assert np.all(exact[2] > exact[0])  # 0.6 of 1 is less sure than 1 of 1: paler
    codes = blend_codes(resp)
    assert codes.dtype == np.uint8
    assert [(c - 1) // BLEND_LEVELS for c in codes] == [0, 2, 0, 2]
    assert [(c - 1) % BLEND_LEVELS for c in codes[:2]] == [BLEND_LEVELS - 1] * 2


def test_rows_no_component_claims_are_drawn_black():
    assert blend_rgb(np.zeros((1, 4))).tolist() == [[0.0, 0.0, 0.0]]
    assert int(blend_codes(np.zeros((1, 4)))[0]) == 0


def test_every_figure_passes_plotlys_full_validation(fig69_fit):
    X, trace = fig69_fit
    data = plot_data(X, trace.sample_index)
    fig = mixture_figure(data, trace.means[-1], trace.covariances[-1], trace.labels(-1),
                         COMPONENT_COLORS[:4], "ours")
    go.Figure(fig.to_dict())  # raises on any invalid property or value


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
    x_range, y_range = axis_ranges(data.xy)
    assert fig["layout"]["xaxis"]["range"] == list(x_range)
    assert fig["layout"]["yaxis"]["range"] == list(y_range)


# ------------------------------------------------------------------ true to scale
def scale_of(fig: dict) -> tuple[object, object]:
    """What ties the y axis to the x axis: (scaleanchor, scaleratio)."""
    y = fig["layout"]["yaxis"]
    return y.get("scaleanchor"), y.get("scaleratio")


def data_space_figures(fig69_fit, aspect: str) -> dict[str, go.Figure]:
    """Every Python-built figure drawn in data space, with ``aspect``."""
    from dashboard import catalog_view, math_view
    from gmm_core import GMM
    from gmm_core.stepper import EMStepper

    X, trace = fig69_fit
    options = figure_options(aspect=aspect)
    data = plot_data(X, trace.sample_index)
    labels = trace.labels(-1)[data.positions]
    stepper = EMStepper(X, 4, seed=0)
    model = GMM(k=4, seed=0).fit(X)
    return {
        "mixture": mixture_figure(data, trace.means[-1], trace.covariances[-1], labels,
                                  list(COMPONENT_COLORS[:4]), "ours", options),
        "step": math_view.step_figure(X, ("x", "y"), stepper.state, 0, options=options),
        "density": math_view.density_figure(data, trace, options),
        "uncertainty": math_view.uncertainty_figure(data, trace, options),
        "catalog": catalog_view.catalog_figure(X[:200], model, ("x", "y"), aspect),
    }


def test_data_space_figures_are_true_to_scale_by_default(fig69_fit):
    for name, figure in data_space_figures(fig69_fit, EQUAL).items():
        assert scale_of(wire(figure)) == ("x", 1), name
    assert DEFAULT_OPTIONS.aspect == EQUAL


def test_filling_the_frame_unties_the_axes(fig69_fit):
    for name, figure in data_space_figures(fig69_fit, FILL).items():
        assert scale_of(wire(figure)) == (None, None), name


def test_an_unknown_aspect_is_refused():
    with pytest.raises(ValueError, match="aspect must be one of equal, fill"):
        figure_options(aspect="stretch")
