"""Large catalog: a catalog too large for this server, fitted on a Dask cluster. Layout and
words only (see ``dashboard.catalog_view``)."""

from __future__ import annotations

import streamlit as st

from dashboard import catalog_view as view
from dashboard import controls, presentation
from dashboard.figures import EQUAL, PLOTLY_CONFIG
from dashboard.plain_text import plain
from gmm_core import model_names
from gmm_core.catalog import CatalogError, catalog_columns
from gmm_core.wording import counted

st.set_page_config(page_title="Large catalog · GMM Explorer", layout="wide")
st.title("Large catalog")
st.caption("A catalog too large for this server, fitted on a Dask cluster: the workers "
           "read the rows and return per-component sums; this page holds a sample to draw "
           "and the fitted parameters.")

source = view.configured_source()
if source is None:
    st.info(f"No catalog is configured. Start the server with `{view.CATALOG_ENV}` naming "
            "a Parquet file, a directory or glob of Parquet files, a glob of CSV files or a "
            "Zarr group, "
            "and optionally `DASK_SCHEDULER_ADDRESS` naming the cluster's scheduler "
            "(without it, two local worker processes fit).")
    st.stop()

try:
    stamp = view.catalog_stamp(source)
    columns = catalog_columns(source)
    n_workers = view.workers()
except (CatalogError, OSError) as exc:
    view.report(exc)
    st.error("The catalog cannot be read; the server's log says why.")
    st.stop()
if len(columns) < 2:
    st.error(f"The catalog has {counted(len(columns), 'numeric column')}; "
             "a fit here needs two.")
    st.stop()

with st.sidebar:
    x = st.selectbox("X column", columns, index=0, key="catalog_x")
    y = st.selectbox("Y column", columns, index=1, key="catalog_y")
    k = st.slider("Components (k)", 1, 12, 3, key="catalog_k")
    covariance_type = controls.covariance_control(model_names.MODELS, "catalog_cov",
                                                  default=view.CatalogRequest.covariance_type)
    seed = st.number_input("Seed", 0, 2**31 - 1, 42, key="catalog_seed")
    tol = st.select_slider("Tolerance", [1e-5, 1e-4, 1e-3, 1e-2], 1e-3, key="catalog_tol")
if x == y:
    st.error("Choose two different columns.")
    st.stop()

request = view.CatalogRequest((x, y), k, covariance_type, int(seed), float(tol))
progress = view.FitProgress(request.max_iters)
try:
    model = view.fit(request, source, stamp, progress)
    data = view.catalog(source, stamp, request.columns)
    points = view.sample(source, stamp, request.columns)
except (CatalogError, ValueError, OSError) as exc:
    view.report(exc)
    st.error("The fit did not finish; the server's log says why.")
    st.stop()
finally:
    progress.clear()

status = (f"converged after {counted(model.n_iter_, 'iteration')}" if model.converged_
          else f"stopped at {model.max_iters} iterations without converging")
st.success(f"{counted(data.n_rows, 'row')} fitted on {counted(n_workers, 'worker')}: "
           f"{status}; mean log-likelihood {model.trace_.mean_log_likelihood[-1]:.5g}.")
if data.n_dropped:
    st.caption(f"{counted(data.n_dropped, 'row')} with a missing or non-finite {plain(x)} or "
               f"{plain(y)} left out.")
display = controls.display_params()
st.plotly_chart(presentation.sized(
    view.catalog_figure(points, model, request.columns, display.get("aspect", EQUAL)),
    controls.presenting()), key="catalog_chart", config=PLOTLY_CONFIG)
st.caption(f"A uniform sample of {counted(len(points), 'row')} of the catalog, coloured by "
           "the most likely component, with each component's 1σ and 2σ ellipses.")
