"""The "Upload a CSV…" data set: the file uploader, its limits, and what reading changed.

Streamlit's file uploader forgets its file when the user changes page (the widget is new
there, and a file cannot be put back into it by code). The session keeps the accepted
file's digest instead, and every page finds the parsed file in the upload cache by it,
until the user removes the file (the uploader's ✕, or "Remove" on another page) or the
cache lets it go (after an hour).
"""

from __future__ import annotations

import streamlit as st

from dashboard import cache
from gmm_core.datasets import Dataset, DatasetError

FILE_TYPES = ("csv", "tsv", "txt")
NO_FILE_YET = "Choose a CSV file in the sidebar: its numeric columns become the features."
UPLOADER = "upload_file"
# This session's accepted file, (dataset_params, file name): what every page fits.
_KEPT_UPLOAD = "_kept_upload"


def csv_upload_control() -> tuple[tuple, Dataset] | None:
    """Offer the uploader; return the file's ``dataset_params`` and Dataset (the kept
    one while the uploader is empty), or None before any. A refused file raises
    DatasetError; what reading it dropped or guessed is shown under the uploader."""
    limits = cache.upload_limits()
    file = st.file_uploader(
        "CSV file", type=list(FILE_TYPES), key=UPLOADER, on_change=_forget_if_removed,
        max_upload_size=max(1, limits.max_bytes // 2**20),
        help=f"Comma-, semicolon-, tab- or space-separated, with or without a header row; "
             f"up to {limits.max_rows:,} rows and {limits.max_columns:,} columns. Numeric "
             "columns become features; row names (as R and pandas write them) are left out "
             "but can be chosen; rows with a missing or non-numeric value are left out, "
             "and the notes below say what was.")
    st.caption("A link to this view carries the settings but not the file: whoever opens "
               "it uploads the same file to see the same fit.")
    if file is None:
        return _kept_upload()
    params, dataset = cache.upload(file.getvalue(), file.name)
    _check_two_features(dataset, file.name)
    st.session_state[_KEPT_UPLOAD] = (params, file.name)
    for note in dataset.notes:
        st.info(note)
    return params, dataset


def _check_two_features(dataset: Dataset, name: str) -> None:
    features = dataset.default_features
    if len(features) < 2:
        besides = " besides its row names" if dataset.row_name_columns else ""
        raise DatasetError(f"{name} has one numeric column ({features[0]}){besides}; the "
                           "Explore page plots two")


def _forget_if_removed() -> None:
    """The uploader's callback: its ✕ removes the file from the session too (a page
    change leaves the uploader empty without calling this)."""
    if st.session_state.get(UPLOADER) is None:
        forget_upload()


def forget_upload() -> None:
    st.session_state.pop(_KEPT_UPLOAD, None)


def _kept_upload() -> tuple[tuple, Dataset] | None:
    if _KEPT_UPLOAD not in st.session_state:
        return None
    params, name = st.session_state[_KEPT_UPLOAD]
    try:
        dataset = cache.kept_upload(params, name)
    except DatasetError:
        forget_upload()
        raise
    kept, remove = st.columns([3, 1], vertical_alignment="center")
    kept.caption(f"Fitting {name}, uploaded earlier; choose a file to replace it.")
    remove.button("Remove", key="forget_upload", on_click=forget_upload,
                  help=f"Forget {name}: the page waits for a new file.")
    return params, dataset
