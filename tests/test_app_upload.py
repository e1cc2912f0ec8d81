"""An uploaded CSV file in the running app (AppTest): it stays with the session from page
to page until the user removes it, and its row names are not features unless chosen."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import streamlit as st
from streamlit import config
from streamlit.testing.v1 import AppTest
from streamlit.testing.v1.local_script_runner import LocalScriptRunner
from test_app_explore import (  # noqa: F401 (_own_data_home: an autouse fixture)
    _own_data_home,
    animation,
    assert_clean,
    blobs_csv,
    run_page,
    status,
    upload,
)
from test_app_pages import DATA, EXPLORE, MATH, MODEL_SELECTION

import dashboard.cache
from dashboard.controls import AxisChoice
from dashboard.plain_text import plain
from dashboard.upload import LOST_FILE
from gmm_core.datasets import DatasetError

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
    assert at.selectbox(key="y").value is AxisChoice.NO_Y
    assert f"fitted on one feature ({plain('width')})" in at.markdown[0].value
    assert at.query_params["x"] == "width" and at.query_params["y"] == "none"


# Columns named like the Y selector's choices that are not columns: the word of the link
# for "no Y", the spectra's "flux at a wavelength", and the label of "no Y" itself.
CLASHING = ["none", "spectrum", AxisChoice.NO_Y.value]


def clashing_csv() -> bytes:
    rng = np.random.default_rng(11)
    frame = pd.DataFrame(np.vstack([rng.normal(0, 1, (50, 3)), rng.normal(8, 1, (50, 3))]),
                         columns=CLASHING)
    return frame.to_csv(index=False).encode()


def test_columns_named_none_or_spectrum_are_chosen_as_themselves_and_linked():
    at = upload(run_page(), clashing_csv(), "clash.csv")
    assert_clean(at)
    # The file's first two columns, "none" as Y: a fit in two dimensions, not X alone.
    assert (at.selectbox(key="x").value, at.selectbox(key="y").value) == ("none", "spectrum")
    at.selectbox(key="x").set_value("spectrum").run()
    at.selectbox(key="y").set_value("none").run()
    assert_clean(at)
    figure = animation(at).meta
    assert "n_dims" not in figure and (figure["x_title"], figure["y_title"]) == (
        "spectrum", "none")
    assert f"fitted in 2 dimensions ({plain('spectrum, none')})" in at.markdown[0].value
    assert at.selectbox(key="y").options == [*CLASHING[:2], f"{CLASHING[2]} (a column)",
                                             AxisChoice.NO_Y.value]
    link = dict(at.query_params)
    assert (link["x"], link["y"]) == ("spectrum", "~none")

    again = upload(run_page(link), clashing_csv(), "clash.csv")  # the link, then the file
    assert_clean(again)
    assert (again.selectbox(key="x").value, again.selectbox(key="y").value) == (
        "spectrum", "none")
    assert status(again) == status(at) and dict(again.query_params) == link

    at.selectbox(key="y").set_value(AxisChoice.NO_Y).run()  # no Y is still there
    assert_clean(at)
    assert animation(at).meta["n_dims"] == 1 and at.query_params["y"] == "none"
    at.selectbox(key="y").set_value(CLASHING[2]).run()  # and its namesake column
    assert_clean(at)
    assert "n_dims" not in animation(at).meta
    assert at.query_params["y"] == CLASHING[2]


def test_a_file_without_numeric_columns_besides_row_names_is_refused():
    at = upload(run_page(), b'"","name"\n"1","a"\n"2","b"\n', "one.csv")
    assert not at.exception
    assert plain("has no numeric column besides its row names") in at.error[0].value


def proto_strings(message) -> list[str]:
    found = []
    for _, value in message.ListFields():
        single = isinstance(value, str) or hasattr(value, "ListFields")
        for item in [value] if single or not hasattr(value, "__iter__") else value:
            if isinstance(item, str):
                found.append(item)
            elif hasattr(item, "ListFields"):
                found += proto_strings(item)
    return found


def page_text(at: AppTest) -> str:
    """Every string the session's page sends the browser: bodies, labels, help."""
    def walk(node) -> list[str]:
        children = getattr(node, "children", None)
        if children is not None:
            return [text for child in children.values() for text in walk(child)]
        proto = getattr(node, "proto", None)
        return [] if proto is None else proto_strings(proto)
    return "\n".join(walk(at.main) + walk(at.sidebar))


@pytest.mark.parametrize(("content", "shown"), [
    (blobs_csv(), f"{plain('bob_copy.csv')}** — 120 rows"),
    (b"", plain("bob_copy.csv is empty")),
])
def test_two_sessions_uploading_the_same_bytes_each_see_only_their_own_file_name(
        content, shown, csv_reads):
    alice = upload(run_page(), content, "alice_private.csv")
    assert plain("alice_private.csv") in page_text(alice)
    bob = upload(run_page(), content, "bob_copy.csv")
    assert shown in page_text(bob)
    assert "alice" not in page_text(bob)
    assert csv_reads == [len(content)]  # the numbers were shared: one parse
    alice.run()
    assert "bob" not in page_text(alice)


def test_the_upload_cache_holds_numbers_under_no_users_name():
    st.cache_resource.clear()
    params, alice = dashboard.cache.upload(blobs_csv(), "alice_private.csv")
    shared = dashboard.cache.dataset(dashboard.cache.UPLOAD_DATASET, params)
    assert "alice" not in f"{shared.title} {shared.citation} {shared.notes}"
    bob_params, bob = dashboard.cache.upload(blobs_csv(), "bob_copy.csv")
    assert bob_params == params
    assert (alice.title, bob.title) == ("alice_private.csv", "bob_copy.csv")
    assert bob.citation == "uploaded file bob_copy.csv"
    assert bob.frame is shared.frame and bob.fingerprint == shared.fingerprint
    assert dashboard.cache.kept_upload(params, "mine.csv").title == "mine.csv"


def test_a_cached_refusal_names_the_file_as_each_session_named_it():
    st.cache_resource.clear()
    for name in ("alice_private.csv", "bob_copy.csv"):
        with pytest.raises(DatasetError) as refused:
            dashboard.cache.upload(b"", name)
        assert str(refused.value) == f"{name} is empty"
    st.cache_resource.clear()
    with pytest.raises(DatasetError, match=r"^kept\.csv is no longer on the server"):
        dashboard.cache.kept_upload((("digest", "0" * 32),), "kept.csv")


@pytest.fixture
def upload_cap_20_mb():
    """``server.maxUploadSize = 20``, as a host may set it, for one test."""
    configured = config.get_option("server.maxUploadSize")
    config.set_option("server.maxUploadSize", 20)
    yield
    config.set_option("server.maxUploadSize", configured)


def test_a_lower_upload_cap_is_the_one_number_the_uploader_and_the_page_give(
        upload_cap_20_mb):
    at = run_page().selectbox(key="dataset").set_value("upload").run()
    uploader = at.file_uploader(key="upload_file")
    assert uploader.proto.max_upload_size_mb == 20
    assert uploader.label == "CSV file, up to 20 MB"
    assert "Choose a CSV file of up to 20 MB" in at.error[0].value
    assert dashboard.cache.upload_limits().max_bytes == 20_000_000


def test_a_file_the_server_lost_is_said_so_and_the_uploader_emptied(monkeypatch):
    at = upload(run_page(), blobs_csv())
    assert_clean(at)
    # A restarted server: the browser still lists the file, but the server has neither
    # its bytes nor the session that read it.
    monkeypatch.setattr(LocalScriptRunner, "register_file", lambda self, file_rec: None)
    del at.session_state["_kept_upload"]
    at.run()
    assert not at.exception
    assert [error.value for error in at.error] == [plain(LOST_FILE)]
    assert not at.get("plotly_chart")
    assert [uploader.value for uploader in at.file_uploader] == [None]  # a new, empty one
    at.run()
    assert [error.value for error in at.error] == [plain(LOST_FILE)]  # until a new file
    monkeypatch.undo()  # the restarted server keeps what is uploaded to it
    upload_again = at.file_uploader[0].upload("points.csv", blobs_csv(), "text/csv").run()
    assert_clean(upload_again)
    assert upload_again.markdown[0].value.startswith(f"**{plain('points.csv')}** — 120 rows")
    upload_again.file_uploader[0].clear().run()
    assert "Choose a CSV file" in upload_again.error[0].value


def test_a_regularization_that_swamps_a_feature_is_named_on_the_page_with_its_fix():
    """Fluxes in erg s⁻¹ cm⁻² Å⁻¹ are of order 1e-17: reg_covar = 1e-6 dwarfs their
    variance, and the page says so for that column (as plain text) until standardized."""
    rng = np.random.default_rng(3)
    blobs = np.vstack([rng.normal(centre, 1.0, (40, 2)) for centre in (0, 8, 16)])
    frame = pd.DataFrame({"flux_*tiny*": blobs[:, 0] * 1e-17, "size": blobs[:, 1]})
    at = upload(run_page(), frame.to_csv(index=False).encode(), "fluxes.csv")
    assert_clean(at)
    notes = [w.value for w in at.warning if "swamps" in w.value]
    assert len(notes) == 1
    assert plain("variance of flux_*tiny*") in notes[0] and "Standardize" in notes[0]
    at.checkbox(key="standardize").check().run()
    assert_clean(at)
    assert not [w.value for w in at.warning if "swamps" in w.value]
