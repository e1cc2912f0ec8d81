"""Fixtures shared by the test modules."""

from __future__ import annotations

import pytest


@pytest.fixture
def data_home(tmp_path, monkeypatch):
    """An astroML data home of the test's own: empty unless a test writes SDSS there."""
    home = tmp_path / "astroML_data"
    home.mkdir()
    monkeypatch.setenv("ASTROML_DATA", str(home))
    return home


@pytest.fixture
def csv_reads(monkeypatch) -> list[int]:
    """The size of every file the dashboard's upload cache parses, from an empty cache on."""
    import streamlit as st  # only the dashboard's tests pay for importing Streamlit

    import dashboard.cache

    st.cache_resource.clear()
    reads = []
    read_csv_upload = dashboard.cache.read_csv_upload
    monkeypatch.setattr(dashboard.cache, "read_csv_upload",
                        lambda raw, *args, **kwargs: reads.append(len(raw))
                        or read_csv_upload(raw, *args, **kwargs))
    return reads


@pytest.fixture(scope="module")
def fig69_fit():
    """The Figure 6.9 mixture and the trace of a k = 4 fit, its display sample the size
    the figures draw."""
    from dashboard.figures import MAX_POINTS
    from gmm_core import GMM
    from gmm_core.datasets import load_dataset

    dataset = load_dataset("astroml_fig69")
    X = dataset.matrix(dataset.default_view)
    return X, GMM(k=4, seed=42, trace_points=MAX_POINTS).fit(X).trace_


@pytest.fixture(scope="session")
def dask_client():
    """A LocalCluster of two worker processes, as ``gmm_core.distributed.connect`` starts."""
    from gmm_core.distributed import connect

    with connect() as client:
        yield client
        client.cluster.close()
