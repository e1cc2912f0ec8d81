"""An uploaded CSV file in the running app (AppTest): it stays with the session from page
to page until the user removes it, and its row names are not features unless chosen."""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st
from streamlit.testing.v1 import AppTest
from test_app_explore import (  # noqa: F401 (_own_data_home: an autouse fixture)
    _own_data_home,
    assert_clean,
    blobs_csv,
    run_page,
    status,
    upload,
)
from test_app_pages import DATA, EXPLORE, MATH, MODEL_SELECTION

from dashboard.plain_text import plain

PAGES = (MATH, DATA, MODEL_SELECTION)


def kept_caption(at: AppTest) -> list[str]:
    return [c.value for c in at.sidebar.caption if "uploaded earlier" in c.value]


def pandas_export(with_second_feature: bool = True) -> bytes:
    """Two blobs written by pandas' ``to_csv()``: the index 0…n−1 under a blank header."""
    rng = np.random.default_rng(5)
    frame = pd.DataFrame(np.vstack([rng.normal(0, 1, (50, 2)), rng.normal(8, 1, (50, 2))]),
                         columns=["width", "height"])
    return (frame if with_second_feature else frame[["width"]]).to_csv().encode()


def test_an_upload_follows_the_user_from_page_to_page_and_is_read_once(csv_reads):
    at = upload(run_page(), blobs_csv())
    before = status(at)
    for page in PAGES:
        at.switch_page(page).run()
        assert_clean(at)
        assert at.selectbox(key="dataset").value == "upload"
        assert at.file_uploader(key="upload_file").value is None  # Streamlit forgot it...
        assert kept_caption(at) == [  # ...the session did not
            f"Fitting {plain('points.csv')}, uploaded earlier; choose a file to replace it."]
        assert (at.selectbox(key="x").value, at.selectbox(key="y").value) == (
            "width", "height")
    assert f"{plain('points.csv')}**: 120 rows" in at.switch_page(DATA).run().markdown[0].value
    at.switch_page(EXPLORE).run()
    assert_clean(at)
    assert status(at) == before
    assert at.markdown[0].value.startswith(f"**{plain('points.csv')}** — 120 rows")
    assert csv_reads == [len(blobs_csv())]


def test_remove_on_another_page_forgets_the_file():
    at = upload(run_page(), blobs_csv())
    at.switch_page(DATA).run()
    at.sidebar.button(key="forget_upload").click().run()
    assert not at.exception
    assert "Choose a CSV file" in at.error[0].value
    at.switch_page(EXPLORE).run()
    assert "Choose a CSV file" in at.error[0].value
    assert not at.get("plotly_chart")


def test_a_kept_file_that_has_left_the_cache_is_a_message_then_forgotten():
    at = upload(run_page(), blobs_csv())
    at.switch_page(MATH).run()
    st.cache_resource.clear()  # an hour later
    at.run()
    assert not at.exception
    assert "no longer on the server" in at.error[0].value
    at.run()
    assert "Choose a CSV file" in at.error[0].value


def test_row_names_of_a_pandas_export_are_not_plotted_but_can_be_chosen():
    at = upload(run_page(), pandas_export(), "blobs.csv")
    assert_clean(at)
    assert (at.selectbox(key="x").value, at.selectbox(key="y").value) == ("width", "height")
    (notes,) = [info.value for info in at.sidebar.info]  # every note in one box
    assert plain("column 1, row_names, holds row names (0, 1, 2, …") in notes
    assert plain("its header is blank") in notes
    assert "row_names" in at.selectbox(key="x").options
    at.selectbox(key="x").set_value("row_names").run()  # the user's explicit choice
    assert_clean(at)
    assert at.query_params["x"] == "row_names"
    assert f"fitted in 2 dimensions ({plain('row_names, height')})" in at.markdown[0].value
    at.switch_page(DATA).run()
    assert_clean(at)
    assert f"{plain('blobs.csv')}**: 100 rows, 2 features and row names." in at.markdown[0].value


def test_a_file_with_one_numeric_column_is_fitted_on_it_alone():
    at = upload(run_page(), pandas_export(with_second_feature=False), "one.csv")
    assert_clean(at)
    assert at.selectbox(key="y").value == "none"
    assert f"fitted on one feature ({plain('width')})" in at.markdown[0].value
    assert at.query_params["x"] == "width" and at.query_params["y"] == "none"


def test_a_file_without_numeric_columns_besides_row_names_is_refused():
    at = upload(run_page(), b'"","name"\n"1","a"\n"2","b"\n', "one.csv")
    assert not at.exception
    assert plain("has no numeric column besides its row names") in at.error[0].value
