"""The data page: a preview, per-feature histograms, the SDSS spectra (one object, and the
mean spectrum of each cluster) and the clusters against the known classes.

Pure functions of the data set, the current fit's cluster labels (a Series indexed by
data-set row, from ``dashboard.fitted_rows.cluster_labels``) and the options.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots
from sklearn.metrics import adjusted_rand_score

from dashboard.figures import NOISE_COLOR, component_colors
from dashboard.plain_text import plotly_plain
from gmm_core.datasets import Dataset
from gmm_core.noise import NOISE_LABEL
from gmm_core.wording import counted

PREVIEW_ROWS = 20
HISTOGRAM_COLUMNS = 3  # subplots per row
HISTOGRAM_BINS = 40
SPECTRUM_KEYS = ("spectra", "mask", "wavelengths")  # what a data set's extras need
MASK_COLOR = "rgba(220, 60, 60, 0.18)"
UNFITTED_COLOR = "#9aa0a6"


def preview(dataset: Dataset, n_rows: int = PREVIEW_ROWS) -> pd.DataFrame:
    """The first rows: the known classes (if any) first, then every feature."""
    head = dataset.frame.head(n_rows)
    known = pd.DataFrame({name: labels.iloc[:n_rows].to_numpy()
                          for name, labels in dataset.known_labels.items()}, index=head.index)
    return pd.concat([known, head], axis=1)


def cluster_name(j: int) -> str:
    return "noise" if j == NOISE_LABEL else f"cluster {j}"


def histogram_figure(dataset: Dataset, columns, clusters: pd.Series | None = None) -> go.Figure:
    """One histogram per column, stacked by the fit's clusters when ``clusters`` is given
    (rows the fit left out, for a NaN in some fitted column, stacked in grey)."""
    columns = list(dataset.check_columns(columns))
    n_cols = min(HISTOGRAM_COLUMNS, len(columns))
    n_rows = math.ceil(len(columns) / n_cols)
    figure = make_subplots(rows=n_rows, cols=n_cols, vertical_spacing=0.16 / n_rows,
                           subplot_titles=[plotly_plain(dataset.features[c].axis_title)
                                           for c in columns])
    if clusters is None:
        groups = [("all rows", dataset.frame.index, UNFITTED_COLOR)]
    else:
        colors = component_colors(int(clusters.max()) + 1)
        groups = [(cluster_name(j), rows.index, NOISE_COLOR if j == NOISE_LABEL else colors[j])
                  for j, rows in clusters.groupby(clusters, sort=True)]
        unfitted = dataset.frame.index.difference(clusters.index)
        if len(unfitted):
            groups.append(("not fitted", unfitted, UNFITTED_COLOR))
    for position, column in enumerate(columns):
        values = dataset.frame[column]
        for name, rows, color in groups:
            figure.add_trace(go.Histogram(
                x=values.loc[rows], name=name, legendgroup=name, showlegend=position == 0,
                marker={"color": color}, nbinsx=HISTOGRAM_BINS, bingroup=position + 1),
                row=position // n_cols + 1, col=position % n_cols + 1)
    figure.update_layout(barmode="stack", height=280 * n_rows, bargap=0.02,
                         margin={"l": 10, "r": 10, "t": 40, "b": 10},
                         legend={"title": {"text": "rows"}})
    return figure


# ---------------------------------------------------------------- spectra
def has_spectra(dataset: Dataset) -> bool:
    return all(key in dataset.extras for key in SPECTRUM_KEYS)


def masked_runs(mask) -> list[tuple[int, int]]:
    """``(start, stop)`` of every run of True in ``mask`` (stop exclusive)."""
    padded = np.concatenate([[0], np.asarray(mask, dtype=np.int8), [0]])
    changes = np.flatnonzero(np.diff(padded))
    return list(zip(changes[::2].tolist(), changes[1::2].tolist(), strict=True))


def bin_edges(wavelengths) -> np.ndarray:
    """Edges of bins centred on log-spaced ``wavelengths``: the geometric midpoints."""
    log_centres = np.log(np.asarray(wavelengths, dtype=float))
    middles = (log_centres[:-1] + log_centres[1:]) / 2
    first = 2 * log_centres[0] - middles[0]
    last = 2 * log_centres[-1] - middles[-1]
    return np.exp(np.concatenate([[first], middles, [last]]))


def spectrum_figure(wavelengths, flux, mask, title: str) -> go.Figure:
    """Flux against wavelength, masked pixels shaded."""
    wavelengths = np.asarray(wavelengths, dtype=float)
    flux = np.asarray(flux, dtype=float)
    edges = bin_edges(wavelengths)
    low, high = float(np.min(flux)), float(np.max(flux))
    pad = 0.05 * (high - low) if high > low else 1.0
    # One trace of rectangles (None between them) for every run of masked pixels.
    xs, ys = [], []
    for start, stop in masked_runs(mask):
        xs += [edges[start], edges[start], edges[stop], edges[stop], edges[start], None]
        ys += [low - pad, high + pad, high + pad, low - pad, low - pad, None]
    traces = [go.Scatter(x=xs, y=ys, mode="lines", fill="toself", fillcolor=MASK_COLOR,
                         line={"width": 0}, name="masked pixels", hoverinfo="skip")]
    traces.append(go.Scatter(x=wavelengths, y=flux, mode="lines", name="flux",
                             line={"color": "#1f3b73", "width": 1},
                             hovertemplate="%{x:.1f} Å<br>flux %{y:.4g}<extra></extra>"))
    figure = go.Figure(traces)
    figure.update_layout(title={"text": title}, height=380, hovermode="x",
                         margin={"l": 10, "r": 10, "t": 50, "b": 10},
                         xaxis={"title": {"text": "rest wavelength [Å]"}},
                         yaxis={"title": {"text": "flux [arbitrary]"},
                                "range": [low - pad, high + pad]})
    return figure


def mean_spectra(spectra, mask, clusters: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """The mean spectrum of each cluster ``(k, L)`` over its unmasked pixels (NaN where
    every member is masked), and each cluster's size ``(k,)``. Rows of a noise component
    (``NOISE_LABEL``) belong to no cluster."""
    clusters = clusters[clusters != NOISE_LABEL]
    spectra = np.asarray(spectra)[clusters.index]
    kept = ~np.asarray(mask)[clusters.index]
    k = int(clusters.max()) + 1 if len(clusters) else 0
    members = np.zeros((k, len(clusters)))
    members[clusters.to_numpy(), np.arange(len(clusters))] = 1.0
    totals = members @ np.where(kept, spectra, 0.0)
    counts = members @ kept
    means = np.full(totals.shape, np.nan)
    np.divide(totals, counts, out=means, where=counts > 0)
    return means, members.sum(axis=1).astype(int)


def mean_spectra_figure(wavelengths, means, sizes) -> go.Figure:
    """One line per cluster, in the cluster's colour (empty clusters left out)."""
    colors = component_colors(len(means))
    figure = go.Figure([
        go.Scatter(x=np.asarray(wavelengths, dtype=float), y=mean, mode="lines",
                   name=f"{cluster_name(j)} ({counted(size, 'spectrum', 'spectra')})",
                   line={"color": colors[j], "width": 1.2})
        for j, (mean, size) in enumerate(zip(means, sizes, strict=True)) if size])
    figure.update_layout(title={"text": "Mean spectrum of each cluster"}, height=380,
                         hovermode="x", margin={"l": 10, "r": 10, "t": 50, "b": 10},
                         xaxis={"title": {"text": "rest wavelength [Å]"}},
                         yaxis={"title": {"text": "mean flux of unmasked pixels"}})
    return figure


# ---------------------------------------------------------------- against known classes
def cross_table(clusters: pd.Series, known: pd.Series,
                name: str = "class") -> tuple[pd.DataFrame, float]:
    """How many rows of each cluster carry each known class (``known`` aligned with the
    data set's rows), and the adjusted Rand index between the two labelings (1: the same
    partition; about 0: no better than chance)."""
    classes = known.iloc[clusters.index].to_numpy()
    table = pd.crosstab(clusters.to_numpy(), classes, rownames=["cluster"], colnames=[name])
    return table, float(adjusted_rand_score(classes, clusters.to_numpy()))
