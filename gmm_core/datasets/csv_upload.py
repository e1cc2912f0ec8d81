"""A user's CSV file turned into a Dataset, or refused with a one-line reason.

Everything that is changed on the way (columns or rows dropped, names invented, an
encoding guessed) is written into ``Dataset.notes``: nothing is silent.
"""

from __future__ import annotations

import csv
import io
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from gmm_core.datasets.base import Dataset, DatasetError, FeatureInfo, describe_names

DELIMITERS = ("\t", ";", ",")  # preference order when several split every line evenly
DELIMITER_NAMES = {"\t": "tab", ";": "semicolon", ",": "comma"}
MISSING_TOKENS = frozenset({"", "na", "n/a", "#n/a", "nan", "null", "none", "-", "?"})
NA_VALUES = sorted({variant for token in MISSING_TOKENS
                    for variant in (token, token.upper(), token.capitalize())} | {"NaN"})
COMMA_DECIMAL = re.compile(r"[+-]?\d*(?:,\d+)?(?:[eE][+-]?\d+)?")
SNIFF_LINES = 50
SHOW_ROWS = 5


@dataclass(frozen=True)
class CsvLimits:
    """Caps on what an upload may hold; the dashboard and the CLI share them."""

    max_bytes: int = 50 * 1024 * 1024
    max_rows: int = 1_000_000
    max_columns: int = 1_000


def read_csv_upload(source: bytes | str | Path, limits: CsvLimits = CsvLimits(),
                    min_rows: int = 1, columns: Sequence[str] | None = None,
                    title: str | None = None) -> Dataset:
    """Parse CSV bytes or a CSV file (``str`` is a path) into a numeric Dataset.

    ``title`` names the data in the Dataset and in messages (default: the path, or
    "the uploaded file" for bytes).
    ``columns`` restricts the result to those columns before rows with missing or
    non-finite values are dropped, so a gap in another column costs no rows.
    """
    raw, source_name = _read_bytes(source, limits, title)
    notes: list[str] = []
    text = _decode(raw, source_name, notes)
    if not text.strip():
        raise DatasetError(f"{source_name} is empty")
    delimiter = _sniff_delimiter(text)
    table, unnamed_first = _parse(text, delimiter, limits, source_name, notes)
    frame = _numeric_columns(table, delimiter, notes, source_name)
    if unnamed_first:
        frame = _drop_row_index(frame, notes)
    if columns is not None:
        frame = _select(frame, columns, list(table.columns), source_name)
    frame = _drop_unusable_rows(frame, notes, source_name)
    if len(frame) < min_rows:
        raise DatasetError(f"{source_name} has {len(frame)} usable rows; at least {min_rows} "
                           "are needed")
    notes.insert(0, f"read {len(frame):,} rows × {frame.shape[1]} numeric columns, "
                    f"{DELIMITER_NAMES[delimiter]}-separated")
    return Dataset(
        name="csv",
        title=source_name,
        frame=frame.reset_index(drop=True),
        features={name: FeatureInfo(name, name, "", "csv") for name in frame.columns},
        default_view=tuple(frame.columns[:2]),
        citation=f"uploaded file {source_name}",
        notes=notes,
    )


def _read_bytes(source: bytes | str | Path, limits: CsvLimits,
                title: str | None) -> tuple[bytes, str]:
    """The raw bytes and the name messages use, refusing anything over the byte cap."""
    in_memory = isinstance(source, bytes | bytearray)
    if in_memory:
        name, size = title or "the uploaded file", len(source)
    else:
        path = Path(source)
        name = title or str(path)
        if not path.exists():
            raise DatasetError(f"file not found: {path}")
        if not path.is_file():
            raise DatasetError(f"{path} is not a file")
        size = path.stat().st_size
    if size > limits.max_bytes:
        raise DatasetError(f"{name} is {_size_text(size)}; uploads are limited to "
                           f"{_size_text(limits.max_bytes)}")
    if in_memory:
        return bytes(source), name
    try:
        return path.read_bytes(), name
    except OSError as exc:
        raise DatasetError(f"cannot read {path}: {exc.strerror or exc}") from exc


def _size_text(n_bytes: int) -> str:
    return f"{n_bytes / 1e6:.1f} MB" if n_bytes >= 100_000 else f"{n_bytes:,} bytes"


def _decode(raw: bytes, name: str, notes: list[str]) -> str:
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        notes.append("decoded as UTF-16 (byte-order mark found)")
        return _normalize_newlines(raw.decode("utf-16", errors="replace"))
    sample = raw[:8192]
    control = sum(byte < 32 and byte not in b"\t\n\r\f\v" for byte in sample)
    if b"\0" in sample or control > len(sample) / 100:
        raise DatasetError(f"{name} looks binary (control bytes found), not CSV text; "
                           "export it as CSV from your spreadsheet program")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("latin-1")
        notes.append("the file is not valid UTF-8; it was read as Latin-1")
    return _normalize_newlines(text)


def _normalize_newlines(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _sniff_delimiter(text: str) -> str:
    """The delimiter that splits the first lines into the same number (≥ 2) of fields."""
    lines = [line for line in text.split("\n", SNIFF_LINES + 1)[:SNIFF_LINES] if line.strip()]
    best, best_fields = ",", 1
    for delimiter in DELIMITERS:
        counts = Counter(len(row) for row in csv.reader(lines, delimiter=delimiter))
        fields, lines_agreeing = counts.most_common(1)[0]
        if fields >= 2 and lines_agreeing >= 0.9 * len(lines):
            return delimiter
        if fields > best_fields:
            best, best_fields = delimiter, fields
    return best


def _first_row(text: str, delimiter: str) -> tuple[int, list[str]]:
    """Index of the first non-blank line and its cells, stripped."""
    for index, line in enumerate(text.split("\n")):
        if line.strip():
            return index, [cell.strip() for cell in next(csv.reader([line],
                                                                     delimiter=delimiter))]
    raise AssertionError("called on text with no content")


def _is_missing(cells: pd.Series) -> pd.Series:
    return cells.isna() | cells.str.strip().str.lower().isin(MISSING_TOKENS)


def _column_names(first: list[str], notes: list[str]) -> list[str]:
    """Names from a header row: blanks named by position, repeats given a suffix."""
    names: list[str] = []
    for j, name in enumerate(first):
        name = name or f"column_{j + 1}"
        unique, suffix = name, 2
        while unique in names:
            unique, suffix = f"{name}_{suffix}", suffix + 1
        if unique != name:
            notes.append(f"column {j + 1} repeats the name {name!r}; renamed {unique!r}")
        names.append(unique)
    return names


def _parse(text: str, delimiter: str, limits: CsvLimits, name: str,
           notes: list[str]) -> tuple[pd.DataFrame, bool]:
    """The table with pandas' type inference, and whether its first column had a blank
    name (as ``DataFrame.to_csv`` writes above a row index).

    A first row with no number in it is a header; otherwise columns are named by position.
    """
    first_line, first = _first_row(text, delimiter)
    if len(first) > limits.max_columns:
        raise DatasetError(f"{name} has {len(first):,} columns; the limit is "
                           f"{limits.max_columns:,}")
    first_cells = pd.Series(first, dtype=object)
    has_header = not (pd.to_numeric(first_cells, errors="coerce").notna()
                      & ~_is_missing(first_cells)).any()
    if has_header:
        names = _column_names(first, notes)
    else:
        names = [f"column_{j + 1}" for j in range(len(first))]
        notes.append(f"no header row: columns are named column_1 … column_{len(first)}")
    try:
        table = pd.read_csv(io.StringIO(text), sep=delimiter, header=None,
                            skiprows=first_line + has_header, na_values=NA_VALUES,
                            keep_default_na=False, skipinitialspace=True,
                            nrows=limits.max_rows + 1)
    except pd.errors.ParserError as exc:
        match = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", str(exc))
        if match:
            expected, line, saw = match.groups()
            raise DatasetError(f"{name}: line {line} has {saw} fields but the lines before "
                               f"it have {expected}") from None
        raise DatasetError(f"{name} cannot be parsed as CSV: {exc}") from None
    except pd.errors.EmptyDataError:
        table = pd.DataFrame()
    if table.empty:
        raise DatasetError(f"{name} has a header row but no data rows")
    table = _match_fields(table, names, name, notes)
    if len(table) > limits.max_rows:
        raise DatasetError(f"{name} has more than {limits.max_rows:,} data rows, the limit "
                           "for uploads")
    return table, has_header and first[0] == ""


def _match_fields(table: pd.DataFrame, names: list[str], name: str,
                  notes: list[str]) -> pd.DataFrame:
    """Name the parsed fields; empty fields past the last name (trailing delimiters) go."""
    extra = table.iloc[:, len(names):]
    if not extra.empty:
        if extra.notna().any().any():
            raise DatasetError(f"{name}: the data rows have {table.shape[1]} fields but the "
                               f"first row has {len(names)}")
        notes.append("ignored empty fields after the last column (trailing delimiters)")
    table = table.iloc[:, : len(names)].reindex(columns=range(len(names)))
    table.columns = names
    return table


def _numeric_columns(table: pd.DataFrame, delimiter: str, notes: list[str],
                     name: str) -> pd.DataFrame:
    kept: dict[str, pd.Series] = {}
    dropped: list[str] = []
    for column in table.columns:
        values = table[column]
        if values.isna().all():
            dropped.append(f"{column} (empty)")
        elif values.dtype.kind in "iuf":
            kept[column] = values.astype(np.float64)
        elif values.dtype.kind == "b":
            dropped.append(f"{column} (true/false values)")
        else:
            numbers = _numbers_in_text(column, values.astype(str).where(values.notna()),
                                       delimiter, notes)
            if numbers is None:
                text = values[pd.to_numeric(values, errors="coerce").isna() & values.notna()]
                sample = text.iloc[0]
                dropped.append(f"{column} (text such as {sample!r})")
            else:
                kept[column] = numbers
    if dropped:
        notes.append(f"dropped non-numeric column(s): {', '.join(dropped)}")
    if not kept:
        raise DatasetError(f"{name} has no numeric column (found: "
                           f"{describe_names([str(c) for c in table.columns])})")
    return pd.DataFrame(kept)


def _numbers_in_text(column: str, values: pd.Series, delimiter: str,
                     notes: list[str]) -> pd.Series | None:
    """A text column read as numbers if most of it is; None if it is text.

    Decimal commas are accepted in semicolon- and tab-separated files. A minority of
    cells that are not numbers become missing, and the note says so.
    """
    values = values.str.strip()
    missing = _is_missing(values)
    present = values[~missing]
    if (delimiter != "," and present.str.contains(",", regex=False).any()
            and present.str.fullmatch(COMMA_DECIMAL).all()):
        values = values.str.replace(",", ".", regex=False)
        notes.append(f"{column}: read decimal commas as decimal points")
    numbers = pd.to_numeric(values.where(~missing), errors="coerce")
    bad = numbers.isna() & ~missing
    if bad.sum() * 2 >= (~missing).sum():
        return None
    if bad.any():
        first_bad = int(np.flatnonzero(bad)[0])
        notes.append(f"{column}: {int(bad.sum())} value(s) are not numbers (e.g. "
                     f"{values.iloc[first_bad]!r} in row {first_bad + 1}); those rows "
                     "are dropped")
    return numbers.astype(np.float64)


def _drop_row_index(frame: pd.DataFrame, notes: list[str]) -> pd.DataFrame:
    """Drop an unnamed first column holding 0, 1, 2, … (a row index, not a feature)."""
    first = frame.columns[0]
    if (first != "column_1" or frame.shape[1] < 2
            or not np.array_equal(frame[first].to_numpy(), np.arange(len(frame)))):
        return frame
    notes.append("dropped the unnamed first column: a row index 0, 1, 2, …")
    return frame.drop(columns=first)


def _select(frame: pd.DataFrame, columns: Sequence[str], names: list[str],
            name: str) -> pd.DataFrame:
    for column in columns:
        if column not in frame.columns:
            problem = "is not numeric" if column in names else "does not exist"
            raise DatasetError(f"column {column!r} {problem} in {name}; numeric columns: "
                               f"{describe_names(list(frame.columns))}")
    if len(set(columns)) != len(columns):
        raise DatasetError(f"a column is listed twice: {', '.join(columns)}")
    return frame[list(columns)]


def _drop_unusable_rows(frame: pd.DataFrame, notes: list[str], name: str) -> pd.DataFrame:
    finite = np.isfinite(frame.to_numpy())
    usable = finite.all(axis=1)
    if usable.all():
        return frame
    if not usable.any():
        raise DatasetError(f"{name} has no usable rows: every row has a missing, NaN or "
                           "infinite value")
    bad_rows = np.flatnonzero(~usable) + 1
    per_column = ", ".join(f"{column}: {count}" for column, count
                           in zip(frame.columns, (~finite).sum(axis=0), strict=True) if count)
    shown = ", ".join(map(str, bad_rows[:SHOW_ROWS])) + (", …" if len(bad_rows) > SHOW_ROWS
                                                         else "")
    notes.append(f"dropped {len(bad_rows):,} of {len(frame):,} rows with missing, NaN or "
                 f"infinite values ({'row' if len(bad_rows) == 1 else 'rows'} {shown}; "
                 f"per column {per_column})")
    return frame[usable]
