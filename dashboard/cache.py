"""Streamlit caches around the pipeline, keyed on the request and the data's fingerprint.

No array is ever hashed: a fit is keyed on the ``FitRequest`` (plain values) and the
data set's ``fingerprint``, and looks the data up in the data-set cache itself. An
uploaded file is cached on a digest of its bytes, and fits find it by that digest.

The caches are shared by every session: they hold numbers, never what a user named. An
upload is parsed under a placeholder name, and each session sees it under its own
(``named_upload``), so two users who upload the same bytes never see each other's names.
"""

from __future__ import annotations

import copy
import hashlib
import os

import streamlit as st

from dashboard import fit_payload, pairs_plot
from dashboard.figures import FigureOptions
from dashboard.pipeline import (
    ComparisonOutcome,
    FitOutcome,
    PreparedData,
    animation_bytes,
    drawn_points,
    panels_bytes,
    prepare_data,
    run_comparison,
    run_fit,
)
from dashboard.status import fits_side_by_side, markdown_table
from gmm_core import FitRequest
from gmm_core.datasets import (
    CsvLimits,
    Dataset,
    DatasetError,
    load_dataset,
    read_csv_upload,
    sdss_file_path,
)
from gmm_core.datasets.csv_upload import MEGABYTE
from gmm_core.datasets.sketch import SKETCH, sketch_dataset
from gmm_core.threads import single_threaded

TTL = "1h"
DATASET_ENTRIES = 4
UPLOAD_ENTRIES = 4
FIT_ENTRIES = 32
FIGURE_ENTRIES = 16
# The Dataset choice that means "the CSV file this session uploaded"; a request names
# the file by ``dataset_params = (("digest", …),)``.
UPLOAD_DATASET = "upload"
# The name the shared upload cache gives every file, in its Dataset and its refusals.
UNNAMED_UPLOAD = "the uploaded file"


def _source_stamp(name: str) -> str:
    """What identifies a data set's file on disk, so a new download is not served stale."""
    if name != "sdss":
        return ""
    try:
        stat = os.stat(sdss_file_path())
    except OSError:
        return "absent"
    return f"{sdss_file_path()}:{stat.st_size}:{stat.st_mtime_ns}"


# A resource, not data: the SDSS table is tens of MB, and st.cache_data would copy it on
# every rerun. The pages only read it.
@st.cache_resource(max_entries=DATASET_ENTRIES, ttl=TTL, show_spinner="Loading the data…")
def _dataset(name: str, params: tuple, source_stamp: str) -> Dataset:
    del source_stamp  # part of the cache key only
    return load_dataset(name, **dict(params))


@st.cache_resource(max_entries=DATASET_ENTRIES, ttl=TTL, show_spinner=False)
def _sketch(params: tuple) -> Dataset:
    return sketch_dataset(dict(params)["points"])


def dataset(name: str, params: tuple = ()) -> Dataset:
    if name == UPLOAD_DATASET:
        return _uploaded(dict(params)["digest"], None)
    if name == SKETCH:
        return _sketch(tuple(params))
    return _dataset(name, tuple(params), _source_stamp(name))


def upload_limits() -> CsvLimits:
    """The CSV reader's caps, with the byte cap lowered to Streamlit's upload cap
    (``server.maxUploadSize``, in megabytes as the uploader counts them)."""
    streamlit_cap = st.get_option("server.maxUploadSize") * MEGABYTE
    return CsvLimits(max_bytes=min(CsvLimits().max_bytes, streamlit_cap))


# Keyed on the digest only (arguments starting with "_" are not hashed): a fit looks its
# data up by the digest without the bytes, and a file is read once however often the
# page reruns. A refusal is kept too, so a large bad file is not read again every time.
# No file name goes in: another session with the same bytes gets this entry.
@st.cache_resource(max_entries=UPLOAD_ENTRIES, ttl=TTL, show_spinner="Reading the file…")
def _uploaded(digest: str, _raw: bytes | None) -> Dataset | str:
    if _raw is None:
        raise DatasetError(f"{UNNAMED_UPLOAD} is no longer on the server (files are kept "
                           "for an hour); upload it again")
    try:
        dataset = read_csv_upload(_raw, upload_limits(), title=UNNAMED_UPLOAD)
    except DatasetError as exc:
        return str(exc)
    _ = dataset.fingerprint  # hashed once, here: every session's named copy carries it
    return dataset


def _named(message: str, name: str) -> str:
    """A refusal of the shared cache in the words of the session that named the file."""
    if message.startswith(UNNAMED_UPLOAD):
        return name + message[len(UNNAMED_UPLOAD):]
    return message


def named_upload(dataset: Dataset, name: str) -> Dataset:
    """The shared parsed file under the name this session gave it (the same frame)."""
    named = copy.copy(dataset)
    named.title, named.citation = name, f"uploaded file {name}"
    return named


def upload(raw: bytes, name: str) -> tuple[tuple, Dataset]:
    """An uploaded CSV file as a Dataset titled ``name``, and the ``dataset_params`` that
    find it again; DatasetError (one line) when the file is refused."""
    digest = hashlib.blake2b(raw, digest_size=16).hexdigest()
    parsed = _uploaded(digest, raw)
    if isinstance(parsed, str):
        raise DatasetError(_named(parsed, name))
    return (("digest", digest),), named_upload(parsed, name)


def kept_upload(params: tuple, name: str) -> Dataset:
    """A file this session uploaded earlier, found by its ``dataset_params``, titled
    ``name``; DatasetError when the cache has let it go."""
    try:
        return named_upload(dataset(UPLOAD_DATASET, params), name)
    except DatasetError as exc:
        raise DatasetError(_named(str(exc), name)) from None


def prepared(request: FitRequest) -> PreparedData:
    """The matrix a request fits (cheap: the data set itself is cached)."""
    return prepare_data(dataset(request.dataset, request.dataset_params), request)


# Fits are shared read-only objects, like the payloads below: st.cache_data would
# unpickle a fit (its trace) on every rerun, a third of a cached rerun's time.
@st.cache_resource(max_entries=FIT_ENTRIES, ttl=TTL, show_spinner="Fitting…")
def fit(request: FitRequest, fingerprint: str) -> FitOutcome:
    """Our fit of ``request``; ``fingerprint`` (the data set's) makes new data a new key."""
    with single_threaded():
        return run_fit(prepared(request), request)


@st.cache_resource(max_entries=FIT_ENTRIES, ttl=TTL, show_spinner="Fitting scikit-learn…")
def comparison(request: FitRequest, fingerprint: str) -> ComparisonOutcome:
    outcome = fit(request, fingerprint)
    with single_threaded():
        return run_comparison(prepared(request), request, outcome)


@st.cache_resource(max_entries=FIT_ENTRIES, ttl=TTL, show_spinner=False)
def comparison_tables(request: FitRequest, fingerprint: str) -> tuple[str, str | None]:
    """The two fits in numbers, and the matched components (None for an unscored replay),
    as Markdown tables: light to send and to draw on every rerun."""
    outcome, compared = fit(request, fingerprint), comparison(request, fingerprint)
    matched = compared.comparison
    return (markdown_table(fits_side_by_side(outcome, compared)),
            None if matched is None else markdown_table(matched.table, index=False))


# Payloads are bytes that every session may share as they are.
@st.cache_resource(max_entries=FIGURE_ENTRIES, ttl=TTL, show_spinner=False)
def animation(request: FitRequest, fingerprint: str, options: FigureOptions,
              include_points: bool) -> bytes:
    """The animation's payload; without the points when the browser holds them."""
    return animation_bytes(prepared(request), request, fit(request, fingerprint), options,
                           include_points)


@st.cache_resource(max_entries=FIGURE_ENTRIES, ttl=TTL, show_spinner=False)
def panels(request: FitRequest, fingerprint: str, options: FigureOptions) -> bytes:
    """Our final fit beside scikit-learn's."""
    return panels_bytes(prepared(request), fit(request, fingerprint),
                        comparison(request, fingerprint), options)


@st.cache_resource(max_entries=FIGURE_ENTRIES, ttl=TTL, show_spinner=False)
def pairs(request: FitRequest, fingerprint: str, options: FigureOptions):
    """The pairs plot of a fit in more than two features (None otherwise), built once for
    the page's reruns and its HTML download."""
    return pairs_plot.figure_for(prepared(request), fit(request, fingerprint), options)


@st.cache_resource(max_entries=FIGURE_ENTRIES, ttl=TTL, show_spinner=False)
def points_id(request: FitRequest, fingerprint: str) -> str:
    """Names the points the figures draw, to know whether the browser holds them."""
    return fit_payload.points_id(drawn_points(prepared(request), fit(request, fingerprint).trace))
