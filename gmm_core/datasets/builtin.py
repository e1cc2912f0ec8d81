"""Data sets that need no download: synthetic mixtures with known truth, and Iris."""

from __future__ import annotations

import numpy as np
import pandas as pd
from astroML.utils import convert_2D_cov
from sklearn.datasets import load_iris, load_wine, make_blobs

from gmm_core.datasets.base import Dataset, DatasetError, FeatureInfo
from gmm_core.wording import counted

XY_FEATURES = {
    "x": FeatureInfo("x", "x", "", "position"),
    "y": FeatureInfo("y", "y", "", "position"),
}

# The mixture that astroML's book_figures/chapter6/fig_GMM_nclusters.py samples
# (Ivezić et al. 2014, Figure 6.9): (mean, sigma1, sigma2, rotation, weight). With equal
# sigmas the rotations have no effect; they are kept as the book gives them.
FIG69_COMPONENTS = (
    ((50.0, 50.0), 20.0, 20.0, 0.0, 0.1),
    ((40.0, 40.0), 10.0, 10.0, np.pi / 6, 0.6),
    ((80.0, 80.0), 5.0, 5.0, np.pi / 3, 0.2),
    ((60.0, 60.0), 30.0, 30.0, 0.0, 0.1),
)


def _component_labels(labels: np.ndarray) -> pd.Series:
    return pd.Series([f"component {int(label) + 1}" for label in labels])


def _require(condition: bool, message: str) -> None:
    if not condition:
        raise DatasetError(message)


def blob_centres(n_components: int, separation: float) -> np.ndarray:
    """Centres on a circle, neighbours ``separation`` apart (unit-variance blobs)."""
    if n_components == 1:
        return np.zeros((1, 2))
    radius = separation / (2 * np.sin(np.pi / n_components))
    angles = 2 * np.pi * np.arange(n_components) / n_components
    return radius * np.column_stack([np.cos(angles), np.sin(angles)])


def load_blobs(n_components: int = 3, separation: float = 4.0, n_samples: int = 600,
               seed: int = 0) -> Dataset:
    """Equal-size, unit-variance 2-D Gaussian blobs whose neighbours are ``separation`` σ apart.
    """
    _require(1 <= n_components <= 50, f"n_components must be 1 to 50; got {n_components}")
    _require(separation >= 0, f"separation must be zero or positive; got {separation}")
    _require(n_samples >= n_components,
             f"n_samples must be at least n_components ({n_components}); got {n_samples}")
    centres = blob_centres(n_components, separation)
    X, labels = make_blobs(n_samples=n_samples, centers=centres, cluster_std=1.0,
                           random_state=seed)
    return Dataset(
        name="blobs",
        title=f"Gaussian blobs ({counted(n_components, 'component')}, {separation:g} σ "
              "apart)",
        frame=pd.DataFrame(X, columns=list(XY_FEATURES)),
        features=dict(XY_FEATURES),
        default_view=("x", "y"),
        citation="synthetic: scikit-learn make_blobs, unit-variance components",
        known_labels={"truth": _component_labels(labels)},
        extras={"true_means": centres, "true_covariances": np.tile(np.eye(2),
                                                                    (n_components, 1, 1))},
    )


def load_astroml_fig69(n_samples: int = 1000, seed: int = 1) -> Dataset:
    """A sample from the 4-component mixture of the astroML textbook's Figure 6.9."""
    _require(n_samples >= len(FIG69_COMPONENTS),
             f"n_samples must be at least {len(FIG69_COMPONENTS)}; got {n_samples}")
    means = np.array([c[0] for c in FIG69_COMPONENTS])
    covariances = np.array([convert_2D_cov(*c[1:4]) for c in FIG69_COMPONENTS])
    weights = np.array([c[4] for c in FIG69_COMPONENTS])
    rng = np.random.default_rng(seed)
    labels = rng.choice(len(weights), size=n_samples, p=weights / weights.sum())
    X = np.empty((n_samples, 2))
    for component in range(len(weights)):
        rows = labels == component
        X[rows] = rng.multivariate_normal(means[component], covariances[component],
                                          size=int(rows.sum()))
    return Dataset(
        name="astroml_fig69",
        title=f"astroML Figure 6.9 mixture (N = {n_samples})",
        frame=pd.DataFrame(X, columns=list(XY_FEATURES)),
        features=dict(XY_FEATURES),
        default_view=("x", "y"),
        citation=("Ivezić, Connolly, VanderPlas & Gray (2014), Statistics, Data Mining, and "
                  "Machine Learning in Astronomy, Figure 6.9"),
        known_labels={"truth": _component_labels(labels)},
        extras={"true_means": means, "true_covariances": covariances,
                "true_weights": weights},
    )


def load_iris_dataset() -> Dataset:
    iris = load_iris()
    names = ["sepal_length", "sepal_width", "petal_length", "petal_width"]
    features = {name: FeatureInfo(name, name.replace("_", " "), "cm", name.split("_")[0])
                for name in names}
    return Dataset(
        name="iris",
        title="Iris flowers (Fisher 1936)",
        frame=pd.DataFrame(iris.data, columns=names),
        features=features,
        default_view=("petal_length", "petal_width"),
        citation="Fisher (1936), Annals of Eugenics 7, 179; via scikit-learn load_iris",
        known_labels={"species": pd.Series(iris.target_names[iris.target])},
    )


def load_wine_dataset() -> Dataset:
    """178 Italian wines from three cultivars, 13 chemical measurements on scales from
    tenths (nonflavanoid phenols) to hundreds (proline): the usual case for scaling."""
    wine = load_wine()
    names = [name.replace("od280/od315_of_diluted_wines", "od280_od315")
             for name in wine.feature_names]
    labels = {"od280_od315": "OD280/OD315 of diluted wines"}
    features = {name: FeatureInfo(name, labels.get(name, name.replace("_", " ")))
                for name in names}
    return Dataset(
        name="wine",
        title="Wine (Forina et al.)",
        frame=pd.DataFrame(wine.data, columns=names),
        features=features,
        default_view=("proline", "hue"),
        citation=("Forina et al., PARVUS (Genoa); UCI Machine Learning Repository; via "
                  "scikit-learn load_wine"),
        known_labels={"cultivar": pd.Series([f"cultivar {int(t) + 1}" for t in wine.target])},
    )


def load_zero_spike(n_samples: int = 400, zero_fraction: float = 0.85,
                    seed: int = 0) -> Dataset:
    """The shape of the SDSS spectra's two bluest flux bins, which the seed notebook fits:
    most rows exactly (0, 0) (no coverage at their redshift), the rest large and nearly
    equal in the two neighbouring bins (a lognormal amplitude times 1 ± 2%)."""
    _require(0 < zero_fraction < 1, f"zero_fraction must be between 0 and 1; got {zero_fraction}")
    n_zero = round(zero_fraction * n_samples)
    _require(2 <= n_zero <= n_samples - 2,
             f"n_samples = {n_samples} leaves fewer than 2 rows in the spike or outside it")
    rng = np.random.default_rng(seed)
    amplitude = rng.lognormal(np.log(40.0), 0.4, n_samples - n_zero)
    spread = np.column_stack([amplitude, amplitude * rng.normal(1.0, 0.02, len(amplitude))])
    X = np.concatenate([np.zeros((n_zero, 2)), spread])
    order = rng.permutation(n_samples)  # the spike's rows scattered, as in a real file
    labels = np.repeat(["spike at (0, 0)", "spread"], [n_zero, len(amplitude)])
    return Dataset(
        name="zero_spike",
        title=f"Zero spike, like the SDSS blue bins (N = {n_samples})",
        frame=pd.DataFrame(X[order], columns=list(XY_FEATURES)),
        features=dict(XY_FEATURES),
        default_view=("x", "y"),
        citation=("synthetic: the shape of the first two flux bins of astroML's SDSS "
                  f"spectra, {zero_fraction:.0%} of the rows exactly zero"),
        known_labels={"truth": pd.Series(labels[order])},
    )
