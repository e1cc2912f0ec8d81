"""astroML's SDSS corrected spectra (``spec4000.npz``): find, download, validate, load.

The file is the one astroML's ``fetch_sdss_corrected_spectra`` uses, kept in astroML's
data home, so a user who already has it never downloads it again. Keys and meanings are
those written by astroML's ``examples/datasets/compute_sdss_pca.py``.
"""

from __future__ import annotations

import http.client
import os
import tempfile
import urllib.error
import urllib.request
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
from astroML.datasets import get_data_home
from astroML.datasets.sdss_corrected_spectra import DATA_URL

from gmm_core.datasets.base import Dataset, DatasetError, FeatureInfo

FILE_NAME = os.path.basename(DATA_URL)
FILE_SIZE_TEXT = "27 MB"
DOWNLOAD_TIMEOUT_S = 60
CHUNK_BYTES = 1 << 16

CITATION = (
    "SDSS DR7 spectra of 4000 galaxies, shifted to rest frame, resampled and PCA-processed "
    "by astroML (VanderPlas et al. 2012; Ivezić et al. 2014, Statistics, Data Mining, and "
    "Machine Learning in Astronomy)"
)

# SDSS pipeline classes (SPEC_CLN), as listed in astroML's
# astroML/datasets/tools/sdss_fits.py (spec_cln_dict): SPEC_UNKNOWN, SPEC_STAR,
# SPEC_GALAXY, SPEC_QSO, SPEC_HIZ_QSO (z > 2.3), SPEC_SKY, STAR_LATE (type M or later),
# GAL_EM (emission-line galaxy).
SPEC_CLN_NAMES = {
    0: "unknown", 1: "star", 2: "galaxy", 3: "QSO", 4: "high-z QSO", 5: "sky",
    6: "late-type star", 7: "emission-line galaxy",
}
# Line-ratio classes from astroML's SDSSfits.lineratio_index (same file; Vanderplas et
# al. 2009, BPT diagram with the Kewley et al. 2001 curve). Codes 2-5 split SPEC_CLN 2
# (galaxy) by its Hα/Hβ lines and [NII]/Hα vs [OIII]/Hβ; codes 0-1 copy SPEC_CLN and
# SPEC_CLN > 2 maps to SPEC_CLN + 3 (the code does this; its docstring's list is shifted
# by one). Names 2-6 follow astroML's book_figures/chapter7/fig_PCA_components.py.
LINEINDEX_CLN_NAMES = {
    0: "unknown", 1: "star", 2: "absorption galaxy", 3: "normal galaxy",
    4: "emission galaxy", 5: "narrow-line QSO", 6: "broad-line QSO", 7: "high-z QSO",
    8: "sky", 9: "late-type star", 10: "emission-line galaxy (SDSS class)",
}

# key -> (accepted dtype kinds, shape in symbolic dimensions). N spectra, L wavelength
# bins, M eigenvectors, E PCA coefficients kept per spectrum.
SCHEMA: dict[str, tuple[str, tuple[str, ...]]] = {
    "spectra": ("f", ("N", "L")),
    "mask": ("b", ("N", "L")),
    "coeff0": ("f", ()),
    "coeff1": ("f", ()),
    "spec_cln": ("iu", ("N",)),
    "lineindex_cln": ("iu", ("N",)),
    "log_NII_Ha": ("f", ("N",)),
    "log_OIII_Hb": ("f", ("N",)),
    "z": ("f", ("N",)),
    "zerr": ("f", ("N",)),
    "mu": ("f", ("L",)),
    "evecs": ("f", ("M", "L")),
    "evals": ("f", ("M",)),
    "norms": ("f", ("N",)),
    "coeffs": ("f", ("N", "E")),
}
KIND_NAMES = {"f": "floating point", "iu": "integer", "b": "boolean"}


def sdss_file_path() -> Path:
    """Where astroML keeps the file: ``$ASTROML_DATA`` or ``~/astroML_data``."""
    return Path(get_data_home()) / FILE_NAME


def sdss_available() -> bool:
    try:
        return sdss_file_path().is_file()
    except OSError:  # an unwritable data home cannot be created, so holds no file
        return False


def read_spec4000(path: Path) -> dict[str, np.ndarray]:
    """All arrays of a spec4000-format file, checked against ``SCHEMA``."""
    path = Path(path)
    if not path.is_file():
        raise DatasetError(missing_message(path))
    try:
        archive = np.load(path, allow_pickle=False)
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as exc:
        raise DatasetError(f"{path} is not a NumPy .npz archive ({exc})") from exc
    if not isinstance(archive, np.lib.npyio.NpzFile):
        raise DatasetError(f"{path} holds a single array, not an .npz archive of named arrays")
    with archive:
        missing = [key for key in SCHEMA if key not in archive.files]
        if missing:
            raise DatasetError(f"{path} lacks the key(s) {', '.join(missing)}")
        arrays = {key: _read_key(archive, key, path) for key in SCHEMA}
    check_spec4000(arrays, path)
    return arrays


def _read_key(archive, key: str, path: Path) -> np.ndarray:
    try:
        return archive[key]
    except ValueError as exc:
        if "allow_pickle" in str(exc):
            raise DatasetError(
                f"{path}: key {key!r} holds Python objects, which are not loaded "
                "(allow_pickle is off for safety)") from exc
        raise DatasetError(f"{path}: key {key!r} cannot be read ({exc})") from exc
    except (zipfile.BadZipFile, EOFError, OSError, zlib.error) as exc:
        raise DatasetError(f"{path}: key {key!r} cannot be read ({exc})") from exc


def check_spec4000(arrays: dict[str, np.ndarray], path: Path | str = "file") -> None:
    sizes: dict[str, int] = {}
    for key, (kinds, dims) in SCHEMA.items():
        array = arrays[key]
        if array.dtype.kind not in kinds:
            raise DatasetError(f"{path}: key {key!r} has dtype {array.dtype}; expected "
                               f"{KIND_NAMES[kinds]}")
        if not dims:
            if array.size != 1 or not np.isfinite(array).all():
                raise DatasetError(f"{path}: key {key!r} should be one finite number; "
                                   f"got shape {array.shape}")
            continue
        if array.ndim != len(dims):
            raise DatasetError(f"{path}: key {key!r} has shape {array.shape}; expected "
                               f"({', '.join(dims)})")
        for dim, size in zip(dims, array.shape, strict=True):
            expected = sizes.setdefault(dim, size)
            if size != expected:
                raise DatasetError(
                    f"{path}: key {key!r} has shape {array.shape}, but {dim} = {expected} "
                    f"elsewhere in the file")
    if sizes["N"] < 1 or sizes["L"] < 2:
        raise DatasetError(f"{path}: needs at least one spectrum and two wavelength bins; "
                           f"spectra has shape {arrays['spectra'].shape}")


def wavelengths(arrays: dict[str, np.ndarray]) -> np.ndarray:
    """Rest wavelength of each bin in Å (astroML's ``compute_wavelengths``)."""
    j = np.arange(arrays["spectra"].shape[1])
    return 10.0 ** (float(arrays["coeff0"]) + float(arrays["coeff1"]) * j)


def load_sdss() -> Dataset:
    path = sdss_file_path()
    arrays = read_spec4000(path)
    lam = wavelengths(arrays)
    spectra = arrays["spectra"]
    coeffs = arrays["coeffs"]

    flux_names = [f"flux_{j}" for j in range(spectra.shape[1])]
    pca_names = [f"pca_{i + 1}" for i in range(coeffs.shape[1])]
    features = {
        name: FeatureInfo(name, f"flux {wl:.0f} Å", "arbitrary", "flux",
                          f"rest-frame flux in the bin at {wl:.1f} Å")
        for name, wl in zip(flux_names, lam, strict=True)
    }
    features.update({
        name: FeatureInfo(name, f"PCA coefficient c{i + 1}", "", "pca",
                          f"projection on eigenspectrum {i + 1} of astroML's iterative PCA")
        for i, name in enumerate(pca_names)
    })
    features["log_NII_Ha"] = FeatureInfo("log_NII_Ha", "log([NII]/Hα)", "dex", "bpt",
                                         "BPT line ratio; 0 where not measured")
    features["log_OIII_Hb"] = FeatureInfo("log_OIII_Hb", "log([OIII]/Hβ)", "dex", "bpt",
                                          "BPT line ratio; 0 where not measured")
    features["z"] = FeatureInfo("z", "redshift z", "", "redshift", "spectroscopic redshift")

    frame = pd.concat([
        pd.DataFrame(spectra, columns=flux_names),
        pd.DataFrame(coeffs, columns=pca_names),
        pd.DataFrame({key: arrays[key] for key in ("log_NII_Ha", "log_OIII_Hb", "z")}),
    ], axis=1)

    return Dataset(
        name="sdss",
        title="SDSS corrected spectra (astroML spec4000)",
        frame=frame,
        features=features,
        default_view=(flux_names[0], flux_names[1]),
        citation=CITATION,
        known_labels={
            "spec_cln": class_names(arrays["spec_cln"], SPEC_CLN_NAMES),
            "lineindex_cln": class_names(arrays["lineindex_cln"], LINEINDEX_CLN_NAMES),
        },
        notes=sdss_notes(arrays, features[flux_names[0]].label),
        extras={
            "path": str(path), "wavelengths": lam,
            **{key: arrays[key] for key in
               ("spectra", "mask", "zerr", "mu", "evecs", "evals", "norms")},
        },
    )


def class_names(codes: np.ndarray, names: dict[int, str]) -> pd.Series:
    return pd.Series([names.get(int(code), f"class {int(code)}") for code in codes])


def sdss_notes(arrays: dict[str, np.ndarray], first_label: str) -> list[str]:
    n = len(arrays["z"])
    zero_first = int(np.count_nonzero(arrays["spectra"][:, 0] == 0))
    masked_first = int(np.count_nonzero(arrays["mask"][:, 0]))
    unmeasured = int(np.count_nonzero((arrays["log_NII_Ha"] == 0)
                                      & (arrays["log_OIII_Hb"] == 0)))
    return [
        f"{first_label} is exactly 0 in {zero_first} of {n} spectra and masked in "
        f"{masked_first}: bins outside a spectrum's observed range hold no flux",
        f"the BPT ratios are 0 (not measured) in {unmeasured} of {n} spectra",
    ]


def missing_message(path: Path) -> str:
    return (f"the SDSS corrected spectra are not on this machine: {path} does not exist. "
            f"Run `python -m gmm_core fetch sdss`, or download {DATA_URL} ({FILE_SIZE_TEXT}) "
            f"and save it as {path}")


def offline_message(url: str, path: Path, reason: object) -> str:
    return (f"could not download the SDSS corrected spectra ({FILE_SIZE_TEXT}) from {url}: "
            f"{reason}. If this machine is offline, download that file on another one and "
            f"copy it to {path} (set $ASTROML_DATA to use another folder)")


def fetch_sdss(progress: Callable[[int, int], None] | None = None, url: str | None = None,
               path: Path | str | None = None) -> Path:
    """Make sure the file is in place, downloading it if needed; return its path.

    The download goes to a temporary file beside the target and is renamed into place
    only once complete and valid, so an interrupted transfer leaves nothing behind.
    ``progress(bytes_done, bytes_total)`` is called per chunk (total 0 if unknown).
    """
    url = url or DATA_URL
    path = Path(path) if path is not None else sdss_file_path()
    if path.is_file():
        try:
            read_spec4000(path)
        except DatasetError as exc:
            raise DatasetError(f"{exc}; delete {path} and fetch again") from exc
        return path
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, partial_name = tempfile.mkstemp(prefix=f".{FILE_NAME}.", suffix=".part",
                                                dir=path.parent)
    except OSError as exc:
        raise DatasetError(offline_message(url, path, exc)) from exc
    partial = Path(partial_name)
    try:
        with os.fdopen(handle, "wb") as out:
            _download(url, out, progress)
        try:
            read_spec4000(partial)
        except DatasetError as exc:
            raise DatasetError(f"the file downloaded from {url} is not a valid "
                               f"{FILE_NAME}, so nothing was saved: {exc}") from exc
        os.replace(partial, path)
    except (OSError, http.client.HTTPException) as exc:
        plain_url_error = (isinstance(exc, urllib.error.URLError)
                           and not isinstance(exc, urllib.error.HTTPError))
        reason = exc.reason if plain_url_error else exc
        raise DatasetError(offline_message(url, path, reason)) from exc
    finally:
        partial.unlink(missing_ok=True)
    return path


def _download(url: str, out, progress: Callable[[int, int], None] | None) -> None:
    with urllib.request.urlopen(url, timeout=DOWNLOAD_TIMEOUT_S) as response:
        total = int(response.headers.get("Content-Length") or 0)
        done = 0
        while chunk := response.read(CHUNK_BYTES):
            out.write(chunk)
            done += len(chunk)
            if progress is not None:
                progress(done, total)
    if total and done != total:
        raise ConnectionError(f"the connection closed after {done} of {total} bytes")
