"""The "Download SDSS spectra" button: astroML's file fetched with a progress bar, and
what the page says when the SDSS data set is missing or cannot be read.

gmm_core's messages about the file name its path on the server and the shell command
that fetches it: words for whoever runs the server, so they go to the server's log and
the page points to the sidebar's button instead.
"""

from __future__ import annotations

import logging

import streamlit as st

from gmm_core.datasets import DatasetError, fetch_sdss, sdss_available
from gmm_core.datasets.sdss import FILE_SIZE_TEXT

SDSS = "sdss"
# Session key read by the Dataset control on the next run: the data set to switch to.
PENDING_DATASET = "_pending_dataset"
SDSS_MISSING = ("The SDSS corrected spectra are not on this server yet: the sidebar's "
                f"“Download SDSS spectra” button fetches them ({FILE_SIZE_TEXT}).")
SDSS_UNREADABLE = ("The SDSS corrected spectra on this server cannot be read; the server's "
                   "log says why.")
DOWNLOAD_FAILED = "The SDSS spectra could not be downloaded; the server's log says why."
_log = logging.getLogger(__name__)


def sdss_problem(exc: DatasetError) -> str:
    """What the page says when the SDSS data set fails to load; the server logs why."""
    _log.warning("The SDSS data set cannot be loaded: %s", exc)
    return SDSS_UNREADABLE if sdss_available() else SDSS_MISSING


class _ProgressBar:
    """Feeds ``fetch_sdss(progress=…)`` into st.progress, redrawing only on a new percent."""

    def __init__(self):
        self.bar = st.progress(0.0, text="Connecting…")
        self.percent = -1

    def __call__(self, done: int, total: int) -> None:
        percent = 100 * done // total if total else 0
        if percent != self.percent:
            self.percent = percent
            text = (f"{done / 1e6:.1f} of {total / 1e6:.1f} MB" if total
                    else f"{done / 1e6:.1f} MB")
            self.bar.progress(percent / 100, text=text)


def sdss_download_button() -> None:
    """Offer the download; on success switch the page to SDSS, on failure say why."""
    st.caption(f"The SDSS corrected spectra ({FILE_SIZE_TEXT}) are not on this machine yet.")
    if not st.button("Download SDSS spectra", key="download_sdss"):
        return
    try:
        fetch_sdss(progress=_ProgressBar())
    except DatasetError as exc:
        _log.warning("The SDSS download failed: %s", exc)
        st.error(DOWNLOAD_FAILED)
        return
    st.session_state[PENDING_DATASET] = SDSS
    st.rerun()
