"""Safe to host, run by Streamlit's AppTest: text from a link or an uploaded file reaches the
page escaped, the figures offer no cloud upload, and users see no server internals (the
SDSS file's path, the command that fetches it, a Large catalog page without a catalog).
What the browser makes of it is ``tests/browser/test_safe_hosting_browser.py``."""

from __future__ import annotations

import json

import pytest
from streamlit.testing.v1 import AppTest
from test_app_explore import _own_data_home, drawn, run_page, upload  # noqa: F401
from test_app_pages import open_page

from dashboard import catalog_view
from dashboard.download import SDSS_MISSING
from dashboard.fit_component import ANIMATION_KEY
from dashboard.navigation import CATALOG_PAGE, page_list
from dashboard.plain_text import plain, plotly_plain

FINDING = "\n\n# Session expired\n[Sign in](https://example.com/login)"
HEADING, LINK = "# heading", "[link](http://127.0.0.1:9/x)"
BOLD, CODE = "<b>bold</b>", "`tick`"


def shown_text(at: AppTest) -> str:
    return "\n".join(e.value for e in [*at.markdown, *at.caption, *at.info, *at.success,
                                       *at.warning, *at.error])


def hostile_csv() -> bytes:
    """Two numeric columns whose names are Markdown and HTML."""
    header = f'"{HEADING} {BOLD}","{LINK} {CODE}"'
    rows = [f"{i % 7}.5,{(i * 3) % 11}.25" for i in range(40)]
    return (header + "\n" + "\n".join(rows) + "\n").encode()


def test_the_findings_link_value_is_one_escaped_line_in_the_warning():
    at = run_page({"seed": FINDING})
    assert not at.exception
    (warning,) = [w.value for w in at.warning if "seed\\=" in w.value]
    assert "\n" not in warning
    assert plain(" ".join(FINDING.split())) in warning


@pytest.mark.parametrize(("key", "others"), [
    ("x", {"y": "y"}), ("y", {"x": "x"}), ("extra", {"x": "x", "y": "y"}), ("dataset", {}),
    ("color", {}), ("means", {}), ("k", {}), ("tol", {}), ("present", {})])
def test_every_echoed_link_value_is_escaped(key, others):
    payload = f"{HEADING} {LINK} {BOLD} {CODE}"
    at = run_page({key: payload, **others})
    assert not at.exception
    text = shown_text(at)
    assert plain(payload) in text
    assert payload not in text


@pytest.mark.parametrize("page", ["pages/explore.py", "pages/the_data.py",
                                  "pages/model_selection.py", "pages/the_math.py"])
def test_column_names_of_an_upload_are_escaped_on_every_page(page):
    at = upload(run_page(), hostile_csv(), f"{BOLD}.csv")
    assert not at.exception
    if page != "pages/explore.py":
        at.switch_page(page).run()
        assert not at.exception
    text = shown_text(at)
    for name in (f"{HEADING} {BOLD}", f"{LINK} {CODE}"):
        assert plain(name) in text
        assert name not in text
    assert plain(f"{BOLD}.csv") in text


def test_column_names_reach_the_figure_as_plotly_text():
    at = upload(run_page(), hostile_csv())
    meta = drawn(at, ANIMATION_KEY).meta
    assert (meta["x_title"], meta["y_title"]) == (plotly_plain(f"{HEADING} {BOLD}"),
                                                  plotly_plain(f"{LINK} {CODE}"))
    at.switch_page("pages/the_data.py").run()
    spec = json.loads(at.get("plotly_chart")[0].proto.spec)
    titles = [a["text"] for a in spec["layout"]["annotations"]]
    assert plotly_plain(f"{HEADING} {BOLD}") in titles


@pytest.mark.parametrize("page", ["pages/the_data.py", "pages/the_math.py",
                                  "pages/model_selection.py"])
def test_no_plotly_figure_offers_to_share_to_the_cloud(page):
    at = open_page(page)
    if page == "pages/model_selection.py":
        at.button[0].click().run()  # Run the sweep
    charts = at.get("plotly_chart")
    assert charts
    for chart in charts:
        assert json.loads(chart.proto.config)["showSendToCloud"] is False


def test_missing_sdss_points_to_the_download_button_not_the_server(data_home):
    at = run_page({"dataset": "sdss"})
    assert not at.exception
    error = at.error[0].value
    assert error == plain(SDSS_MISSING)
    assert "Download SDSS spectra" in error
    assert str(data_home) not in error and "python -m" not in error and "/" not in error
    assert at.button(key="download_sdss")


def test_large_catalog_is_listed_only_on_a_server_with_a_catalog(monkeypatch, tmp_path):
    monkeypatch.delenv(catalog_view.CATALOG_ENV, raising=False)
    without = [path for path, _ in page_list()]
    monkeypatch.setenv(catalog_view.CATALOG_ENV, str(tmp_path / "catalog.parquet"))
    with_catalog = [path for path, _ in page_list()]
    assert CATALOG_PAGE not in without
    assert with_catalog == [*without, CATALOG_PAGE]
