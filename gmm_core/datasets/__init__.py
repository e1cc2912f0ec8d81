"""Data sets for the explorer: SDSS spectra (astroML), built-ins, and CSV uploads."""

from gmm_core.datasets.base import Dataset, DatasetError, DatasetInfo, FeatureInfo
from gmm_core.datasets.csv_upload import CsvLimits, read_csv_upload
from gmm_core.datasets.features import PreparedFeatures, prepare_features
from gmm_core.datasets.preprocessing import PREPROCESSING_METHODS, Preprocessing, preprocess
from gmm_core.datasets.registry import list_datasets, load_dataset
from gmm_core.datasets.sdss import fetch_sdss, sdss_available, sdss_file_path

__all__ = [
    "PREPROCESSING_METHODS",
    "CsvLimits",
    "Dataset",
    "DatasetError",
    "DatasetInfo",
    "FeatureInfo",
    "PreparedFeatures",
    "Preprocessing",
    "fetch_sdss",
    "list_datasets",
    "load_dataset",
    "prepare_features",
    "preprocess",
    "read_csv_upload",
    "sdss_available",
    "sdss_file_path",
]
