"""The data: a preview, per-feature histograms, the SDSS spectra, and the clusters of the
current fit against the known classes. Layout and words only (see ``dashboard.data_view``).
"""

from __future__ import annotations

import streamlit as st

from dashboard import data_view, navigation, presentation
from dashboard.figures import PLOTLY_CONFIG
from dashboard.fitted_rows import cluster_labels
from dashboard.plain_text import plain
from gmm_core.wording import counted

st.set_page_config(page_title="The data · GMM Explorer", layout="wide")
st.title("The data")
st.caption("What the mixture is fitted to, and how its clusters compare with what is "
           "known about the rows.")
view, dataset = navigation.shared_view()
request = view.request

st.markdown(f"**{plain(dataset.title)}**: {counted(dataset.n_samples, 'row')}, "
            f"{counted(len(dataset.default_features), 'feature')}"
            + (" and row names" if dataset.row_name_columns else "")
            + f". The current fit: k = {request.k} on "
            f"{plain(', '.join(dataset.features[name].label for name in request.features))}"
            + (" (standardized)" if request.standardize else "")
            + (", the notebook's algorithm" if request.algorithm == "notebook" else "")
            + " — the sidebar's settings.")
if dataset.citation:
    st.caption(f"Source: {plain(dataset.citation)}")
for note in dataset.notes:
    st.caption(f"Note: {plain(note)}")

try:
    clusters = cluster_labels(request, dataset.fingerprint)
except ValueError as exc:  # a fit that cannot label its rows: the page goes on without
    clusters = None
    st.warning(f"The current fit's clusters are not shown: {plain(exc)}")

st.subheader("Preview")
presentation.table(data_view.preview(dataset), view.present)
st.caption(f"The first {data_view.PREVIEW_ROWS} rows"
           + (", the known classes first." if dataset.known_labels else "."))

st.subheader("Feature histograms")
shown = st.multiselect("Features", dataset.columns, default=list(request.features),
                       key="data_histogram_features",
                       format_func=lambda name: dataset.features[name].label)
if shown:
    st.plotly_chart(presentation.sized(data_view.histogram_figure(dataset, shown, clusters),
                                       view.present), key="histograms", config=PLOTLY_CONFIG)
    st.caption("Stacked by the current fit's clusters: how each component spreads over "
               "each feature." if clusters is not None else "All rows.")
else:
    st.info("Choose features to draw their histograms.")

if data_view.has_spectra(dataset):
    extras = dataset.extras
    st.subheader("Spectra")
    row = st.number_input("Object (row of the data set)", 0, dataset.n_samples - 1, step=1,
                          key="data_object")
    facts = [f"{name} {labels.iloc[row]}" for name, labels in dataset.known_labels.items()]
    if "z" in dataset.frame:
        facts.append(f"redshift z = {dataset.frame['z'].iloc[row]:.4f}")
    if clusters is not None:
        facts.append(data_view.cluster_name(clusters[row]) if row in clusters.index
                     else "not in the fit (a NaN in a fitted feature)")
    st.plotly_chart(presentation.sized(data_view.spectrum_figure(
        extras["wavelengths"], extras["spectra"][row], extras["mask"][row], f"Object {row}"),
        view.present), key="spectrum", config=PLOTLY_CONFIG)
    st.caption(f"Object {row}: {plain('; '.join(facts))}. Shaded: masked pixels (bad, or outside "
               "the wavelengths this object's spectrum covers at its redshift; their flux "
               "is 0).")
    if clusters is not None:
        means, sizes = data_view.mean_spectra(extras["spectra"], extras["mask"], clusters)
        st.plotly_chart(presentation.sized(
            data_view.mean_spectra_figure(extras["wavelengths"], means, sizes), view.present),
                        key="mean_spectra", config=PLOTLY_CONFIG)
        st.caption("Each cluster's average over its members' unmasked pixels: what the "
                   "spectra the fit grouped together look like.")

if dataset.known_labels and clusters is not None:
    st.subheader("Clusters against the known classes")
    st.caption("Rows: the current fit's clusters; columns: the classes the data set comes "
               "with. The adjusted Rand index is 1 when the two split the rows the same "
               "way and about 0 when they agree no more than chance.")
    for name, known in dataset.known_labels.items():
        table, ari = data_view.cross_table(clusters, known, name)
        st.markdown(f"**{plain(name)}**")
        left, right = st.columns([3, 2])
        with left:
            presentation.table(table, view.present)
        right.metric(f"Adjusted Rand index ({plain(name)})", f"{ari:.3f}")
