"""The Large catalog page run by Streamlit's AppTest against a two-worker Dask cluster."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from dashboard import catalog_view
from tests.test_figures import numbers

APP = str(Path(__file__).resolve().parents[1] / "streamlit_app.py")
PAGE = "pages/large_catalog.py"


@pytest.fixture
def catalog_file(tmp_path):
    rng = np.random.default_rng(4)
    values = np.vstack([rng.normal((0, 0), 1, (3_000, 2)), rng.normal((9, 0), 1, (3_000, 2))])
    frame = pd.DataFrame(values, columns=["ra", "dec"])
    frame.loc[10, "dec"] = np.nan
    path = tmp_path / "catalog.parquet"
    frame.to_parquet(path)
    return path


@pytest.fixture
def page_cluster(monkeypatch, dask_client):
    """The page's own client of the test cluster, closed before the cluster stops."""
    monkeypatch.setenv("DASK_SCHEDULER_ADDRESS", dask_client.scheduler.address)
    yield
    catalog_view.cluster(dask_client.scheduler.address).close()
    catalog_view.cluster.cache_clear()


def open_page() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=180)
    at.switch_page(PAGE)
    return at.run()


def test_without_a_catalog_the_page_says_how_to_configure_one(monkeypatch):
    monkeypatch.delenv(catalog_view.CATALOG_ENV, raising=False)
    at = open_page()
    assert not at.exception
    assert "No catalog is configured" in at.info[0].value
    assert catalog_view.CATALOG_ENV in at.info[0].value


def test_a_catalog_is_fitted_on_the_cluster_and_drawn(monkeypatch, catalog_file, page_cluster):
    monkeypatch.setenv(catalog_view.CATALOG_ENV, str(catalog_file))
    at = open_page()
    at.sidebar.slider(key="catalog_k").set_value(2)
    at.run()
    assert not at.exception and not at.error
    assert "5,999 rows fitted on 2 workers" in at.success[0].value
    assert "1 row with a missing or non-finite ra or dec left out" in " ".join(
        caption.value for caption in at.caption)
    spec = json.loads(at.get("plotly_chart")[0].proto.spec)
    outlines = [trace for trace in spec["data"] if trace["name"].startswith("component")]
    assert len(outlines) == 2
    means = sorted(np.nanmean(numbers(trace["x"])) for trace in outlines)
    assert means == pytest.approx([0, 9], abs=0.2)


def test_a_column_that_is_not_numeric_is_not_offered(monkeypatch, tmp_path, page_cluster):
    frame = pd.DataFrame({"name": ["a", "b", "c"], "mag": [1.0, 2.0, 3.0]})
    frame.to_parquet(tmp_path / "one.parquet")
    monkeypatch.setenv(catalog_view.CATALOG_ENV, str(tmp_path / "one.parquet"))
    at = open_page()
    assert not at.exception
    assert "has 1 numeric column; a fit here needs two" in at.error[0].value


def test_any_of_mclusts_models_is_fitted_on_the_cluster_and_drawn(monkeypatch, catalog_file,
                                                                   page_cluster):
    monkeypatch.setenv(catalog_view.CATALOG_ENV, str(catalog_file))
    at = open_page()
    control = at.sidebar.selectbox(key="catalog_cov")
    assert control.value == "full"  # as before: VVV under scikit-learn's name
    assert len(control.options) == 14 and "VEV · ellipsoidal" in control.options
    at.sidebar.slider(key="catalog_k").set_value(2)
    control.set_value("EII").run()
    assert not at.exception and not at.error
    assert "EII (equal volume, round)." in [caption.value for caption in at.sidebar.caption]
    spec = json.loads(at.get("plotly_chart")[0].proto.spec)
    outlines = [trace for trace in spec["data"] if trace["name"].startswith("component")]
    # EII: every component round, and all of one size (their 2σ outlines).
    half_widths = [[np.ptp(values[np.isfinite(values)]) / 2
                    for values in (numbers(trace["x"]), numbers(trace["y"]))]
                   for trace in outlines]
    assert len(half_widths) == 2
    np.testing.assert_allclose(half_widths, half_widths[0][0], rtol=1e-3)
    assert half_widths[0][0] == pytest.approx(2, rel=0.1)  # 2σ of unit blobs
