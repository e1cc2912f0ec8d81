"""Classification across every dimension: the pairs plot of a fit in more than two.

mclust's ``plot(fit, what = "classification")`` for d > 2: a d x d grid whose panel in
row r, column c draws feature c across and feature r up. Off the diagonal, the drawn
points in the colour of the component most responsible for them, with each component's
1σ/2σ/3σ ellipses of its 2-D marginal (the 2x2 block of its covariance on the two
features, ``gmm_core.geometry``) and its mean; each such panel is true to scale like
every data-space figure (one unit as long across as up), unless the user fills the
frame. On the diagonal, that feature's histogram over every fitted row (as a density),
each component's weighted 1-D marginal density in its colour and the mixture's in black.
The final iteration of the fit, as a still Plotly figure (``pairs_figure``, pure);
``dashboard.cache.pairs`` keeps it, ``show`` puts it under the Explore figure, and the
HTML download draws it too.
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from dashboard import presentation
from dashboard.figures import (
    DENSITY_POINTS,
    ELLIPSE_VERTICES,
    NOISE_COLOR,
    PLOTLY_CONFIG,
    FigureOptions,
    axis_ranges,
    component_colors,
    component_densities,
    data_axes,
    density_ranges,
    histogram,
    outline_xy,
    plot_data,
)
from dashboard.pipeline import FitOutcome, PreparedData
from dashboard.plain_text import plotly_plain
from gmm_core import FitTrace
from gmm_core.geometry import ellipse_outlines
from gmm_core.wording import counted

# The drawn points: at most PANEL_POINTS a panel, and MARKER_BUDGET over all the
# off-diagonal panels together. The browser draws every marker of every panel (SVG) and
# the server serializes them on every rerun, so ten features share as many as four do.
PANEL_POINTS = 1000
MARKER_BUDGET = 12_000
# Between panels: across, a share of the width (the tick labels of the panel on the
# right, or a diagonal panel's name); down, font sizes (the tick labels above).
GAP_ACROSS = 0.05
GAP_DOWN_FONTS = 2.4
PANEL_PX = 220  # a panel's height, within the figure's limits below
HEIGHT_PX = (480, 1100)
CHAR_WIDTH = 0.55  # an average character's width, in font sizes
KEY = "pairs_plot"
# Off by default beyond this many features: the browser redraws every panel (d(d-1)
# scatter panels, their ellipses) on every change of the page, which at 10 features
# (90 panels) took it 5-8 s of main-thread work a change, measured in Chromium.
SHOWN_UP_TO = 4
TOGGLE_HELP = ("The pairs plot draws d × d panels; with many features it makes every "
               "change of this page slower in the browser, so it starts off beyond "
               f"{SHOWN_UP_TO} features.")
UNCLAIMED = "#000000"


def drawn_per_panel(n_features: int, n_sample: int) -> int:
    """How many of the display sample's ``n_sample`` rows each panel draws."""
    panels = n_features * (n_features - 1)
    return min(n_sample, PANEL_POINTS, MARKER_BUDGET // max(panels, 1))


def _axis_names(n_features: int, row: int, col: int) -> tuple[str, str]:
    """Plotly's names ("x7", "y7") of the axes of the panel at ``row``, ``col``."""
    n = row * n_features + col + 1
    suffix = "" if n == 1 else str(n)  # plotly.js: "x", "x2", …; no "x1"
    return f"x{suffix}", f"y{suffix}"


def _domain(index: int, n_features: int, gap: float, top_down: bool = False) -> list[float]:
    width = (1 - gap * (n_features - 1)) / n_features
    start = index * (width + gap)
    if top_down:  # rows count down from the top; Plotly's y runs up
        start = 1 - start - width
    return [max(round(start, 9), 0.0), min(round(start + width, 9), 1.0)]


def _scatter_panel(data, point_colors, means, covariances, colors, dims, axes,
                   options: FigureOptions) -> list[dict]:
    """Points, ellipses and means of one off-diagonal panel (``dims``: the features
    across and up, also ``data``'s columns: it holds every feature)."""
    x_axis, y_axis = axes
    place = {"xaxis": x_axis, "yaxis": y_axis}
    traces = [{"type": "scatter", "mode": "markers", "name": "data",
               "x": data.xy[:, dims[0]], "y": data.xy[:, dims[1]], "hoverinfo": "x+y",
               "marker": {"size": max(2.0, 0.6 * options.marker_size), "opacity": 0.7,
                          "color": point_colors}, **place}]
    outlines = ellipse_outlines(means, covariances, options.sigma_levels, dims,
                                ELLIPSE_VERTICES)
    for j, outline in enumerate(outlines):
        x, y = outline_xy(outline)
        traces.append({"type": "scatter", "mode": "lines", "name": f"component {j} ellipses",
                       "x": x, "y": y, "hoverinfo": "skip",
                       "line": {"color": colors[j], "width": 1.2}, **place})
    traces.append({"type": "scatter", "mode": "markers", "name": "means",
                   "x": means[:, dims[0]], "y": means[:, dims[1]],
                   "customdata": list(range(len(means))),
                   "hovertemplate": "component %{customdata}<extra></extra>",
                   "marker": {"color": list(colors), "size": 9, "symbol": "x",
                              "line": {"color": "black", "width": 1}}, **place})
    return traces


def _density_panel(values, weights, means, variances, colors,
                   axes) -> tuple[list[dict], tuple[float, float], tuple[float, float]]:
    """One feature's histogram and marginal densities, with the panel's x and y ranges."""
    x_axis, y_axis = axes
    place = {"xaxis": x_axis, "yaxis": y_axis}
    counts = histogram(values)
    x_range, (_, top) = density_ranges(counts, weights, means, variances)
    grid = np.linspace(*x_range, DENSITY_POINTS)
    curves = component_densities(grid, weights, means, variances)
    traces = [{"type": "bar", "name": "histogram", "x": (counts.edges[:-1] + counts.edges[1:]) / 2,
               "y": counts.density, "width": np.diff(counts.edges), "hoverinfo": "skip",
               "marker": {"color": "rgba(120,120,120,0.35)"}, **place}]
    traces += [{"type": "scatter", "mode": "lines", "name": f"component {j} density",
                "x": grid, "y": curve, "hoverinfo": "skip",
                "line": {"color": colors[j], "width": 1.5}, **place}
               for j, curve in enumerate(curves)]
    traces.append({"type": "scatter", "mode": "lines", "name": "mixture density", "x": grid,
                   "y": curves.sum(axis=0), "hoverinfo": "skip",
                   "line": {"color": "black", "width": 2}, **place})
    return traces, x_range, (0.0, top)


def _wrapped(title: str, panel_px: float, font_size: float) -> str:
    """``title`` as plain text, broken into lines at spaces where it is longer than a
    panel (many features make small panels, and a name may not reach past its own)."""
    width = max(8, int(panel_px / (CHAR_WIDTH * font_size)))
    return "<br>".join(plotly_plain(line) for line in textwrap.wrap(
        str(title), width, break_long_words=False, break_on_hyphens=False))


def pairs_title(trace: FitTrace) -> str:
    """The figure's title, which names it to a screen reader too."""
    return (f"Classification in every pair of the {trace.n_features} features: k = "
            f"{trace.n_components}, iteration {trace.n_iter}")


def pairs_figure(X, titles, trace: FitTrace, options: FigureOptions) -> go.Figure:
    """The pairs plot of ``trace``'s final mixture over ``X`` (the fitted matrix, its
    columns named ``titles``): the display sample thinned to ``drawn_per_panel``."""
    X = np.asarray(X)
    d = X.shape[1]
    weights, means = trace.weights[-1], np.asarray(trace.means[-1], dtype=float)
    covariances = np.asarray(trace.covariances[-1], dtype=float)
    colors = component_colors(trace.n_components, options.palette)
    # The noise component's points (label k) are grey, as in the figure above.
    point_palette = np.asarray(colors + [NOISE_COLOR] * trace.has_noise)
    data = plot_data(X, trace.sample_index, tuple(range(d)), titles,
                     drawn_per_panel(d, len(trace.sample_index)))
    # A row no component claims (the notebook's ε-normalization) is black, as above.
    claimed = trace.responsibilities[-1][data.positions].sum(axis=1) >= 0.5
    point_colors = np.where(claimed, point_palette[trace.labels(-1)[data.positions]],
                            UNCLAIMED).tolist()
    font = {"size": options.font_size}
    height = int(np.clip(d * PANEL_PX, *HEIGHT_PX))
    gap_down = GAP_DOWN_FONTS * options.font_size / height
    panel_px = height * (1 - gap_down * (d - 1)) / d
    names = [_wrapped(title, panel_px, options.font_size) for title in titles]
    traces, layout = [], {
        "title": {"text": plotly_plain(pairs_title(trace))}, "showlegend": False,
        "height": height, "bargap": 0, "font": font,
        "margin": {"l": 10, "r": 10, "t": 50, "b": 10}}
    for row in range(d):
        for col in range(d):
            x_axis, y_axis = _axis_names(d, row, col)
            x = {"domain": _domain(col, d, GAP_ACROSS), "anchor": y_axis, "automargin": True,
                 "title": {"text": names[col] if row == d - 1 else ""}}
            y = {"domain": _domain(row, d, gap_down, top_down=True),
                 "anchor": x_axis, "automargin": True,
                 "title": {"text": names[row] if col in (0, row) else ""}}
            if row == col:
                panel, x_range, y_range = _density_panel(
                    X[:, col], weights, means[:, col], covariances[:, col, col], colors,
                    (x_axis, y_axis))
                # A density's scale: the shapes are the point. The feature's name takes
                # the place of the numbers, as R's pairs() writes it on the diagonal.
                y["showticklabels"] = False
            else:
                panel = _scatter_panel(data, point_colors, means, covariances, colors, (col, row),
                                       (x_axis, y_axis), options)
                x_range, y_range = axis_ranges(data.xy[:, [col, row]])
                x_scale, y_scale = data_axes(options.aspect)
                x.update(x_scale)
                y.update({**y_scale, "scaleanchor": x_axis} if y_scale else {})
            traces += panel
            layout["xaxis" + x_axis[1:]] = {**x, "range": list(x_range)}
            layout["yaxis" + y_axis[1:]] = {**y, "range": list(y_range)}
    return go.Figure(data=traces, layout=layout, _validate=False)


def pairs_caption(n_features: int, n_drawn: int, n_rows: int) -> str:
    return (f"Every pair of the {n_features} fitted features at the last iteration, as "
            "mclust's classification plot draws it. Off the diagonal: the feature of the "
            "column across, the row's up; points in the colour of their most responsible "
            "component, each component's 1σ, 2σ and 3σ ellipses of its marginal on the "
            f"two features, and its mean (×); {counted(n_drawn, 'row')} of "
            f"{counted(n_rows, 'fitted row')} drawn in each panel. On the diagonal: the "
            "feature's histogram over every fitted row, each component's weighted density "
            "in its colour and the mixture's in black. Each panel is true to scale unless "
            "\"Fill the frame\" is on.")


def figure_for(prepared: PreparedData, outcome: FitOutcome,
               options: FigureOptions) -> go.Figure | None:
    """The pairs plot of a fit in more than two features; None for one or two."""
    if prepared.X.shape[1] <= 2:
        return None
    return pairs_figure(prepared.X, prepared.axis_titles, outcome.trace, options)


def show(build: Callable[[], go.Figure | None], prepared: PreparedData,
         outcome: FitOutcome, present: bool) -> None:
    """The pairs plot (``build()``: ``figure_for``'s, None for a fit in one or two
    features) under the Explore figure, behind a switch that is on for up to
    ``SHOWN_UP_TO`` features."""
    d = prepared.X.shape[1]
    if d <= 2:
        return
    st.subheader("Classification across every dimension")
    few = d <= SHOWN_UP_TO
    # One switch for few features and one for many: each keeps the user's choice while
    # features come and go, and crossing the threshold brings that side's default.
    if not st.toggle(f"Show every pair of the {d} features", value=few,
                     key=f"{KEY}_shown_{'few' if few else 'many'}", help=TOGGLE_HELP):
        return
    figure = build()
    # A copy: the figure is the cache's (dashboard.cache.pairs), shared by every run.
    shown = presentation.sized(go.Figure(figure), present) if present else figure
    st.plotly_chart(shown, key=KEY, config=PLOTLY_CONFIG)
    st.caption(pairs_caption(d, drawn_per_panel(d, len(outcome.trace.sample_index)),
                             len(prepared.X)))
