"""Catalogs too large for one machine's memory: Parquet files or many CSV files, read
as a ``dask.array`` of row chunks for a fit on a Dask cluster (gmm_core.distributed).

A source is a Parquet file, a directory of Parquet files, a glob of Parquet files, a
glob of CSV files (by extension), or a Zarr group whose one-dimensional arrays are the
columns. Columns are chosen by name; rows with a missing or
non-finite value in a chosen column are dropped and counted, as for uploads.
"""

from __future__ import annotations

import glob
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from gmm_core.trace import display_sample_index

# A directory holding one of these is a Zarr group (format 3, or format 2).
ZARR_MARKERS = ("zarr.json", ".zgroup")


class CatalogError(ValueError):
    """A catalog cannot be read as asked; the message says why in one line."""


@dataclass(frozen=True)
class Catalog:
    rows: object  # dask.array.Array, float64, (n_rows, len(columns)), chunk sizes known
    columns: tuple[str, ...]
    n_rows: int  # rows kept
    n_dropped: int  # rows dropped for a missing or non-finite value
    source: str

    def sample(self, n: int, seed: int = 0) -> np.ndarray:
        """A reproducible uniform sample of ``n`` rows (all when fewer), taken on the
        workers: only the sample reaches this process."""
        return self.rows[display_sample_index(self.n_rows, n, seed)].compute()


def catalog_files(source: str) -> tuple[list[str], str]:
    """The files a source names, and their format ("parquet", "csv" or "zarr")."""
    path = Path(source)
    if any((path / marker).is_file() for marker in ZARR_MARKERS):
        return sorted(str(p) for p in path.rglob("*") if p.is_file()), "zarr"
    if path.is_dir():
        files = sorted(str(p) for p in path.glob("*.parquet"))
    elif any(char in source for char in "*?["):
        files = sorted(glob.glob(source))
    else:
        files = [source] if path.is_file() else []
    if not files:
        raise CatalogError(f"no Parquet or CSV files, and no Zarr store, at {source!r}")
    suffixes = {Path(f).suffix.lower() for f in files}
    if suffixes <= {".parquet", ".pq"}:
        return files, "parquet"
    if suffixes == {".csv"}:
        return files, "csv"
    raise CatalogError(f"{source!r} names files of more than one kind or of an unknown "
                       f"kind ({', '.join(sorted(suffixes))}); use .parquet or .csv files")


def _frame(source: str, columns: Sequence[str] | None = None):
    import dask.dataframe as dd

    files, kind = catalog_files(source)
    try:
        if kind == "zarr":
            return _zarr_frame(source, columns)
        if kind == "parquet":
            return dd.read_parquet(files, columns=None if columns is None else list(columns))
        frame = dd.read_csv(files, blocksize="64MB")
        return frame if columns is None else frame[list(columns)]
    except (KeyError, ValueError) as exc:
        raise CatalogError(f"cannot read {source!r}: {' '.join(str(exc).split())}") from None


def _zarr_frame(source: str, columns: Sequence[str] | None):
    """A Zarr group's one-dimensional arrays as the columns of a table."""
    import dask.array as da
    import dask.dataframe as dd
    import zarr

    group = zarr.open_group(source, mode="r")
    names = [name for name in sorted(group.array_keys()) if group[name].ndim == 1]
    chosen = names if columns is None else list(columns)
    arrays = [da.from_zarr(group[name]) for name in chosen]  # KeyError: no such array
    if len({len(array) for array in arrays}) > 1:
        raise ValueError("its arrays differ in length, so they are not one table's columns")
    return dd.from_dask_array(da.stack(arrays, axis=1).rechunk({1: -1}), columns=chosen)


def catalog_columns(source: str) -> tuple[str, ...]:
    """The catalog's numeric column names, read from its metadata, not its rows."""
    frame = _frame(source)
    return tuple(str(name) for name, dtype in frame.dtypes.items()
                 if pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_bool_dtype(dtype))


def _finite_rows(part) -> np.ndarray:
    values = part.to_numpy(dtype=np.float64)
    return values[np.isfinite(values).all(axis=1)]


def _row_counts(part) -> tuple[int, int]:
    """Rows of a partition, and those with every chosen value finite."""
    values = part.to_numpy(dtype=np.float64)
    return len(values), int(np.isfinite(values).all(axis=1).sum())


def open_catalog(source: str, columns: Sequence[str] | None = None) -> Catalog:
    """The catalog's chosen numeric columns (default: all numeric ones) as row chunks."""
    available = catalog_columns(source)
    columns = tuple(columns) if columns else available
    unknown = [name for name in columns if name not in available]
    if unknown:
        raise CatalogError(f"no numeric column {', '.join(map(repr, unknown))} in {source!r}; "
                           f"its numeric columns are {', '.join(available)}")
    if len(set(columns)) != len(columns):
        raise CatalogError("a column is listed twice")
    import dask
    import dask.array as da

    parts = _frame(source, columns).to_delayed()
    # One read of the catalog for the counts, so every chunk's length is known.
    counts = dask.compute(*[dask.delayed(_row_counts)(part) for part in parts])
    chunks = [da.from_delayed(dask.delayed(_finite_rows)(part), shape=(kept, len(columns)),
                              dtype=np.float64)
              for part, (_, kept) in zip(parts, counts, strict=True) if kept]
    if not chunks:
        raise CatalogError(f"{source!r} has no row with finite values in {', '.join(columns)}")
    rows = da.concatenate(chunks)
    n_total = sum(total for total, _ in counts)
    return Catalog(rows, columns, int(rows.shape[0]), n_total - int(rows.shape[0]), source)
