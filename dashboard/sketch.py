"""The "Sketch" data set: points a user draws on the Explore figure.

The session keeps the points; the sidebar chooses where a sketch starts (a preset of
``gmm_core.datasets.sketch`` or an empty canvas), how many points a click adds and how
far they spread, clears it and downloads it. The figure's "Draw points" mode sends a
click (a cloud around the pointer) or a box or lasso (filled evenly) back as the
``sketch_add`` trigger, handled by ``add_points``. A request names its sketch by its
points (``dataset_params``), so fits are cached like any data set's; a small sketch also
travels in the link (``dashboard.query_state``). Until a sketch has enough points to
fit (``points_missing``), the Explore page draws it on an empty canvas with "Draw points"
on (``canvas``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from dashboard.figures import FigureOptions
from dashboard.fit_payload import canvas_payload
from dashboard.query_state import LINKED_SKETCH_POINTS
from gmm_core import FitRequest
from gmm_core.datasets import Dataset
from gmm_core.datasets.sketch import (
    SKETCH,
    SKETCH_LIMIT,
    SKETCH_PRESETS,
    points_around,
    points_in_box,
    points_in_polygon,
    sketch_dataset,
    sketch_params,
    sketch_points,
)
from gmm_core.export import csv_text
from gmm_core.wording import counted

POINTS = "sketch_points"  # the session's sketch: [[x, y], …]
START = "sketch_start"
COUNT = "sketch_count"
SPREAD = "sketch_spread"
EMPTY = "empty"
START_SAMPLES = 120  # a preset's points when a sketch starts from it: small enough to link
DECIMALS = 3  # points are kept rounded, so a link (which writes them) reproduces them
SPREADS = (0.1, 0.2, 0.5, 1.0, 2.0)
COUNT_RANGE = (1, 50)
FIRST_PRESET = "separated"


def _start_points(start: str) -> list[list[float]]:
    if start == EMPTY:
        return []
    return np.round(sketch_points(start, START_SAMPLES), DECIMALS).tolist()


def _restart() -> None:
    st.session_state[POINTS] = _start_points(st.session_state[START])


def _clear() -> None:
    st.session_state[POINTS] = []


def sketch_control() -> tuple[tuple, Dataset]:
    """The sketch's sidebar controls; its ``dataset_params`` and Dataset, however few its
    points (``points_missing`` says whether it can be fitted yet)."""
    st.session_state.setdefault(START, FIRST_PRESET)
    if POINTS not in st.session_state:
        _restart()
    titles = {name: f"preset: {preset.title}" for name, preset in SKETCH_PRESETS.items()}
    st.selectbox("Sketch starts from", [*SKETCH_PRESETS, EMPTY], key=START,
                 format_func=lambda name: titles.get(name, "an empty canvas"),
                 on_change=_restart, help="Choosing again starts the sketch afresh.")
    st.slider("Points per click", *COUNT_RANGE, value=10, key=COUNT)
    st.select_slider("Spread of a click's points", SPREADS, value=0.5, key=SPREAD,
                     help="Standard deviation of the cloud around the pointer, in the "
                          "plot's units (the presets span about −10 to 10).")
    points = st.session_state[POINTS]
    clear, download = st.columns(2)
    clear.button("Clear", on_click=_clear, key="sketch_clear", use_container_width=True)
    download.download_button(
        "CSV", data=lambda: csv_text(pd.DataFrame(points, columns=["x", "y"])),
        file_name="sketch.csv", mime="text/csv", on_click="ignore", key="sketch_download",
        use_container_width=True, help="The sketch's points, to fit elsewhere or upload later.")
    st.caption(f"{counted(len(points), 'point')}. Draw more with “Draw points” under the "
               "figure: a click adds a cloud at the pointer, a dragged box or lasso fills "
               "its area."
               + ("" if len(points) <= LINKED_SKETCH_POINTS else
                  f" Links carry sketches of up to {LINKED_SKETCH_POINTS} points: download "
                  "this one."))
    return sketch_params(points), sketch_dataset(points)


def points_needed(k: int) -> int:
    """How many points a sketch needs before it is fitted: one more than k (EM needs a
    row per component, and scikit-learn's fit beside it as many)."""
    return int(k) + 1


def points_missing(request: FitRequest) -> int:
    """How many more points the request's sketch needs before it can be fitted (0 for
    any other data set)."""
    if request.dataset != SKETCH:
        return 0
    drawn = len(dict(request.dataset_params).get("points", ()))
    return max(0, points_needed(request.k) - drawn)


def canvas_hint(request: FitRequest) -> str:
    need = points_needed(request.k)
    return (f"Click to add points; the fit starts when there are enough: {need} for "
            f"k = {request.k} (k + 1), {points_missing(request)} to go.")


def canvas(request: FitRequest, options: FigureOptions) -> bytes:
    """The empty sketch's canvas: its points so far, "Draw points" on, and the hint."""
    return canvas_payload(dict(request.dataset_params).get("points", ()), canvas_hint(request),
                          options)


def with_drawn(points: list, shape: dict | None, count: int, spread: float) -> list:
    """``points`` and what ``shape`` adds: ``{"point": [x, y]}`` a cloud of ``count``
    points of standard deviation ``spread`` around it; ``{"box": {"x": [..], "y": [..]}}``
    or ``{"lasso": {"x": […], "y": […]}}`` ``count`` points filling the shape evenly.
    Reproducible (the generator is seeded by the sketch's size) and rounded as a link
    writes them."""
    count = min(int(count), SKETCH_LIMIT - len(points))
    if not shape or count <= 0:
        return points
    rng = np.random.default_rng(len(points))
    if "point" in shape:
        new = points_around(shape["point"], count, spread, rng)
    elif "box" in shape:
        new = points_in_box(shape["box"]["x"], shape["box"]["y"], count, rng)
    else:
        new = points_in_polygon(np.column_stack([shape["lasso"]["x"], shape["lasso"]["y"]]),
                                count, rng)
    return points + np.round(new, DECIMALS).tolist()


def add_points(shape: dict | None) -> None:
    """The figure's ``sketch_add`` trigger: draw ``shape`` on the session's sketch."""
    state = st.session_state
    state[POINTS] = with_drawn(state.get(POINTS, []), shape, state.get(COUNT, 10),
                               state.get(SPREAD, 0.5))
