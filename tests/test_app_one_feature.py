"""Every page with one feature (Y "none"), run by Streamlit's AppTest: the Explore page
sends the histogram view for the animation and the panels, the Y selector and the link
agree, and The math, The data and Model selection render without raising."""

from __future__ import annotations

import pytest
from test_app_explore import (  # noqa: F401 (_own_data_home: an autouse fixture)
    _own_data_home,
    animation,
    assert_clean,
    drawn,
    run_page,
    status,
)
from test_app_pages import DATA, MATH, MODEL_SELECTION, charts, open_page, run_sweep

from dashboard.controls import AxisChoice
from dashboard.fit_component import PANELS_KEY
from dashboard.plain_text import plain
from dashboard.query_state import NO_Y

IRIS_PETALS = {"dataset": "iris", "x": "petal_length", "y": NO_Y, "k": "3"}


def test_y_none_fits_the_x_feature_alone_and_draws_its_histogram():
    at = run_page(IRIS_PETALS)
    assert_clean(at)
    assert at.selectbox(key="y").value is AxisChoice.NO_Y
    assert at.multiselect(key="extra").disabled
    assert f"150 rows, fitted on one feature ({plain('petal length [cm]')})" in at.markdown[0].value
    assert status(at).startswith("Converged")
    figure = animation(at)
    assert figure.meta["n_dims"] == 1 and figure.arrays["means"].shape[1] == 3
    assert drawn(at, PANELS_KEY).meta["n_dims"] == 1
    assert at.query_params["y"] == NO_Y


def test_y_none_on_the_default_data_is_still_its_x_alone():
    at = run_page({"x": "x", "y": "none"})
    assert_clean(at)
    assert at.selectbox(key="y").value is AxisChoice.NO_Y
    assert animation(at).meta["n_dims"] == 1 and at.query_params["y"] == "none"


def test_choosing_none_for_y_and_back_switches_between_the_views():
    at = run_page({"dataset": "iris", "k": "2"})
    x = at.selectbox(key="x").value
    at.selectbox(key="y").set_value(AxisChoice.NO_Y).run()
    assert_clean(at)
    assert animation(at).meta["n_dims"] == 1
    assert (at.query_params["x"], at.query_params["y"]) == (x, NO_Y)
    at.selectbox(key="y").set_value("sepal_width").run()
    assert_clean(at)
    assert "n_dims" not in animation(at).meta and at.query_params["y"] == "sepal_width"


def test_the_two_bumps_preset_opens_as_one_feature():
    at = run_page({"dataset": "sketch_bumps", "k": "2"})
    assert_clean(at)
    assert at.selectbox(key="y").value is AxisChoice.NO_Y
    assert animation(at).meta["n_dims"] == 1


@pytest.mark.parametrize("page", [MATH, DATA])
def test_the_other_pages_render_one_feature(page):
    at = open_page(page, IRIS_PETALS)
    assert_clean(at)
    if page == MATH:
        at.button(key="e_step").click().run()
        assert_clean(at)
        shown = charts(at)
        assert {"step_figure", "density", "uncertainty"} <= set(shown)
        names = [trace.get("name") for trace in shown["density"]["data"]]
        assert "histogram" in names and "mixture density" in names


def test_model_selection_sweeps_one_feature():
    at = run_sweep(open_page(MODEL_SELECTION, IRIS_PETALS), k_max=3, types=["full", "diag"])
    assert_clean(at)
    assert "sweep_chart" in charts(at)
