"""The Sketch data set: points drawn by hand, their link, and the page that fits them."""

from __future__ import annotations

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest
from test_app_explore import APP, animation, assert_clean

from dashboard import sketch
from dashboard.plain_text import plain
from dashboard.query_state import (
    LINKED_SKETCH_POINTS,
    default_view,
    view_from_query,
    view_to_query,
)
from gmm_core import FitRequest
from gmm_core.datasets import DatasetError
from gmm_core.datasets.sketch import (
    SKETCH,
    SKETCH_LIMIT,
    inside_polygon,
    points_in_polygon,
    sketch_dataset,
    sketch_params,
)

DEFAULT = default_view(sdss_present=False)


@pytest.fixture(autouse=True)
def _own_data_home(data_home):
    return data_home


def sketch_page(query: dict | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params.update({"dataset": SKETCH, "k": "3", **(query or {})})
    return at.run()


def drawn_points(at: AppTest) -> int:
    return len(at.session_state[sketch.POINTS])


# ------------------------------------------------------------------ shapes to points
def test_a_lasso_is_filled_evenly_and_only_inside():
    triangle = np.array([[0.0, 0.0], [4.0, 0.0], [0.0, 4.0]])
    points = points_in_polygon(triangle, 500, np.random.default_rng(0))
    assert len(points) == 500
    assert np.all(inside_polygon(points, triangle))
    assert np.all(points.sum(axis=1) <= 4.0)
    # Evenly: the half of the triangle nearer the right angle holds about a quarter...
    # by area, the triangle x + y <= 2 is a quarter of the whole.
    assert np.mean(points.sum(axis=1) <= 2.0) == pytest.approx(0.25, abs=0.06)


def test_a_sketch_has_at_most_its_limit_of_points():
    with pytest.raises(DatasetError, match="at most 5,000 points"):
        sketch_dataset(np.zeros((SKETCH_LIMIT + 1, 2)))


# ------------------------------------------------------------------ the link
def test_a_small_sketch_travels_in_the_link_and_comes_back_exactly():
    points = np.round(np.random.default_rng(1).normal(size=(40, 2)) * 5, 3)
    view = DEFAULT.__class__(FitRequest(dataset=SKETCH, features=("x", "y"), k=3,
                                        dataset_params=sketch_params(points)))
    query = view_to_query(view)
    again, problems = view_from_query(query, DEFAULT, [SKETCH])
    assert problems == []
    np.testing.assert_array_equal(dict(again.request.dataset_params)["points"], points)


def test_a_large_sketch_stays_out_of_the_link():
    points = np.zeros((LINKED_SKETCH_POINTS + 1, 2))
    view = DEFAULT.__class__(FitRequest(dataset=SKETCH, features=("x", "y"),
                                        dataset_params=sketch_params(points)))
    assert "sketch" not in view_to_query(view)


def test_a_garbled_sketch_in_the_link_is_named_and_the_preset_used():
    view, problems = view_from_query({"dataset": SKETCH, "sketch": "1:2;three"}, DEFAULT,
                                     [SKETCH])
    assert problems == ["sketch=1:2;three is not a list of points x:y;x:y; the sketch "
                        "starts from a preset"]
    assert view.request.dataset_params == ()


# ------------------------------------------------------------------ on the page
def test_the_sketch_starts_from_a_preset_and_the_fit_uses_its_points():
    at = sketch_page()
    assert_clean(at)
    assert drawn_points(at) == sketch.START_SAMPLES
    title = plain(f"Sketch ({sketch.START_SAMPLES} points)")
    assert at.markdown[0].value.startswith(f"**{title}** — {sketch.START_SAMPLES} rows")
    assert animation(at).meta["can_sketch"] is True
    assert len(at.query_params["sketch"].split(";")) == sketch.START_SAMPLES


@pytest.mark.parametrize(("shape", "inside"), [
    ({"point": [5.0, 5.0]}, lambda p: np.all(np.abs(p - 5.0) < 3.0)),
    ({"box": {"x": [1.0, 2.0], "y": [-3.0, -2.0]}},
     lambda p: np.all((p[:, 0] >= 1) & (p[:, 0] <= 2) & (p[:, 1] >= -3) & (p[:, 1] <= -2))),
    ({"lasso": {"x": [0.0, 4.0, 0.0], "y": [0.0, 0.0, 4.0]}},
     lambda p: np.all(p.sum(axis=1) <= 4.0 + 1e-9)),
])
def test_a_drawn_shape_adds_the_chosen_number_of_points_where_it_was_drawn(shape, inside):
    points = [[0.0, 0.0], [1.0, 1.0]]
    after = sketch.with_drawn(points, shape, count=7, spread=0.5)
    added = np.array(after[2:])
    assert after[:2] == points and len(added) == 7
    assert inside(added)
    assert np.all(added == np.round(added, sketch.DECIMALS))  # as a link writes them
    assert sketch.with_drawn(points, shape, 7, 0.5) == after  # reproducible


def test_a_full_sketch_takes_no_more_points():
    full = [[0.0, 0.0]] * SKETCH_LIMIT
    assert sketch.with_drawn(full, {"point": [1.0, 1.0]}, 10, 0.5) is full


def test_points_drawn_on_the_page_are_fitted():
    at = sketch_page()
    before = drawn_points(at)
    at.session_state[sketch.POINTS] = sketch.with_drawn(
        at.session_state[sketch.POINTS], {"point": [8.0, 8.0]}, 12, 0.3)
    at.run()
    assert_clean(at)
    assert f"{before + 12} rows" in at.markdown[0].value
    assert len(at.query_params["sketch"].split(";")) == before + 12


def test_an_empty_canvas_is_drawn_on_until_the_fit_can_start():
    at = sketch_page()
    at.selectbox(key=sketch.START).set_value(sketch.EMPTY).run()
    assert_clean(at)
    canvas = animation(at)
    assert canvas.meta["kind"] == "canvas" and canvas.arrays["points"].shape == (0, 2)
    assert "4 for k = 3 (k + 1), 4 to go" in canvas.meta["hint"]
    # The first click's cloud is enough: the fit starts.
    at.session_state[sketch.POINTS] = sketch.with_drawn([], {"point": [2.0, 3.0]}, 10, 0.5)
    at.run()
    assert_clean(at)
    fitted = animation(at)
    assert fitted.meta["kind"] == "animation" and fitted.meta["can_sketch"] is True
    assert at.markdown[0].value.startswith(f"**{plain('Sketch (10 points)')}** — 10 rows")
    at.selectbox(key=sketch.START).set_value("moons").run()
    assert_clean(at)
    assert drawn_points(at) == sketch.START_SAMPLES


def test_a_sketch_short_of_points_is_a_note_on_the_other_pages():
    at = sketch_page({"k": "3"})
    at.selectbox(key=sketch.START).set_value(sketch.EMPTY).run()
    at.session_state[sketch.POINTS] = [[0.0, 0.0], [1.0, 1.0]]
    for page in ("pages/the_math.py", "pages/the_data.py", "pages/model_selection.py"):
        at.switch_page(page).run()
        assert_clean(at)
        assert "The sketch needs 2 more points before it is fitted" in at.info[0].value
