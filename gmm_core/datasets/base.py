"""The one shape every data set takes: a table of numeric features plus what they mean."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import pandas as pd


class DatasetError(ValueError):
    """A data set cannot be loaded or used; the message says why in one line."""


@dataclass(frozen=True)
class FeatureInfo:
    name: str
    label: str
    unit: str = ""
    family: str = "feature"
    description: str = ""

    @property
    def axis_title(self) -> str:
        return f"{self.label} [{self.unit}]" if self.unit else self.label


@dataclass(frozen=True)
class DatasetInfo:
    """A registry entry as shown in a list, before anything is loaded."""

    name: str
    title: str
    description: str
    available: bool
    params: dict = field(default_factory=dict)


def fingerprint_frame(frame: pd.DataFrame) -> str:
    """A stable hash of column names, dtypes and values, for cache keys."""
    digest = hashlib.blake2b(digest_size=16)
    for name in frame.columns:
        values = np.ascontiguousarray(frame[name].to_numpy())
        digest.update(f"{name}\0{values.dtype.str}\0{len(values)}\0".encode())
        digest.update(values.tobytes())
    return digest.hexdigest()


def describe_names(names: list[str], limit: int = 8) -> str:
    """A short list of names for messages ("a, b, c, … (1013 in all)")."""
    if len(names) <= limit:
        return ", ".join(names)
    shown = [*names[: limit - 2], "…", names[-1]]
    return f"{', '.join(shown)} ({len(names)} in all)"


@dataclass
class Dataset:
    """Numeric features (``frame``), their metadata, and optional known class labels.

    ``known_labels`` maps a label set's name to a Series of readable class names aligned
    with ``frame``'s rows. ``notes`` says what loading changed (rows or columns dropped).
    ``row_name_columns`` are columns of ``frame`` that name or number the rows (a CSV
    file's row names): a user may choose them, but they are never chosen by default.
    ``source_rows`` numbers each row as its source does, from 1, with gaps where loading
    left rows out (an uploaded file's data rows); None: the source's rows, in order.
    """

    name: str
    title: str
    frame: pd.DataFrame
    features: dict[str, FeatureInfo]
    default_view: tuple[str, ...]
    citation: str = ""
    known_labels: dict[str, pd.Series] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    extras: dict = field(default_factory=dict)
    row_name_columns: tuple[str, ...] = ()
    source_rows: np.ndarray | None = None

    def __post_init__(self):
        missing = [name for name in self.frame.columns if name not in self.features]
        if missing:
            raise DatasetError(f"{self.name}: no feature metadata for {describe_names(missing)}")
        for role, names in (("default view", self.default_view),
                            ("row names", self.row_name_columns)):
            unknown = [name for name in names if name not in self.frame.columns]
            if unknown:
                raise DatasetError(f"{self.name}: {role} names unknown {unknown}")

    @cached_property
    def fingerprint(self) -> str:
        return fingerprint_frame(self.frame)

    @property
    def row_numbers(self) -> np.ndarray:
        """Each row's number in the source, counting from 1 (see ``source_rows``)."""
        if self.source_rows is not None:
            return self.source_rows
        return np.arange(1, self.n_samples + 1)

    @property
    def n_samples(self) -> int:
        return len(self.frame)

    @property
    def columns(self) -> list[str]:
        return list(self.frame.columns)

    @property
    def default_features(self) -> list[str]:
        """The columns a fit uses unless told otherwise: all but the row names."""
        return [name for name in self.frame.columns if name not in self.row_name_columns]

    def check_columns(self, columns) -> list[str]:
        columns = list(columns)
        if not columns:
            raise DatasetError(f"choose at least one column of {self.name}")
        unknown = [name for name in columns if name not in self.features]
        if unknown:
            raise DatasetError(
                f"unknown column {', '.join(map(repr, unknown))} in {self.name}; "
                f"available: {describe_names(self.columns)}"
            )
        if len(set(columns)) != len(columns):
            raise DatasetError(f"a column is listed twice: {', '.join(columns)}")
        return columns

    def matrix(self, columns) -> np.ndarray:
        """The chosen columns as a float64 ``(n_samples, len(columns))`` array."""
        return self.frame[self.check_columns(columns)].to_numpy(dtype=np.float64)

    def finite_rows(self, columns) -> np.ndarray:
        """Boolean mask of rows whose chosen columns are all finite."""
        return np.isfinite(self.matrix(columns)).all(axis=1)

    def families(self) -> dict[str, list[str]]:
        grouped: dict[str, list[str]] = {}
        for info in self.features.values():
            grouped.setdefault(info.family, []).append(info.name)
        return grouped
