"""What the Explore page's figures get from the server: compact binary payloads.

``dashboard/static/fit_view.js`` draws them with Plotly.js. The animation payload holds,
for each shown iteration, only what moves (the drawn points' colours, each component's
ellipse centre and 1-sigma axes) plus the curves; the points' coordinates travel in it
only when the browser does not hold them yet (``include_points``), and still panels
never carry them. Pure functions, no Streamlit: tests read the payloads back with
``binary_payload.unpack``.
"""

from __future__ import annotations

import hashlib
import json
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from dashboard.binary_payload import pack
from dashboard.figures import (
    BLEND_LEVELS,
    DEFAULT_OPTIONS,
    DENSITY_POINTS,
    NOISE_COLOR,
    PALEST,
    FigureOptions,
    Histogram,
    PlotData,
    axis_ranges,
    blend_codes,
    component_colors,
    density_ranges,
    event_title,
    frame_iterations,
    second_series,
    uncertainty,
)
from gmm_core import FitTrace
from gmm_core.geometry import ellipse_axes

MEAN_MARKER_SIZE = 12
CANVAS_FRAME = (-10.0, 10.0)  # the sketch presets' common frame (gmm_core.datasets.sketch)
PANEL_HEIGHT = 420


def _digest(meta: dict, arrays: dict[str, np.ndarray]) -> str:
    digest = hashlib.blake2b(digest_size=8)
    digest.update(json.dumps(meta, sort_keys=True).encode())
    for name in sorted(arrays):
        digest.update(np.ascontiguousarray(arrays[name]).tobytes())
    return digest.hexdigest()


def points_id(data: PlotData) -> str:
    """Names the drawn points (coordinates and axes) for the browser's point store."""
    return _digest({"dims": data.dims, "titles": [data.x_title, data.y_title]},
                   {"xy": np.asarray(data.xy, dtype=np.float32)})


def _plot_meta(data: PlotData, options: FigureOptions) -> dict:
    x_range, y_range = axis_ranges(data.xy)
    return {"points_id": points_id(data), "n_points": len(data.xy),
            "x_title": data.x_title, "y_title": data.y_title,
            "x_range": list(x_range), "y_range": list(y_range),
            "sigma_levels": [float(s) for s in options.sigma_levels],
            "marker_size": options.marker_size, "mean_size": MEAN_MARKER_SIZE,
            "font_size": options.font_size, "aspect": options.aspect}


def _points(data: PlotData) -> np.ndarray:
    return np.ascontiguousarray(data.xy, dtype=np.float32)


def _ellipses(means, covariances, dims) -> tuple[np.ndarray, np.ndarray]:
    centres, axes = ellipse_axes(means, covariances, dims)
    return centres.astype(np.float32), axes.astype(np.float32)


def _point_colors(trace: FitTrace, shown: np.ndarray, data: PlotData,
                  options: FigureOptions) -> np.ndarray:
    """Per shown iteration the drawn points' colours: responsibility blends (codes) or
    uncertainty (bytes, 0-255 for 0-1)."""
    resp = trace.responsibilities[shown][:, data.positions]  # (frames, m, k [+ noise])
    if options.color_by == "responsibility":
        noise_slot = trace.n_components if trace.has_noise else None
        return np.stack([blend_codes(frame, options.palette, noise_slot) for frame in resp])
    return np.rint(np.stack([uncertainty(frame) for frame in resp]) * 255).astype(np.uint8)


def _shown_iterations(trace: FitTrace, options: FigureOptions) -> np.ndarray:
    return frame_iterations(trace.n_iter, [e.iteration for e in trace.events],
                            options.max_frames)


def _fit_meta(trace: FitTrace, shown: np.ndarray, options: FigureOptions) -> dict:
    """What an animation says about its fit whatever it draws: components and their
    colours, how points are coloured, each frame's title, the lower curve, the events.
    A fit with a noise component has one colour more, the noise's, last (``noise_code``:
    the first point colour code of its points)."""
    k = trace.n_components
    classes = k + trace.has_noise
    _, second_title, second_axis = second_series(trace)
    noise = {"noise_code": 1 + k * BLEND_LEVELS} if trace.has_noise else {}
    return {
        "kind": "animation", "k": k, "n_iter": trace.n_iter,
        "palette": component_colors(k, options.palette) + [NOISE_COLOR] * trace.has_noise,
        "color_by": options.color_by, "blend_levels": BLEND_LEVELS, "palest": PALEST,
        "uncertainty_max": 1.0 - 1.0 / classes if classes > 1 else 1.0, **noise,
        "titles": [event_title(trace, int(t)) for t in shown],
        "second_title": second_title, "second_axis": second_axis,
        "events": [{"iteration": e.iteration,
                    "text": f"iteration {e.iteration}: " + "<br>".join(textwrap.wrap(e.message,
                                                                                   60))}
                   for e in trace.events],
        "frame_ms": options.frame_ms, "height": options.height,
    }


def _curves(trace: FitTrace) -> dict[str, np.ndarray]:
    return {"log_likelihood": np.asarray(trace.log_likelihood, dtype=np.float64),
            "second": np.asarray(second_series(trace)[0], dtype=np.float64)}


def _noise_weights(trace: FitTrace, shown: np.ndarray) -> dict[str, np.ndarray]:
    """The noise component's weight per shown frame (for "Show as table"), if it has one."""
    if not trace.has_noise:
        return {}
    return {"noise_weights": trace.noise_weights[shown].astype(np.float32)}


def animation_payload(data: PlotData, trace: FitTrace, options: FigureOptions = DEFAULT_OPTIONS,
                      include_points: bool = True, placed_start: bool = False,
                      can_place: bool = False, can_sketch: bool = False) -> bytes:
    """The fit across its shown iterations (at most ``options.max_frames``, always the
    first, the last and those with events): per frame the drawn points' colours
    (responsibility blends or uncertainty), ellipses and means; the log-likelihood and
    the lower curve (how far the means moved, or the replay's zero-density rows); the
    events with their sentences. The browser opens it on the last iteration.
    ``placed_start``: the fit started from means placed by hand (drawn as the start);
    ``can_place``, ``can_sketch``: the user may place a new start on it, or add points to
    its data (a sketch) by clicking it (``dashboard.fit_component``).
    """
    shown = _shown_iterations(trace, options)
    centres, axes = zip(*(_ellipses(trace.means[t], trace.covariances[t], data.dims)
                          for t in shown), strict=True)
    meta = _plot_meta(data, options) | _fit_meta(trace, shown, options) | {
        "placed_start": placed_start, "can_place": can_place, "can_sketch": can_sketch,
    }
    if can_sketch:  # the axes keep the frame the sketch began on: clicks land where aimed
        for axis in ("x_range", "y_range"):
            meta[axis] = [min(meta[axis][0], CANVAS_FRAME[0]), max(meta[axis][1], CANVAS_FRAME[1])]
    arrays = {"iterations": shown.astype(np.int32),
              "colors": _point_colors(trace, shown, data, options),
              "centres": np.stack(centres), "axes": np.stack(axes), **_curves(trace),
              "weights": trace.weights[shown].astype(np.float32),  # for "Show as table"
              **_noise_weights(trace, shown)}
    meta["fit_id"] = _digest(meta, arrays)
    if include_points:
        arrays["points"] = _points(data)
    return pack(meta, arrays)


# ---------------------------------------------------------------- one feature


def _density_meta(data: PlotData, counts: Histogram, final, options: FigureOptions) -> dict:
    """Axes for densities over a histogram (``figures.density_ranges``, for the final
    mixture ``final``: weights, means and variances) and what the browser needs to draw
    them."""
    x_range, y_range = density_ranges(counts, *final)
    return {"points_id": points_id(data), "n_points": len(data.xy), "n_dims": 1,
            "x_title": data.x_title, "y_title": "density",
            "x_range": list(x_range), "y_range": list(y_range),
            "grid_size": DENSITY_POINTS, "marker_size": options.marker_size,
            "mean_size": MEAN_MARKER_SIZE, "font_size": options.font_size}


def _histogram_arrays(counts: Histogram) -> dict[str, np.ndarray]:
    return {"hist_edges": counts.edges.astype(np.float64),
            "hist_density": counts.density.astype(np.float64)}


def _mixture_1d(weights, means, covariances) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A mixture's weights, means and variances on its one feature."""
    return (np.asarray(weights, dtype=np.float64), np.asarray(means, dtype=np.float64)[:, 0],
            np.asarray(covariances, dtype=np.float64)[:, 0, 0])


def density_animation_payload(data: PlotData, counts: Histogram, trace: FitTrace,
                              options: FigureOptions = DEFAULT_OPTIONS,
                              include_points: bool = True) -> bytes:
    """The fit of one feature across its shown iterations, for the browser to draw as
    ``counts`` (the histogram, sent once per fit) under each component's weighted density
    and the mixture's: per frame each component's weight, mean and variance (the
    browser evaluates the curves), the drawn points' colours (a strip under the axis),
    and the curves beside, as ``animation_payload``."""
    shown = _shown_iterations(trace, options)
    params = [_mixture_1d(trace.weights[t], trace.means[t], trace.covariances[t])
              for t in shown]
    weights, means, variances = (np.stack(column) for column in zip(*params, strict=True))
    meta = (_density_meta(data, counts, params[-1], options) | _fit_meta(trace, shown, options)
            | {"placed_start": False, "can_place": False, "can_sketch": False})
    arrays = {"iterations": shown.astype(np.int32),
              "colors": _point_colors(trace, shown, data, options),
              "weights": weights, "means": means, "variances": variances,
              **_histogram_arrays(counts), **_curves(trace), **_noise_weights(trace, shown)}
    meta["fit_id"] = _digest(meta, arrays)
    if include_points:
        arrays["points"] = _points(data)
    return pack(meta, arrays)


@dataclass(frozen=True)
class Panel:
    """One still mixture: its drawn points' components, its means and full covariances,
    and a colour per component."""

    title: str
    labels: np.ndarray  # (m,) component of each drawn point
    weights: np.ndarray  # (k,)
    means: np.ndarray  # (k, d)
    covariances: np.ndarray  # (k, d, d)
    colors: Sequence[str]


def panels_payload(data: PlotData, panels: Sequence[Panel],
                   options: FigureOptions = DEFAULT_OPTIONS) -> bytes:
    """Still mixtures side by side on the same axes, drawing the animation's points."""
    arrays = {}
    for i, panel in enumerate(panels):
        centres, axes = _ellipses(panel.means, panel.covariances, data.dims)
        arrays |= {f"labels_{i}": np.asarray(panel.labels, dtype=np.uint8),
                   f"centres_{i}": centres, f"axes_{i}": axes}
    meta = _plot_meta(data, options) | {
        "kind": "panels", "height": PANEL_HEIGHT,
        "panels": [{"title": panel.title, "palette": list(panel.colors)} for panel in panels],
    }
    return pack(meta, arrays)


def density_panels_payload(data: PlotData, counts: Histogram, panels: Sequence[Panel],
                           options: FigureOptions = DEFAULT_OPTIONS) -> bytes:
    """Still mixtures of one feature side by side: each one's densities over the same
    histogram, the drawn points under the axis in their component's colour."""
    arrays = _histogram_arrays(counts)
    for i, panel in enumerate(panels):
        weights, means, variances = _mixture_1d(panel.weights, panel.means, panel.covariances)
        arrays |= {f"labels_{i}": np.asarray(panel.labels, dtype=np.uint8),
                   f"weights_{i}": weights, f"means_{i}": means, f"variances_{i}": variances}
    final = _mixture_1d(panels[0].weights, panels[0].means, panels[0].covariances)
    meta = _density_meta(data, counts, final, options) | {
        "kind": "panels", "height": PANEL_HEIGHT,
        "panels": [{"title": panel.title, "palette": list(panel.colors)} for panel in panels],
    }
    return pack(meta, arrays)


# ---------------------------------------------------------------- a sketch before its fit


def canvas_payload(points, hint: str, options: FigureOptions = DEFAULT_OPTIONS) -> bytes:
    """A sketch with too few points to fit: an equal-scale frame (the presets' −10…10,
    wider where points lie outside it) showing ``points`` ``(m, 2)``, drawn with "Draw
    points" on and ``hint`` under it."""
    xy = np.asarray(points, dtype=float).reshape(-1, 2)
    low, high = CANVAS_FRAME
    if len(xy):
        low, high = min(low, float(xy.min()) - 1.0), max(high, float(xy.max()) + 1.0)
    meta = {"kind": "canvas", "n_points": len(xy), "x_title": "x", "y_title": "y",
            "x_range": [low, high], "y_range": [low, high], "hint": hint,
            "marker_size": options.marker_size, "font_size": options.font_size,
            "height": options.height}
    arrays = {"points": xy.astype(np.float32)}
    meta["points_id"] = meta["fit_id"] = _digest(meta, arrays)
    return pack(meta, arrays)
