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
from plotly.colors import hex_to_rgb

from dashboard.plain_text import plotly_plain
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

# Every Plotly figure's options: no Plotly logo, and no "Share chart" button (it would
# upload the figure, data and all, to Plotly's cloud). fit_view.js says the same.
PLOTLY_CONFIG = {"displaylogo": False, "showSendToCloud": False}

# Both palettes are ordered so that any two of their first six colours differ by a
# CIEDE2000 ΔE of at least 20 (Okabe–Ito's also under simulated deuteranopia and
# protanopia; tests/test_palettes.py): most fits have few components.
# Twelve colours, as many as the k slider offers (Plotly's ten, brown and grey); larger k
# reuses them.
COMPONENT_COLORS = ("#636EFA", "#EF553B", "#00CC96", "#FECB52", "#FF97FF", "#7F7F7F",
                    "#AB63FA", "#FFA15A", "#19D3F3", "#FF6692", "#B6E880", "#8C564B")
# Okabe and Ito's colour-blind-safe set (Color Universal Design, 2008) and grey. Only one
# six of them stay 20 apart for every kind of colour vision: those come first.
OKABE_ITO = ("#0072B2", "#D55E00", "#F0E442", "#000000", "#56B4E9", "#999999",
             "#E69F00", "#009E73", "#CC79A7")
PALETTES = {"plotly": COMPONENT_COLORS, "okabe_ito": OKABE_ITO}
# The noise component (gmm_core.noise): a grey lighter than both palettes' greys; its
# points are also open circles, so they never read as a component of either palette.
NOISE_COLOR = "#B4B4B4"
_PALETTE_RGB = {name: np.array([hex_to_rgb(c) for c in colors], dtype=float)
                for name, colors in PALETTES.items()}
COLOR_BY = ("responsibility", "uncertainty")
# How data-space figures use their frame: one unit the same length on both axes (true
# to scale, the default), or stretched to fill it (distorts shapes).
EQUAL, FILL = "equal", "fill"
ASPECTS = (EQUAL, FILL)
# A point takes the colour of the component that claims it most, paler the less sure:
# from PALEST (shared evenly) to the full colour (claimed alone), in this many levels.
BLEND_LEVELS = 16
PALEST = 0.3
WHITE = np.array([255.0, 255.0, 255.0])
MAX_FRAMES = 60
MAX_BINS = 80  # a histogram's bars at most (the view of one feature)
RUG_DEPTH = 0.12  # the strip of points under a density's axis, as a share of its height
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
    """The drawn rows of the fitted matrix on the chosen projection ``dims``: two
    columns, or one for the view of one feature (then ``y_title`` is empty).

    ``positions`` index the trace's display subsample and ``rows`` the fitted matrix
    (``trace.sample_index[positions] == rows``); ``xy`` holds those rows' coordinates,
    one column per entry of ``dims``.
    """

    xy: np.ndarray
    rows: np.ndarray
    positions: np.ndarray
    dims: tuple[int, ...]
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
    """The display subsample of ``X`` (thinned evenly to ``max_points``) on ``dims``
    (two columns, or one)."""
    sample_index = np.asarray(sample_index)
    positions = np.arange(len(sample_index))
    if len(positions) > max_points:
        # sample_index is already a random subset, so an even thinning of it is one too.
        positions = np.unique(np.linspace(0, len(positions) - 1, max_points).round()
                              .astype(int))
    rows = sample_index[positions]
    dims = tuple(int(d) for d in dims)
    xy = np.asarray(X)[rows][:, dims].astype(float)
    return PlotData(xy, rows, positions, dims, plotly_plain(titles[0]),
                    plotly_plain(titles[1]) if len(dims) > 1 else "")


def plotted_dims(X) -> tuple[int, ...]:
    """The columns a figure of ``X`` draws: the first two, or the only one."""
    return (0, 1) if np.shape(X)[1] > 1 else (0,)


def axis_range(values) -> tuple[float, float]:
    """A fixed range around ``values`` (5% margin; ±1 or more around a single value)."""
    low, high = float(np.min(values)), float(np.max(values))
    margin = 0.05 * (high - low) if high > low else max(1.0, abs(low))
    return low - margin, high + margin


def axis_ranges(xy) -> tuple[tuple[float, float], tuple[float, float]]:
    """Fixed x and y ranges around the points (5% margin), shared by every panel."""
    x, y = np.asarray(xy, dtype=float).T
    return axis_range(x), axis_range(y)


@dataclass(frozen=True)
class Histogram:
    """One feature's histogram, as a density (its bars' area is 1), over all fitted rows."""

    edges: np.ndarray
    density: np.ndarray


def histogram(values) -> Histogram:
    """NumPy's "auto" bins (at most ``MAX_BINS``) over ``values``."""
    values = np.asarray(values, dtype=float).ravel()
    bins = min(len(np.histogram_bin_edges(values, "auto")) - 1, MAX_BINS)
    density, edges = np.histogram(values, bins=max(bins, 1), density=True)
    return Histogram(edges, density)


def component_densities(x, weights, means, variances) -> np.ndarray:
    """Each component's weighted density ``(k, len(x))`` at ``x`` (one feature):
    ``weights[j] * N(x | means[j], variances[j])``; their sum is the mixture's.
    ``dashboard/static/fit_view.js`` computes the same in the browser."""
    x = np.asarray(x, dtype=float)[None, :]
    means = np.asarray(means, dtype=float)[:, None]
    variances = np.asarray(variances, dtype=float)[:, None]
    return (np.asarray(weights, dtype=float)[:, None]
            * np.exp(-0.5 * (x - means) ** 2 / variances) / np.sqrt(2 * np.pi * variances))


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


def _claims(responsibilities) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each row's winning component, how sure (0 shared evenly … 1 alone) and whether any
    component claims it (the notebook's ε-normalization leaves some rows at zero)."""
    resp = np.asarray(responsibilities, dtype=float)
    total = resp.sum(axis=1)
    claimed = total >= 0.5
    k = resp.shape[1]
    share = resp.max(axis=1) / np.where(claimed, total, 1.0)
    sure = np.clip((share - 1 / k) / (1 - 1 / k), 0.0, 1.0) if k > 1 else np.ones(len(resp))
    return resp.argmax(axis=1), sure, claimed


def _tint(rgb, sure) -> np.ndarray:
    return WHITE + (PALEST + (1 - PALEST) * np.asarray(sure))[:, None] * (rgb - WHITE)


def blend_rgb(responsibilities, palette: str = "plotly") -> np.ndarray:
    """Each row's colour ``(m, 3)`` in 0…255: its winning component's colour blended with
    white, the more white the less sure the claim. Never a mix of two components'
    colours, which would read as a third component. Rows no component claims are black.
    """
    winner, sure, claimed = _claims(responsibilities)
    rgb = _PALETTE_RGB[palette]
    return np.where(claimed[:, None], _tint(rgb[winner % len(rgb)], sure), 0.0)


def blend_codes(responsibilities, palette: str = "plotly",
                noise_slot: int | None = None) -> np.ndarray:
    """The blends as byte codes: 0 for a row no component claims, else
    ``1 + j * BLEND_LEVELS + level`` for winner ``j`` at sureness ``level``.

    With ``noise_slot`` the last column is a noise component's: the rows it wins take
    colour ``noise_slot`` (past the components' colours).

    One byte a point per frame, against nine for "#rrggbb"; the browser maps codes to
    colours from the palette (dashboard/static/fit_view.js). ``palette`` only says how
    many colours there are: larger k reuses them.
    """
    winner, sure, claimed = _claims(responsibilities)
    j = winner % len(PALETTES[palette])
    if noise_slot is not None:
        j = np.where(winner == np.shape(responsibilities)[1] - 1, noise_slot, j)
    level = np.rint(sure * (BLEND_LEVELS - 1)).astype(np.uint16)
    return np.where(claimed, 1 + j * BLEND_LEVELS + level, 0).astype(np.uint8)


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


DENSITY_POINTS = 201  # where a figure of one feature evaluates the densities


def density_ranges(counts: Histogram, weights, means,
                   variances) -> tuple[tuple[float, float], tuple[float, float]]:
    """Axes for densities over a histogram: x around the histogram, y up to the taller
    of its bars and the mixture (a spikier mixture, earlier in a fit, is cut off at the
    top) and down to the strip of points under the axis."""
    x_range = axis_range(counts.edges)
    grid = np.linspace(*x_range, DENSITY_POINTS)
    top = 1.1 * max(float(counts.density.max()),
                    float(component_densities(grid, weights, means, variances).sum(axis=0).max()))
    return x_range, (-RUG_DEPTH * top, top)


def one_feature_figure(data: PlotData, weights, means, covariances, point_colors,
                       title: str) -> go.Figure:
    """One mixture of one feature, still: the histogram of the drawn points (as a
    density), each component's weighted density and the mixture's, each mean on its
    curve, and the points in a strip under the axis (the trace named "data", coloured by
    ``point_colors``), as ``dashboard/static/fit_view.js`` draws the animation."""
    values = data.xy[:, 0]
    counts = histogram(values)
    means, variances = np.asarray(means, dtype=float)[:, 0], np.asarray(covariances)[:, 0, 0]
    (low, high), (bottom, top) = density_ranges(counts, weights, means, variances)
    grid = np.linspace(low, high, DENSITY_POINTS)
    curves = component_densities(grid, weights, means, variances)
    colors = component_colors(len(means))
    traces = [{"type": "bar", "name": "histogram", "x": (counts.edges[:-1] + counts.edges[1:]) / 2,
               "y": counts.density, "width": np.diff(counts.edges),
               "marker": {"color": "rgba(120,120,120,0.35)"}, "hoverinfo": "x+y"}]
    traces += [{"type": "scatter", "mode": "lines", "name": f"component {j} density",
                "x": grid, "y": curve, "line": {"color": colors[j], "width": 2},
                "hoverinfo": "skip"} for j, curve in enumerate(curves)]
    peaks = component_densities(means, weights, means, variances).diagonal()
    traces += [
        {"type": "scatter", "mode": "lines", "name": "mixture density", "x": grid,
         "y": curves.sum(axis=0), "line": {"color": "black", "width": 2.5}},
        {"type": "scatter", "mode": "markers", "name": "means", "x": means, "y": peaks,
         "marker": {"color": colors, "size": 12, "symbol": "x",
                    "line": {"color": "black", "width": 1}}},
        {"type": "scatter", "mode": "markers", "name": "data", "x": values,
         "y": bottom * (0.15 + 0.7 * ((np.arange(len(values)) * 0.6180339887) % 1)),
         "marker": {"size": 5, "opacity": 0.8, "color": list(point_colors)}, "hoverinfo": "x"},
    ]
    layout = {"title": {"text": title}, "height": 420, "showlegend": False, "bargap": 0,
              "margin": {"l": 10, "r": 10, "t": 50, "b": 10},
              "xaxis": {"range": [low, high], "title": {"text": data.x_title}},
              "yaxis": {"range": [bottom, top], "title": {"text": "density"}}}
    return _unchecked_figure(traces, layout)
