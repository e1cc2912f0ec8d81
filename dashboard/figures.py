"""Plotly figures for the Explore page: pure functions of (data, trace, options).

The animated figure keeps its JSON small and quick to build: each frame carries only
what changes (point colours, ellipses, means and their path, the markers on the curves)
as typed arrays (float32 coordinates, uint16 colour codes), frames are capped at evenly
spaced iterations, and points come from a reproducible subsample drawn with WebGL.
"""

from __future__ import annotations

import base64
import textwrap
from dataclasses import dataclass

import numpy as np
import plotly.graph_objects as go
from plotly.colors import hex_to_rgb, qualitative

from gmm_core import FitTrace
from gmm_core.geometry import ellipse_outlines
from gmm_core.trace import (
    IDENTICAL_COMPONENTS,
    NOT_POSITIVE_DEFINITE,
    REGULARIZED,
    REINITIALIZED,
    WEIGHT_COLLAPSE,
    ZERO_DENSITY,
)

# Twelve distinct colours, as many as the k slider offers; larger k reuses them.
COMPONENT_COLORS = (*qualitative.Plotly, "#8C564B", "#7F7F7F")
_COMPONENT_RGB = np.array([hex_to_rgb(color) for color in COMPONENT_COLORS], dtype=float)
COLOR_BY = ("responsibility", "uncertainty")
# Blends are drawn from an RGB cube of this many levels per channel: within 8.5/255.
BLEND_LEVELS = 16
MAX_FRAMES = 60
MAX_POINTS = 2000
SIGMA_LEVELS = (1.0, 2.0, 3.0)
ELLIPSE_VERTICES = 41
SLIDER_INDENT_PX = 120  # room for the Play and Pause buttons
EVENT_NAMES = {
    IDENTICAL_COMPONENTS: "identical components",
    WEIGHT_COLLAPSE: "weight collapse",
    NOT_POSITIVE_DEFINITE: "covariance collapse",
    REGULARIZED: "regularized",
    REINITIALIZED: "re-initialized",
    ZERO_DENSITY: "zero-density rows",
}
_LL_AXES = {"xaxis": "x2", "yaxis": "y2"}
_SECOND_AXES = {"xaxis": "x3", "yaxis": "y3"}
_MEAN_HOVER = "component %{customdata}<br>(%{x:.4g}, %{y:.4g})<extra></extra>"
# Frame-switching must redraw: WebGL traces do not take Plotly transitions.
_JUMP = {"mode": "immediate", "frame": {"duration": 0, "redraw": True},
         "transition": {"duration": 0}}


@dataclass(frozen=True)
class PlotData:
    """The drawn rows of the fitted matrix on the chosen 2-D projection ``dims``.

    ``positions`` index the trace's display subsample and ``rows`` the fitted matrix
    (``trace.sample_index[positions] == rows``); ``xy`` holds those rows' two coordinates.
    """

    xy: np.ndarray
    rows: np.ndarray
    positions: np.ndarray
    dims: tuple[int, int]
    x_title: str
    y_title: str


@dataclass(frozen=True)
class FigureOptions:
    color_by: str = "responsibility"
    max_frames: int = MAX_FRAMES
    sigma_levels: tuple[float, ...] = SIGMA_LEVELS
    frame_ms: int = 150
    height: int = 600

    def __post_init__(self):
        if self.color_by not in COLOR_BY:
            raise ValueError(f"color_by must be one of {', '.join(COLOR_BY)}; "
                             f"got {self.color_by!r}")
        if self.max_frames < 2:
            raise ValueError(f"max_frames must be at least 2; got {self.max_frames}")


def plot_data(X, sample_index, dims=(0, 1), titles=("x", "y"),
              max_points: int = MAX_POINTS) -> PlotData:
    """The display subsample of ``X`` (thinned evenly to ``max_points``) on ``dims``."""
    sample_index = np.asarray(sample_index)
    positions = np.arange(len(sample_index))
    if len(positions) > max_points:
        # sample_index is already a random subset, so an even thinning of it is one too.
        positions = np.unique(np.linspace(0, len(positions) - 1, max_points).round()
                              .astype(int))
    rows = sample_index[positions]
    dims = (int(dims[0]), int(dims[1]))
    xy = np.asarray(X)[rows][:, dims].astype(float)
    return PlotData(xy, rows, positions, dims, titles[0], titles[1])


def axis_ranges(xy) -> tuple[tuple[float, float], tuple[float, float]]:
    """Fixed x and y ranges around the points (5% margin), shared by every panel."""
    ranges = []
    for column in np.asarray(xy, dtype=float).T:
        low, high = float(np.min(column)), float(np.max(column))
        margin = 0.05 * (high - low) if high > low else max(1.0, abs(low))
        ranges.append((low - margin, high + margin))
    return ranges[0], ranges[1]


def frame_iterations(n_iter: int, event_iterations=(),
                     max_frames: int = MAX_FRAMES) -> np.ndarray:
    """Iterations that get a frame: all of them when they fit, else evenly spaced ones
    (always the first and the last) plus, up to a quarter of the frames, those with events.
    """
    if n_iter + 1 <= max_frames:
        return np.arange(n_iter + 1)
    events = sorted({int(t) for t in event_iterations if 0 < t < n_iter})[: max_frames // 4]
    even = np.linspace(0, n_iter, max_frames - len(events)).round().astype(int)
    return np.unique(np.concatenate([even, np.asarray(events, dtype=int)]))


def component_colors(k: int) -> list[str]:
    return [COMPONENT_COLORS[j % len(COMPONENT_COLORS)] for j in range(k)]


def matched_colors(permutation) -> list[str]:
    """Colours for another fit's components: ``permutation[j]`` gets our component j's."""
    permutation = np.asarray(permutation)
    colors = np.empty(len(permutation), dtype=object)
    colors[permutation] = component_colors(len(permutation))
    return colors.tolist()


def blend_rgb(responsibilities) -> np.ndarray:
    """Each row's colour ``(m, 3)`` in 0…255: the component colours mixed by its
    responsibilities. Rows whose responsibilities sum to less than one (the notebook's
    ε-normalization) come out darker, down to black for rows no component claims.
    """
    resp = np.asarray(responsibilities, dtype=float)
    palette = _COMPONENT_RGB[np.arange(resp.shape[1]) % len(_COMPONENT_RGB)]
    return np.clip(resp @ palette, 0.0, 255.0)


def blend_codes(responsibilities) -> np.ndarray:
    """The blends as indices into ``BLEND_COLORSCALE`` (an RGB cube of BLEND_LEVELS³).

    Numbers rather than colour strings: Plotly checks every string of every frame one by
    one (seconds for an animation) and sends each in 9 bytes; a uint16 code takes 2.7.
    """
    step = 255.0 / (BLEND_LEVELS - 1)
    levels = np.rint(blend_rgb(responsibilities) / step).astype(np.uint16)
    return (levels[:, 0] * BLEND_LEVELS + levels[:, 1]) * BLEND_LEVELS + levels[:, 2]


def _blend_colorscale() -> list[list]:
    step = 255.0 / (BLEND_LEVELS - 1)
    n = BLEND_LEVELS**3
    codes = np.arange(n)
    rgb = np.rint(np.stack([codes // BLEND_LEVELS**2, codes // BLEND_LEVELS % BLEND_LEVELS,
                            codes % BLEND_LEVELS], axis=1) * step).astype(int)
    return [[i / (n - 1), f"rgb({r},{g},{b})"] for i, (r, g, b) in enumerate(rgb.tolist())]


BLEND_COLORSCALE = _blend_colorscale()


def uncertainty(responsibilities) -> np.ndarray:
    """1 − the largest responsibility: 0 for a sure assignment."""
    return (1.0 - np.asarray(responsibilities).max(axis=1)).astype(np.float32)


def _outline_xy(outlines: np.ndarray) -> tuple[dict, dict]:
    """One component's ``(levels, 2, n)`` outlines as x and y with NaN gaps between."""
    gapped = np.pad(outlines, ((0, 0), (0, 0), (0, 1)), constant_values=np.nan)
    x, y = gapped.transpose(1, 0, 2).reshape(2, -1)
    return typed_array(x), typed_array(y)


def _event_title(trace: FitTrace, t: int) -> str:
    title = f"{'Notebook replay' if trace.algorithm == 'notebook' else 'EM'}: iteration {t}"
    happened = [EVENT_NAMES.get(e.kind, e.kind.replace("_", " "))
                + ("" if e.component is None else f" (component {e.component})")
                for e in trace.events_at(t)]
    return f"{title} of {trace.n_iter}" + "".join(f" · {text}" for text in happened)


def _second_series(trace: FitTrace) -> tuple[np.ndarray, str, str]:
    """The lower curve: zero-density rows for the notebook replay, else how far the means
    moved (what the notebook's stopping rule watches)."""
    if trace.zero_density is not None:
        return trace.zero_density.astype(float), "rows with zero density", "linear"
    return trace.mean_shift, "‖Δμ‖ (all means)", "log"


def typed_array(values, dtype: str = "f4") -> dict:
    """Numbers in plotly.js's typed-array form ``{dtype, bdata}``: what plotly.py sends for
    a numpy array anyway, made once here so that neither validating nor serializing the
    figure walks through the numbers again."""
    array = np.ascontiguousarray(values, dtype=np.dtype(dtype).newbyteorder("<"))
    return {"dtype": dtype, "bdata": base64.b64encode(array.tobytes()).decode("ascii")}


def _unchecked_figure(data: list[dict], layout: dict, frames=None) -> go.Figure:
    """A Figure from plain dicts, skipping Plotly's element-by-element checks of data and
    layout (a second or more for thousands of points; frames are checked regardless).
    The tests rebuild every figure with full validation."""
    return go.Figure(data=data, layout=layout, frames=frames, _validate=False)


def _with(style: dict, values: dict) -> dict:
    merged = {**style, **values}
    if "marker" in style and "marker" in values:
        merged["marker"] = {**style["marker"], **values["marker"]}
    return merged


def fit_animation(data: PlotData, trace: FitTrace,
                  options: FigureOptions = FigureOptions()) -> go.Figure:
    """The fit across iterations: points coloured by responsibility, 1/2/3σ ellipses,
    means with their path so far, and the log-likelihood beside it; Play/Pause and an
    iteration slider. The figure opens on the last iteration; Play starts from the first.
    """
    k = trace.n_components
    colors = component_colors(k)
    shown = frame_iterations(trace.n_iter, [e.iteration for e in trace.events],
                             options.max_frames)
    log_likelihood = trace.log_likelihood
    second, second_title, second_axis = _second_series(trace)
    dx, dy = data.dims

    if options.color_by == "responsibility":
        point_marker = {"size": 5, "opacity": 0.8, "colorscale": BLEND_COLORSCALE,
                        "cmin": 0, "cmax": BLEND_LEVELS**3 - 1}
    else:
        point_marker = {"size": 5, "opacity": 0.8, "colorscale": "Viridis", "cmin": 0.0,
                        "cmax": 1.0 - 1.0 / k if k > 1 else 1.0, "showscale": True,
                        "colorbar": {"title": {"text": "uncertainty"}, "x": 0.555,
                                     "thickness": 12, "len": 0.9}}
    styles = [{"type": "scattergl", "mode": "markers", "name": "data", "hoverinfo": "x+y",
               "x": typed_array(data.xy[:, 0]), "y": typed_array(data.xy[:, 1]),
               "marker": point_marker}]
    # Everything over the points is WebGL too: Plotly draws WebGL above SVG traces.
    styles += [{"type": "scattergl", "mode": "lines", "name": f"component {j} ellipses",
                "line": {"color": colors[j], "width": 1.5}, "hoverinfo": "skip"}
               for j in range(k)]
    styles += [{"type": "scattergl", "mode": "lines", "name": f"component {j} path",
                "line": {"color": colors[j], "width": 1.5, "dash": "dot"},
                "hoverinfo": "skip"} for j in range(k)]
    styles += [
        {"type": "scattergl", "mode": "markers", "name": "means", "customdata": list(range(k)),
         "hovertemplate": _MEAN_HOVER,
         "marker": {"color": colors, "size": 12, "symbol": "x",
                    "line": {"color": "black", "width": 1}}},
        {"type": "scatter", "mode": "markers", "name": "current log-likelihood",
         "marker": {"color": "crimson", "size": 10}, "hoverinfo": "x+y", **_LL_AXES},
        {"type": "scatter", "mode": "markers", "name": f"current {second_title}",
         "marker": {"color": "crimson", "size": 10}, "hoverinfo": "x+y", **_SECOND_AXES},
    ]

    def frame_values(t: int) -> list[dict]:
        resp = trace.responsibilities[t][data.positions]
        color = (typed_array(blend_codes(resp), "u2") if options.color_by == "responsibility"
                 else typed_array(uncertainty(resp)))
        outlines = ellipse_outlines(trace.means[t], trace.covariances[t],
                                    options.sigma_levels, data.dims, ELLIPSE_VERTICES)
        # The path so far through the shown iterations: a frame's size stays bounded by
        # the number of frames, not by the number of iterations.
        path = trace.means[shown[shown <= t]]
        values = [{"type": "scattergl", "marker": {"color": color}}]
        for j in range(k):
            x, y = _outline_xy(outlines[j])
            values.append({"type": "scattergl", "x": x, "y": y})
        values += [{"type": "scattergl", "x": typed_array(path[:, j, dx]),
                    "y": typed_array(path[:, j, dy])} for j in range(k)]
        values += [
            {"type": "scattergl", "x": typed_array(trace.means[t, :, dx]),
             "y": typed_array(trace.means[t, :, dy])},
            {"type": "scatter", "x": [t], "y": [float(log_likelihood[t])]},
            {"type": "scatter", "x": [t], "y": [float(second[t])]},
        ]
        return values

    last = int(shown[-1])
    traces = [_with(style, values)
              for style, values in zip(styles, frame_values(last), strict=True)]
    iterations = np.arange(trace.n_iter + 1)
    traces += [
        {"type": "scatter", "mode": "lines", "name": "log-likelihood", "x": iterations,
         "y": log_likelihood, "line": {"color": "#444"}, **_LL_AXES},
        {"type": "scatter", "mode": "lines", "name": second_title, "x": iterations,
         "y": second, "line": {"color": "#444"}, **_SECOND_AXES},
    ]
    if trace.events:
        traces.append({
            "type": "scatter", "mode": "markers", "name": "events", **_LL_AXES,
            "x": [e.iteration for e in trace.events],
            "y": [float(log_likelihood[e.iteration]) for e in trace.events],
            "hovertext": [f"iteration {e.iteration}: " + "<br>".join(textwrap.wrap(e.message, 60))
                          for e in trace.events],
            "hoverinfo": "text",
            "marker": {"symbol": "diamond-open", "size": 11, "color": "darkorange",
                       "line": {"width": 2}},
        })
    animated = list(range(len(styles)))
    frames = [{"name": str(t), "traces": animated, "data": frame_values(int(t)),
               "layout": {"title": {"text": _event_title(trace, int(t))}}}
              for t in shown]
    x_range, y_range = axis_ranges(data.xy)
    layout = {
        "height": options.height, "showlegend": False, "hovermode": "closest",
        "margin": {"l": 10, "r": 10, "t": 50, "b": 110},
        "title": {"text": _event_title(trace, last)},
        "xaxis": {"domain": [0.0, 0.55], "anchor": "y", "range": list(x_range),
                  "title": {"text": data.x_title}},
        "yaxis": {"domain": [0.0, 1.0], "anchor": "x", "range": list(y_range),
                  "title": {"text": data.y_title}},
        "xaxis2": {"domain": [0.7, 1.0], "anchor": "y2"},
        "yaxis2": {"domain": [0.57, 1.0], "anchor": "x2", "title": {"text": "log-likelihood"}},
        "xaxis3": {"domain": [0.7, 1.0], "anchor": "y3", "matches": "x2",
                   "title": {"text": "iteration"}},
        "yaxis3": {"domain": [0.0, 0.43], "anchor": "x3", "type": second_axis,
                   "exponentformat": "power",
                   "title": {"text": second_title}},
        "updatemenus": [{
            "type": "buttons", "direction": "left", "showactive": False,
            "x": 0.0, "y": -0.16, "xanchor": "left", "yanchor": "top",
            "buttons": [
                {"label": "Play", "method": "animate",
                 "args": [None, {**_JUMP, "fromcurrent": False,
                                 "frame": {"duration": options.frame_ms, "redraw": True}}]},
                {"label": "Pause", "method": "animate", "args": [[None], _JUMP]},
            ],
        }],
        "sliders": [{
            # The slider starts a fixed distance right of the Play/Pause buttons, however
            # wide the figure; centred, its "Iteration N" label sits in the gap between the
            # two panels' x-axis titles.
            "active": len(shown) - 1, "x": 0.0, "len": 1.0, "y": -0.16, "yanchor": "top",
            "pad": {"t": 0, "l": SLIDER_INDENT_PX},
            "currentvalue": {"prefix": "Iteration ", "visible": True, "xanchor": "center"},
            "steps": [{"label": str(t), "method": "animate", "args": [[str(t)], _JUMP]}
                      for t in shown],
        }],
    }
    return _unchecked_figure(traces, layout, frames)


def mixture_figure(data: PlotData, means, covariances, labels, colors, title: str,
                   options: FigureOptions = FigureOptions()) -> go.Figure:
    """One fitted mixture, still: points coloured by their component, 1/2/3σ ellipses,
    means. ``labels`` are the drawn rows' components; ``covariances`` full ``(k, d, d)``.
    """
    means = np.asarray(means, dtype=float)
    dx, dy = data.dims
    outlines = ellipse_outlines(means, covariances, options.sigma_levels, data.dims,
                                ELLIPSE_VERTICES)
    traces = [{"type": "scattergl", "x": data.xy[:, 0], "y": data.xy[:, 1], "mode": "markers",
               "name": "data", "hoverinfo": "x+y",
               "marker": {"size": 5, "opacity": 0.8,
                          "color": np.asarray(colors)[labels].tolist()}}]
    for j, outline in enumerate(outlines):
        x, y = _outline_xy(outline)
        traces.append({"type": "scattergl", "x": x, "y": y, "mode": "lines",
                       "name": f"component {j} ellipses", "hoverinfo": "skip",
                       "line": {"color": colors[j], "width": 1.5}})
    traces.append({
        "type": "scattergl", "x": means[:, dx], "y": means[:, dy], "mode": "markers",
        "name": "means", "customdata": list(range(len(means))), "hovertemplate": _MEAN_HOVER,
        "marker": {"color": list(colors), "size": 12, "symbol": "x",
                   "line": {"color": "black", "width": 1}}})
    x_range, y_range = axis_ranges(data.xy)
    layout = {"title": {"text": title}, "height": 420, "showlegend": False,
              "margin": {"l": 10, "r": 10, "t": 50, "b": 10},
              "xaxis": {"range": list(x_range), "title": {"text": data.x_title}},
              "yaxis": {"range": list(y_range), "title": {"text": data.y_title}}}
    return _unchecked_figure(traces, layout)
