"""What the figures draw, shared by the browser's figures and the Plotly ones.

The drawn points (a reproducible subsample of the fitted rows on a 2-D projection),
which iterations an animation shows, the component colours and the blends of them that
colour each point by its responsibilities, the titles and curves beside a fit. The
Explore page draws in the browser from ``dashboard.fit_payload``; ``mixture_figure``
draws one still mixture as a Plotly figure for the other pages. Pure functions.
"""

from __future__ import annotations

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
# Okabe and Ito's colour-blind-safe set (Color Universal Design, 2008), its black left out
# (black marks points no component claims) and grey in its place; larger k reuses them.
OKABE_ITO = ("#E69F00", "#56B4E9", "#009E73", "#D55E00", "#0072B2", "#CC79A7", "#F0E442",
             "#999999")
PALETTES = {"plotly": COMPONENT_COLORS, "okabe_ito": OKABE_ITO}
_PALETTE_RGB = {name: np.array([hex_to_rgb(c) for c in colors], dtype=float)
                for name, colors in PALETTES.items()}
COLOR_BY = ("responsibility", "uncertainty")
# How data-space figures use their frame: one unit the same length on both axes (true
# to scale, the default), or stretched to fill it (distorts shapes).
EQUAL, FILL = "equal", "fill"
ASPECTS = (EQUAL, FILL)
# Blends are drawn from an RGB cube of this many levels per channel: within 8.5/255.
BLEND_LEVELS = 16
MAX_FRAMES = 60
MAX_POINTS = 2000
SIGMA_LEVELS = (1.0, 2.0, 3.0)
ELLIPSE_VERTICES = 41
EVENT_NAMES = {
    IDENTICAL_COMPONENTS: "identical components",
    WEIGHT_COLLAPSE: "weight collapse",
    NOT_POSITIVE_DEFINITE: "covariance collapse",
    REGULARIZED: "regularized",
    REINITIALIZED: "re-initialized",
    ZERO_DENSITY: "zero-density rows",
}
_MEAN_HOVER = "component %{customdata}<br>(%{x:.4g}, %{y:.4g})<extra></extra>"


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
    palette: str = "plotly"
    max_frames: int = MAX_FRAMES
    sigma_levels: tuple[float, ...] = SIGMA_LEVELS
    frame_ms: int = 150  # one animation frame's duration
    height: int = 600
    marker_size: float = 5
    font_size: int = 12
    aspect: str = EQUAL

    def __post_init__(self):
        if self.palette not in PALETTES:
            raise ValueError(f"palette must be one of {', '.join(PALETTES)}; "
                             f"got {self.palette!r}")
        if self.color_by not in COLOR_BY:
            raise ValueError(f"color_by must be one of {', '.join(COLOR_BY)}; "
                             f"got {self.color_by!r}")
        if self.aspect not in ASPECTS:
            raise ValueError(f"aspect must be one of {', '.join(ASPECTS)}; "
                             f"got {self.aspect!r}")
        if self.max_frames < 2:
            raise ValueError(f"max_frames must be at least 2; got {self.max_frames}")


DEFAULT_OPTIONS = FigureOptions()
# Presentation mode: a projector at 1280x720 seen from the back of a room.
# The height is the most the figure takes: the browser fits it to the window (480 px at
# 1280x720, under the status line with the controls in view).
PRESENTATION = {"font_size": 18, "marker_size": 8, "height": 800}


def figure_options(color_by: str = "responsibility", palette: str = "plotly",
                   present: bool = False, aspect: str = EQUAL) -> FigureOptions:
    """The figures' options for a view; presentation mode enlarges text and markers."""
    return FigureOptions(color_by=color_by, palette=palette, aspect=aspect,
                         **(PRESENTATION if present else {}))


def data_axes(aspect: str = EQUAL) -> tuple[dict, dict]:
    """The x and y axis settings of a figure drawn in data space: with ``EQUAL`` the y
    axis is tied to the x axis, one unit the same length on both, at any size of the
    frame (Plotly widens one range to keep the data in view); with ``FILL``, nothing."""
    if aspect == FILL:
        return {}, {}
    return {"constrain": "range"}, {"scaleanchor": "x", "scaleratio": 1, "constrain": "range"}


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
    """Iterations that get a frame: all of them when they fit. Else the first half of the
    frames goes to the first iterations, one each (where EM moves most, and where a class
    steps through it), the rest to evenly spaced later ones (always the last) and, up to
    a quarter of the frames, to those with events.
    """
    if n_iter + 1 <= max_frames:
        return np.arange(n_iter + 1)
    first = np.arange(max_frames // 2)
    events = sorted({int(t) for t in event_iterations if first[-1] < t < n_iter})
    events = events[: max_frames // 4]
    later = np.linspace(first[-1] + 1, n_iter, max_frames - len(first) - len(events))
    return np.unique(np.concatenate([first, later.round().astype(int),
                                     np.asarray(events, dtype=int)]))


def component_colors(k: int, palette: str = "plotly") -> list[str]:
    colors = PALETTES[palette]
    return [colors[j % len(colors)] for j in range(k)]


def matched_colors(permutation, palette: str = "plotly") -> list[str]:
    """Colours for another fit's components: ``permutation[j]`` gets our component j's."""
    permutation = np.asarray(permutation)
    colors = np.empty(len(permutation), dtype=object)
    colors[permutation] = component_colors(len(permutation), palette)
    return colors.tolist()


def blend_rgb(responsibilities, palette: str = "plotly") -> np.ndarray:
    """Each row's colour ``(m, 3)`` in 0…255: the component colours mixed by its
    responsibilities. Rows whose responsibilities sum to less than one (the notebook's
    ε-normalization) come out darker, down to black for rows no component claims.
    """
    resp = np.asarray(responsibilities, dtype=float)
    rgb = _PALETTE_RGB[palette]
    return np.clip(resp @ rgb[np.arange(resp.shape[1]) % len(rgb)], 0.0, 255.0)


def blend_codes(responsibilities, palette: str = "plotly") -> np.ndarray:
    """The blends as codes ``(r * L + g) * L + b`` in an RGB cube of ``L = BLEND_LEVELS``
    levels per channel.

    Numbers rather than colour strings: two bytes a point per frame, against nine for
    "#rrggbb"; the browser maps them through a colour scale of the same cube.
    """
    step = 255.0 / (BLEND_LEVELS - 1)
    levels = np.rint(blend_rgb(responsibilities, palette) / step).astype(np.uint16)
    return (levels[:, 0] * BLEND_LEVELS + levels[:, 1]) * BLEND_LEVELS + levels[:, 2]


def uncertainty(responsibilities) -> np.ndarray:
    """1 − the largest responsibility: 0 for a sure assignment."""
    return (1.0 - np.asarray(responsibilities).max(axis=1)).astype(np.float32)


def outline_xy(outlines: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """One component's ``(levels, 2, n)`` outlines as x and y with NaN gaps between."""
    gapped = np.pad(outlines, ((0, 0), (0, 0), (0, 1)), constant_values=np.nan)
    x, y = gapped.transpose(1, 0, 2).reshape(2, -1)
    return x, y


def event_title(trace: FitTrace, t: int) -> str:
    title = f"{'Notebook replay' if trace.algorithm == 'notebook' else 'EM'}: iteration {t}"
    happened = [EVENT_NAMES.get(e.kind, e.kind.replace("_", " "))
                + ("" if e.component is None else f" (component {e.component})")
                for e in trace.events_at(t)]
    return f"{title} of {trace.n_iter}" + "".join(f" · {text}" for text in happened)


def second_series(trace: FitTrace) -> tuple[np.ndarray, str, str]:
    """The lower curve: zero-density rows for the notebook replay, else how far the means
    moved (what the notebook's stopping rule watches)."""
    if trace.zero_density is not None:
        return trace.zero_density.astype(float), "rows with zero density", "linear"
    return trace.mean_shift, "‖Δμ‖ (all means)", "log"


def _unchecked_figure(data: list[dict], layout: dict, frames=None) -> go.Figure:
    """A Figure from plain dicts, skipping Plotly's element-by-element checks of data and
    layout (a tenth of a second and more for thousands of points). The tests rebuild
    every figure with full validation."""
    return go.Figure(data=data, layout=layout, frames=frames, _validate=False)


def mixture_figure(data: PlotData, means, covariances, labels, colors, title: str,
                   options: FigureOptions = DEFAULT_OPTIONS) -> go.Figure:
    """One fitted mixture, still: points coloured by their component, 1/2/3σ ellipses,
    means. ``labels`` are the drawn rows' components; ``covariances`` full ``(k, d, d)``.
    """
    means = np.asarray(means, dtype=float)
    dx, dy = data.dims
    outlines = ellipse_outlines(means, covariances, options.sigma_levels, data.dims,
                                ELLIPSE_VERTICES)
    traces = [{"type": "scatter", "x": data.xy[:, 0], "y": data.xy[:, 1], "mode": "markers",
               "name": "data", "hoverinfo": "x+y",
               "marker": {"size": options.marker_size, "opacity": 0.8,
                          "color": np.asarray(colors)[labels].tolist()}}]
    for j, outline in enumerate(outlines):
        x, y = outline_xy(outline)
        traces.append({"type": "scatter", "x": x, "y": y, "mode": "lines",
                       "name": f"component {j} ellipses", "hoverinfo": "skip",
                       "line": {"color": colors[j], "width": 1.5}})
    traces.append({
        "type": "scatter", "x": means[:, dx], "y": means[:, dy], "mode": "markers",
        "name": "means", "customdata": list(range(len(means))), "hovertemplate": _MEAN_HOVER,
        "marker": {"color": list(colors), "size": 12, "symbol": "x",
                   "line": {"color": "black", "width": 1}}})
    x_range, y_range = axis_ranges(data.xy)
    x_scale, y_scale = data_axes(options.aspect)
    layout = {"title": {"text": title}, "height": 420, "showlegend": False,
              "margin": {"l": 10, "r": 10, "t": 50, "b": 10},
              "font": {"size": options.font_size},
              "xaxis": {"range": list(x_range), "title": {"text": data.x_title}, **x_scale},
              "yaxis": {"range": list(y_range), "title": {"text": data.y_title}, **y_scale}}
    return _unchecked_figure(traces, layout)
