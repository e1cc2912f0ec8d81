"""The "Upload a CSV…" data set: the file uploader, its limits, and what reading changed."""

from __future__ import annotations

import streamlit as st

from dashboard import cache
from gmm_core.datasets import Dataset, DatasetError

FILE_TYPES = ("csv", "tsv", "txt")
NO_FILE_YET = "Choose a CSV file in the sidebar: its numeric columns become the features."
# This session's last accepted file, (dataset_params, file name): the uploader forgets its
# file on another page, while the parsed file stays in the cache for an hour.
_LAST_UPLOAD = "_last_upload"


def csv_upload_control() -> tuple[tuple, Dataset] | None:
    """Offer the uploader; return the file's ``dataset_params`` and Dataset (the last
    accepted one while the uploader is empty), or None before any. A refused file raises
    DatasetError; what reading it dropped or guessed is shown under the uploader."""
    limits = cache.upload_limits()
    file = st.file_uploader(
        "CSV file", type=list(FILE_TYPES), key="upload_file",
        max_upload_size=max(1, limits.max_bytes // 2**20),
        help=f"Comma-, semicolon- or tab-separated, with or without a header row; up to "
             f"{limits.max_rows:,} rows and {limits.max_columns:,} columns. Numeric columns "
             "become features; rows with a missing or non-numeric value are left out, and "
             "the notes below say what was.")
    st.caption("A link to this view carries the settings but not the file: whoever opens "
               "it uploads the same file to see the same fit.")
    if file is None:
        return _last_upload()
    params, dataset = cache.upload(file.getvalue(), file.name)
    if len(dataset.columns) < 2:
        raise DatasetError(f"{file.name} has one numeric column ({dataset.columns[0]}); the "
                           "Explore page plots two")
    st.session_state[_LAST_UPLOAD] = (params, file.name)
    for note in dataset.notes:
        st.info(note)
    return params, dataset


def _last_upload() -> tuple[tuple, Dataset] | None:
    if _LAST_UPLOAD not in st.session_state:
        return None
    params, name = st.session_state[_LAST_UPLOAD]
    try:
        dataset = cache.dataset(cache.UPLOAD_DATASET, params)
    except DatasetError:
        del st.session_state[_LAST_UPLOAD]
        raise
    st.caption(f"Fitting {name}, uploaded earlier; choose a file to replace it.")
    return params, dataset
