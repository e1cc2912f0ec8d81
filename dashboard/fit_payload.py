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
    FigureOptions,
    PlotData,
    axis_ranges,
    blend_codes,
    component_colors,
    event_title,
    frame_iterations,
    second_series,
    uncertainty,
)
from gmm_core import FitTrace
from gmm_core.geometry import ellipse_axes

MEAN_MARKER_SIZE = 12
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
    k = trace.n_components
    shown = frame_iterations(trace.n_iter, [e.iteration for e in trace.events],
                             options.max_frames)
    resp = trace.responsibilities[shown][:, data.positions]  # (frames, m, k)
    if options.color_by == "responsibility":
        colors = np.stack([blend_codes(frame, options.palette) for frame in resp])
    else:
        colors = np.rint(np.stack([uncertainty(frame) for frame in resp]) * 255).astype(np.uint8)
    centres, axes = zip(*(_ellipses(trace.means[t], trace.covariances[t], data.dims)
                          for t in shown), strict=True)
    second, second_title, second_axis = second_series(trace)
    meta = _plot_meta(data, options) | {
        "kind": "animation", "k": k, "n_iter": trace.n_iter,
        "palette": component_colors(k, options.palette),
        "color_by": options.color_by, "blend_levels": BLEND_LEVELS,
        "uncertainty_max": 1.0 - 1.0 / k if k > 1 else 1.0,
        "titles": [event_title(trace, int(t)) for t in shown],
        "second_title": second_title, "second_axis": second_axis,
        "events": [{"iteration": e.iteration,
                    "text": f"iteration {e.iteration}: " + "<br>".join(textwrap.wrap(e.message,
                                                                                   60))}
                   for e in trace.events],
        "frame_ms": options.frame_ms, "height": options.height,
        "placed_start": placed_start, "can_place": can_place, "can_sketch": can_sketch,
    }
    arrays = {"iterations": shown.astype(np.int32), "colors": colors,
              "centres": np.stack(centres), "axes": np.stack(axes),
              "log_likelihood": np.asarray(trace.log_likelihood, dtype=np.float64),
              "second": np.asarray(second, dtype=np.float64)}
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
