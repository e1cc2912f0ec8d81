"""The matrix a fit uses: the chosen columns of a data set, rows with a NaN or infinite
value left out (and said so), scaled if asked. The CLI and the dashboard both fit this."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from gmm_core.datasets.base import Dataset, DatasetError
from gmm_core.datasets.preprocessing import Preprocessing, preprocess


@dataclass(frozen=True)
class PreparedFeatures:
    """``X`` ``(n, len(columns))`` keeps the data set's dtype unless it was scaled (SDSS
    flux stays float32, as the notebook read it). ``notes`` are the data set's own, then
    what preparing changed; ``preprocessing`` records the scaling, to reproduce the fit."""

    X: np.ndarray
    columns: tuple[str, ...]
    preprocessing: Preprocessing
    notes: tuple[str, ...]


def prepare_features(dataset: Dataset, columns: Sequence[str],
                     method: str = "none") -> PreparedFeatures:
    """``columns`` of ``dataset`` as a matrix, its finite rows only, preprocessed by
    ``method`` (``"none"`` or ``"standardize"``); DatasetError for unknown or repeated
    columns and for columns without a single finite row."""
    columns = tuple(dataset.check_columns(columns))
    X = dataset.frame[list(columns)].to_numpy()
    notes = list(dataset.notes)
    finite = dataset.finite_rows(columns)
    if not finite.all():
        if not finite.any():
            raise DatasetError(f"every row of {', '.join(columns)} has a NaN or infinite value")
        notes.append(f"dropped {int((~finite).sum())} of {len(X)} rows with NaN or infinite "
                     f"values in {', '.join(columns)}")
        X = X[finite]
    scaled, preprocessing = preprocess(X, method, columns)
    return PreparedFeatures(X if method == "none" else scaled, columns, preprocessing,
                            (*notes, *preprocessing.notes))
