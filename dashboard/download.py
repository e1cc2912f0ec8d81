"""The "Download SDSS spectra" button: astroML's file fetched with a progress bar."""

from __future__ import annotations

import streamlit as st

from gmm_core.datasets import DatasetError, fetch_sdss
from gmm_core.datasets.sdss import FILE_SIZE_TEXT

# Session key read by the Dataset control on the next run: the data set to switch to.
PENDING_DATASET = "_pending_dataset"


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
        st.error(str(exc))
        return
    st.session_state[PENDING_DATASET] = "sdss"
    st.rerun()
