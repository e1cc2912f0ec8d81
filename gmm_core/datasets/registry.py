"""The named data sets the dashboard and the CLI can load."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

from gmm_core.datasets.base import Dataset, DatasetError, DatasetInfo
from gmm_core.datasets.builtin import (
    load_astroml_fig69,
    load_blobs,
    load_iris_dataset,
    load_wine_dataset,
    load_zero_spike,
)
from gmm_core.datasets.sdss import FILE_SIZE_TEXT, load_sdss, sdss_available
from gmm_core.datasets.sketch import (
    BUMPS,
    BUMPS_DESCRIPTION,
    BUMPS_TITLE,
    SKETCH_PRESETS,
    load_bumps,
    load_sketch,
)


@dataclass(frozen=True)
class _Entry:
    title: str
    description: str
    loader: Callable[..., Dataset]
    available: Callable[[], bool] = lambda: True

    @property
    def defaults(self) -> dict:
        return {name: parameter.default for name, parameter
                in inspect.signature(self.loader).parameters.items()}


REGISTRY: dict[str, _Entry] = {
    "sdss": _Entry(
        "SDSS corrected spectra",
        f"4000 galaxy spectra from astroML ({FILE_SIZE_TEXT} download): flux per wavelength "
        "bin, PCA coefficients, BPT line ratios, redshift; known SDSS classes",
        load_sdss, sdss_available),
    "blobs": _Entry(
        "Gaussian blobs",
        "unit-variance 2-D blobs with known truth; choose their number, separation, size, seed",
        load_blobs),
    "astroml_fig69": _Entry(
        "astroML Figure 6.9 mixture",
        "two narrow and two wide overlapping 2-D Gaussians from the astroML textbook",
        load_astroml_fig69),
    "iris": _Entry(
        "Iris",
        "Fisher's 150 iris flowers, 4 measurements, 3 species (from scikit-learn)",
        load_iris_dataset),
    "wine": _Entry(
        "Wine",
        "178 wines, 13 chemical measurements in very different units, 3 cultivars "
        "(from scikit-learn)",
        load_wine_dataset),
    "zero_spike": _Entry(
        "Zero spike (like the SDSS blue bins)",
        "most rows exactly (0, 0), the rest large: the shape of the two flux bins the "
        "seed notebook fitted",
        load_zero_spike),
} | {
    f"sketch_{preset.name}": _Entry(f"Sketch preset: {preset.title}", preset.description,
                                    partial(load_sketch, preset.name))
    for preset in SKETCH_PRESETS.values()
} | {
    f"sketch_{BUMPS}": _Entry(f"Sketch preset: {BUMPS_TITLE}", BUMPS_DESCRIPTION, load_bumps),
}


def list_datasets() -> list[DatasetInfo]:
    return [DatasetInfo(name, entry.title, entry.description, entry.available(),
                        entry.defaults)
            for name, entry in REGISTRY.items()]


def load_dataset(name: str, **params) -> Dataset:
    """Load a registered data set; string parameter values are converted to the
    type of the parameter's default (so values from a URL or command line work)."""
    entry = REGISTRY.get(name)
    if entry is None:
        raise DatasetError(f"unknown data set {name!r}; choose one of {', '.join(REGISTRY)}")
    defaults = entry.defaults
    unknown = sorted(set(params) - set(defaults))
    if unknown:
        accepted = ", ".join(defaults) if defaults else "none"
        raise DatasetError(f"data set {name!r} has no parameter {', '.join(unknown)}; "
                           f"it accepts: {accepted}")
    converted = {key: _convert(name, key, value, type(defaults[key]))
                 for key, value in params.items()}
    return entry.loader(**converted)


def _convert(dataset: str, key: str, value, kind: type):
    try:
        converted = kind(value)
    except (TypeError, ValueError):
        raise DatasetError(f"{dataset} parameter {key} must be {kind.__name__}; "
                           f"got {value!r}") from None
    if kind is int and isinstance(value, float) and value != converted:
        raise DatasetError(f"{dataset} parameter {key} must be a whole number; got {value!r}")
    return converted
