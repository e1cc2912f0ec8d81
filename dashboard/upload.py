"""The "Upload a CSV…" data set: the file uploader, its limits, and what reading changed.

Streamlit's file uploader forgets its file when the user changes page (the widget is new
there, and a file cannot be put back into it by code). The session keeps the accepted
file's digest instead, and every page finds the parsed file in the upload cache by it,
until the user removes the file (the uploader's ✕, or "Remove" on another page) or the
cache lets it go (after an hour).

Streamlit's uploader refuses a file over the size limit in the browser: the server never
hears of it, so the limit is stated where the user looks (the uploader's label, and the
message the page shows while it has no file). A file the browser still lists but the
server has lost (the server restarted) is said so, and the uploader is emptied.
"""

from __future__ import annotations

import streamlit as st

from dashboard import cache
from dashboard.plain_text import plain
from gmm_core.datasets import Dataset, DatasetError
from gmm_core.datasets.csv_upload import MEGABYTE

FILE_TYPES = ("csv", "tsv", "txt")
UPLOADER = "upload_file"
LOST_FILE = ("The file in the uploader is no longer on the server (the server restarted "
             "since it was uploaded). Choose it again.")
# This session's accepted file, (dataset_params, file name): what every page fits.
_KEPT_UPLOAD = "_kept_upload"
# How many times the uploader was emptied by code: part of its key (see _uploader_key).
_UPLOADER_GENERATION = "_uploader_generation"
_LOST = "_lost_upload"


def no_file_yet() -> str:
    """What the page says while it waits for a file, and while the uploader shows a
    file it refused as too large."""
    limit = cache.upload_limits().size_text
    return (f"Choose a CSV file of up to {limit} in the sidebar: its numeric columns become "
            "the features. A larger file is refused by the uploader itself (it is marked "
            "in red there and never reaches the server).")


def csv_upload_control() -> tuple[tuple, Dataset] | None:
    """Offer the uploader; return the file's ``dataset_params`` and Dataset (the kept
    one while the uploader is empty), or None before any. A refused or lost file raises
    DatasetError; what reading it dropped or guessed is shown under the uploader."""
    limits = cache.upload_limits()
    key = _uploader_key()
    file = st.file_uploader(
        f"CSV file, up to {limits.size_text}", type=list(FILE_TYPES), key=key,
        on_change=_forget_if_removed, args=(key,),
        max_upload_size=max(1, limits.max_bytes // MEGABYTE),
        help=f"Comma-, semicolon-, tab- or space-separated, with or without a header row; "
             f"up to {limits.size_text}, {limits.max_rows:,} rows and "
             f"{limits.max_columns:,} columns. Numeric columns become features; row names "
             "(as R and pandas write them) are left out but can be chosen; rows with a "
             "missing or non-numeric value are left out, and the notes below say what was.")
    st.caption("A link to this view carries the settings but not the file: whoever opens "
               "it uploads the same file to see the same fit.")
    if file is None and st.session_state.get(key) is not None:
        _empty_lost_uploader()
    if file is None:
        if st.session_state.get(_LOST):  # on every rerun, until a file is chosen
            raise DatasetError(LOST_FILE)
        return _kept_upload()
    st.session_state.pop(_LOST, None)
    params, dataset = cache.upload(file.getvalue(), file.name)
    st.session_state[_KEPT_UPLOAD] = (params, file.name)
    if dataset.notes:  # one box, however many notes: the sidebar stays short
        st.info("\n".join(f"- {plain(note)}" for note in dataset.notes))
    return params, dataset


def _uploader_key() -> str:
    """The uploader's key: a new one is the only way code can empty the widget in the
    browser (Streamlit does not let code set an uploader's value)."""
    generation = st.session_state.get(_UPLOADER_GENERATION, 0)
    return f"{UPLOADER}_{generation}" if generation else UPLOADER


def _empty_lost_uploader() -> None:
    """The uploader names a file whose bytes the server no longer has (Streamlit then
    returns no file): start again with an empty uploader and say what happened."""
    forget_upload()
    st.session_state[_UPLOADER_GENERATION] = st.session_state.get(_UPLOADER_GENERATION, 0) + 1
    st.session_state[_LOST] = True
    st.rerun()


def _forget_if_removed(key: str) -> None:
    """The uploader's callback: its ✕ removes the file from the session too (a page
    change leaves the uploader empty without calling this)."""
    if st.session_state.get(key) is None:
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
    kept.caption(f"Fitting {plain(name)}, uploaded earlier; choose a file to replace it.")
    remove.button("Remove", key="forget_upload", on_click=forget_upload,
                  help=f"Forget {plain(name)}: the page waits for a new file.")
    return params, dataset
