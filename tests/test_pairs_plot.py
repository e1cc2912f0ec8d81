"""The pairs plot of a fit in more than two features (dashboard.pairs_plot), built and read
back as the browser gets it, without a server."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import plotly.graph_objects as go
import pytest
from test_figures import level_pieces, numbers, wire

from dashboard.figures import COMPONENT_COLORS, NOISE_COLOR, OKABE_ITO, figure_options
from dashboard.pairs_plot import (
    MARKER_BUDGET,
    PANEL_POINTS,
    drawn_per_panel,
    pairs_figure,
)
from gmm_core import GMM
from gmm_core.geometry import ellipse_outlines

TITLES = ("alpha", "<b>bold</b> & co", "gamma [m]")


@pytest.fixture(scope="module")
def three_d():
    """Three clusters in three features, one of them with correlated features, and a
    k = 3 fit whose display sample is every row."""
    rng = np.random.default_rng(0)
    cov = np.array([[1.0, 0.6, 0.2], [0.6, 2.0, -0.5], [0.2, -0.5, 0.5]])
    X = np.vstack([rng.multivariate_normal(mean, cov, 200)
                   for mean in ([0, 0, 0], [8, 0, 4], [0, 9, -5])])
    return X, GMM(k=3, seed=1, trace_points=len(X)).fit(X).trace_


def panel_traces(fig: dict, x_axis: str, y_axis: str) -> list[dict]:
    return [t for t in fig["data"]
            if (t.get("xaxis", "x"), t.get("yaxis", "y")) == (x_axis, y_axis)]


def axes_of(row: int, col: int, d: int) -> tuple[str, str]:
    n = row * d + col + 1
    return ("x", "y") if n == 1 else (f"x{n}", f"y{n}")


def test_the_grid_has_d_by_d_panels_each_on_its_own_axes(three_d):
    X, trace = three_d
    fig = wire(pairs_figure(X, TITLES, trace, figure_options()))
    d = X.shape[1]
    x_axes = [key for key in fig["layout"] if key.startswith("xaxis")]
    y_axes = [key for key in fig["layout"] if key.startswith("yaxis")]
    assert len(x_axes) == len(y_axes) == d * d
    for row in range(d):
        for col in range(d):
            traces = panel_traces(fig, *axes_of(row, col, d))
            names = [t["name"] for t in traces]
            if row == col:  # the feature's histogram and densities
                assert names == ["histogram", *(f"component {j} density" for j in range(3)),
                                 "mixture density"]
            else:  # points, one ellipse trace per component, the means
                assert names == ["data", *(f"component {j} ellipses" for j in range(3)),
                                 "means"]


def test_each_ellipse_is_the_components_marginal_on_the_panels_two_features(three_d):
    X, trace = three_d
    options = figure_options()
    fig = wire(pairs_figure(X, TITLES, trace, options))
    means, covs = trace.means[-1], trace.covariances[-1]
    d = X.shape[1]
    for row, col in [(1, 0), (0, 2), (2, 1)]:  # across: col, up: row
        outlines = ellipse_outlines(means, covs, options.sigma_levels, (col, row), 41)
        traces = panel_traces(fig, *axes_of(row, col, d))
        for j in range(3):
            (ellipse,) = [t for t in traces if t["name"] == f"component {j} ellipses"]
            pieces = level_pieces(ellipse["x"], ellipse["y"])
            assert len(pieces) == len(options.sigma_levels)
            block = covs[j][np.ix_([col, row], [col, row])]
            for level, (x, y), outline in zip(options.sigma_levels, pieces, outlines[j],
                                              strict=True):
                np.testing.assert_allclose(np.vstack([x, y]), outline)
                # and independently: every vertex at Mahalanobis distance `level` from
                # the mean under the 2x2 block of the covariance
                diff = np.column_stack([x, y]) - means[j, [col, row]]
                distance = np.sqrt(np.einsum("ni,ij,nj->n", diff, np.linalg.inv(block), diff))
                np.testing.assert_allclose(distance, level, rtol=1e-6)


def test_points_take_their_winning_components_colour_from_the_explore_palette(three_d):
    X, trace = three_d
    for palette, colors in (("plotly", COMPONENT_COLORS), ("okabe_ito", OKABE_ITO)):
        fig = wire(pairs_figure(X, TITLES, trace, figure_options(palette=palette)))
        points = panel_traces(fig, *axes_of(0, 1, 3))[0]
        labels = trace.labels(-1)
        assert points["marker"]["color"] == [colors[j] for j in labels]
        np.testing.assert_allclose(numbers(points["x"]), X[trace.sample_index, 1])
        np.testing.assert_allclose(numbers(points["y"]), X[trace.sample_index, 0])
        for j in range(3):
            (ellipse,) = [t for t in fig["data"] if t["name"] == f"component {j} ellipses"
                          and t["xaxis"] == "x2"]
            assert ellipse["line"]["color"] == colors[j]


def test_rows_no_component_claims_are_drawn_black(three_d):
    X, trace = three_d
    resp = trace.responsibilities.copy()
    resp[-1, :5] = 0.0  # as the notebook's ε-normalization leaves rows of zero density
    fig = wire(pairs_figure(X, TITLES, replace(trace, responsibilities=resp),
                            figure_options()))
    colors = panel_traces(fig, *axes_of(2, 0, 3))[0]["marker"]["color"]
    assert colors[:5] == ["#000000"] * 5
    assert colors[5:] == [COMPONENT_COLORS[j] for j in trace.labels(-1)[5:]]


def test_the_noise_components_points_are_grey_as_in_the_figure_above(three_d):
    X, _ = three_d
    rng = np.random.default_rng(1)
    outliers = rng.uniform(X.min(axis=0) - 5, X.max(axis=0) + 5, size=(40, 3))
    noisy = np.vstack([X, outliers])
    trace = GMM(k=3, seed=1, noise=True, trace_points=len(noisy)).fit(noisy).trace_
    labels = trace.labels(-1)
    assert (labels == 3).any()  # some rows go to the noise component
    fig = wire(pairs_figure(noisy, TITLES, trace, figure_options()))
    colors = panel_traces(fig, *axes_of(1, 0, 3))[0]["marker"]["color"]
    assert colors == [NOISE_COLOR if j == 3 else COMPONENT_COLORS[j] for j in labels]
    assert len([t for t in fig["data"] if t["name"].endswith("ellipses")
                and t["xaxis"] == "x4"]) == 3  # ellipses for the Gaussians only


def test_diagonal_densities_are_each_components_weighted_marginal(three_d):
    X, trace = three_d
    fig = wire(pairs_figure(X, TITLES, trace, figure_options()))
    weights, means, covs = trace.weights[-1], trace.means[-1], trace.covariances[-1]
    traces = panel_traces(fig, *axes_of(2, 2, 3))
    curves = [t for t in traces if t["name"].endswith("density")]
    grid = numbers(curves[0]["x"])
    expected = (weights[:, None] * np.exp(-0.5 * (grid - means[:, [2]]) ** 2 / covs[:, 2, 2, None])
                / np.sqrt(2 * np.pi * covs[:, 2, 2, None]))
    for j in range(3):
        np.testing.assert_allclose(numbers(curves[j]["y"]), expected[j])
    np.testing.assert_allclose(numbers(curves[-1]["y"]), expected.sum(axis=0))
    histogram = traces[0]
    assert np.sum(numbers(histogram["y"]) * numbers(histogram["width"])) == pytest.approx(1)


def test_column_names_are_plain_text_in_titles_and_labels(three_d):
    X, trace = three_d
    fig = wire(pairs_figure(X, TITLES, trace, figure_options()))
    escaped = "&lt;b&gt;bold&lt;/b&gt; &amp; co"
    layout = fig["layout"]
    # Each diagonal panel is named by its feature, beside it.
    assert [layout[f"yaxis{n}"]["title"]["text"] for n in ("", 5, 9)] == [
        "alpha", escaped, "gamma [m]"]
    assert layout["xaxis8"]["title"]["text"] == escaped  # bottom row, middle column
    assert layout["yaxis4"]["title"]["text"] == escaped  # second row, left column
    assert layout["yaxis6"]["title"]["text"] == ""  # inner panels: no titles
    assert "<b>" not in str(fig["layout"])
    assert fig["layout"]["title"]["text"].startswith(
        "Classification in every pair of the 3 features: k = 3, iteration ")


def test_scatter_panels_are_true_to_scale_unless_the_frame_is_filled(three_d):
    X, trace = three_d
    equal = wire(pairs_figure(X, TITLES, trace, figure_options()))["layout"]
    filled = wire(pairs_figure(X, TITLES, trace, figure_options(aspect="fill")))["layout"]
    for n in range(1, 10):
        suffix = "" if n == 1 else str(n)
        diagonal = n in (1, 5, 9)
        y = equal[f"yaxis{suffix}"]
        assert (y.get("scaleanchor"), y.get("scaleratio")) == (
            (None, None) if diagonal else (f"x{suffix}", 1))
        assert "scaleanchor" not in filled[f"yaxis{suffix}"]


def test_points_are_capped_per_panel_and_over_the_grid():
    assert drawn_per_panel(3, 150) == 150
    assert drawn_per_panel(3, 2000) == PANEL_POINTS
    assert drawn_per_panel(10, 2000) == MARKER_BUDGET // 90
    rng = np.random.default_rng(2)
    X = rng.normal(size=(5000, 5))
    trace = GMM(k=2, seed=0, trace_points=2000, max_iters=3).fit(X).trace_
    names = [f"a long & winding name of feature {i} (standardized)" for i in range(5)]
    fig = wire(pairs_figure(X, names, trace, figure_options()))
    drawn = [len(numbers(t["x"])) for t in fig["data"] if t["name"] == "data"]
    assert len(drawn) == 20
    assert set(drawn) == {min(PANEL_POINTS, MARKER_BUDGET // 20)}
    assert sum(drawn) <= MARKER_BUDGET
    # Names longer than a panel break into lines at spaces, each line plain text.
    lines = fig["layout"]["xaxis21"]["title"]["text"].split("<br>")
    assert len(lines) > 1 and " ".join(lines) == names[0].replace("&", "&amp;")


def test_the_figure_passes_plotlys_full_validation(three_d):
    X, trace = three_d
    go.Figure(pairs_figure(X, TITLES, trace, figure_options()).to_dict())
