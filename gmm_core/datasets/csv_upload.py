"""A user's CSV file turned into a Dataset, or refused with a one-line reason.

Everything that is changed on the way (columns or rows dropped, names invented, an
encoding guessed, row names set aside, numbers read from text) is written into
``Dataset.notes``: nothing is silent.
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
from gmm_core.datasets.csv_numbers import ColumnNumbers, is_number, read_numbers, text_kind
from gmm_core.datasets.csv_row_names import (
    ROW_NAMES,
    SHORT_HEADER,
    find_row_names,
    header_reason,
)
from gmm_core.wording import counted

# Preference order when several split every line evenly; a space (one or more, as R's
# write.table and aligned text files write) only when nothing else does.
DELIMITERS = ("\t", ";", ",", " ")
DELIMITER_NAMES = {"\t": "tab", ";": "semicolon", ",": "comma", " ": "space"}
EXCEL_ERRORS = ("#div/0!", "#value!", "#ref!", "#num!", "#name?", "#null!")
MISSING_TOKENS = frozenset({"", "na", "n/a", "#n/a", "nan", "null", "none", "-", "?",
                            *EXCEL_ERRORS})
NA_VALUES = sorted({variant for token in MISSING_TOKENS
                    for variant in (token, token.upper(), token.capitalize())} | {"NaN"})
UNIT_BRACKETS = re.compile(r"^[\[(](.*)[\])]$")
SNIFF_LINES = 50
SHOW_ROWS = 5
# A megabyte as Streamlit's uploader counts it (1024² only in browsers on Windows), so
# "50 MB" is the same size in the uploader, in messages, on the command line and in docs.
MEGABYTE = 1_000_000


@dataclass(frozen=True)
class CsvLimits:
    """Caps on what an upload may hold; the dashboard and the CLI share them."""

    max_bytes: int = 50 * MEGABYTE
    max_rows: int = 1_000_000
    max_columns: int = 1_000

    @property
    def size_text(self) -> str:
        """The byte cap as messages give it: "50 MB"."""
        return size_text(self.max_bytes)


@dataclass(frozen=True)
class _Layout:
    """Where the data start and what the lines above them say."""

    header: list[str] | None  # the header's cells, or None
    units: list[str]  # a units row under the header, or []
    data_line: int  # index of the first line of data
    widths: tuple[tuple[int, int], ...]  # (line number, fields) of the first data lines
    trailing_delimiter: bool  # the first data line ends with the delimiter


def read_csv_upload(source: bytes | str | Path, limits: CsvLimits = CsvLimits(),
                    min_rows: int = 1, columns: Sequence[str] | None = None,
                    title: str | None = None) -> Dataset:
    """Parse CSV bytes or a CSV file (``str`` is a path) into a numeric Dataset.

    ``title`` names the data in the Dataset and in messages (default: the path, or
    "the uploaded file" for bytes). Row names (see ``csv_row_names``) are kept as columns
    when numeric but are never among ``Dataset.default_features``.
    ``columns`` restricts the result to those columns before rows with missing or
    non-finite values are dropped, so a gap in another column costs no rows.
    """
    raw, source_name = _read_bytes(source, limits, title)
    notes: list[str] = []
    lines = _decode(raw, source_name, notes).split("\n")
    layout, delimiter = _layout(lines, source_name, limits, notes)
    table, by_header, units = _parse(lines, layout, delimiter, limits, source_name, notes)
    numbers, dropped = _numeric_columns(table, delimiter, units, notes)
    row_names = find_row_names(table, by_header, numbers, layout.header is not None)
    notes += [found.note(table[found.column].dropna()) for found in row_names]
    dropped = [f"{column} ({kind})" for column, kind in dropped.items()
               if column not in {found.column for found in row_names}]
    if dropped:
        notes.append(f"dropped non-numeric column(s): {', '.join(dropped)}")
    frame = pd.DataFrame(numbers)
    row_name_columns = [found.column for found in row_names if found.numeric]
    if columns is not None:
        frame = _select(frame, columns, list(table.columns), source_name)
        row_name_columns = [name for name in row_name_columns if name in frame.columns]
    features = [name for name in frame.columns if name not in row_name_columns]
    if frame.empty or not (features or columns):
        besides = f" besides its row names ({', '.join(row_name_columns)})" * bool(
            row_name_columns)
        raise DatasetError(f"{source_name} has no numeric column{besides} (found: "
                           f"{describe_names([str(c) for c in table.columns])})")
    frame = _drop_unusable_rows(frame, notes, source_name)
    if len(frame) < min_rows:
        raise DatasetError(f"{source_name} has {counted(len(frame), 'usable row')}; at least "
                           f"{min_rows:,} {'is' if min_rows == 1 else 'are'} needed")
    notes.insert(0, f"read {counted(len(frame), 'row')} × "
                    f"{counted(len(features), 'numeric column')}"
                    + (" and row names" if row_name_columns else "")
                    + f", {DELIMITER_NAMES[delimiter]}-separated")
    return Dataset(
        name="csv",
        title=source_name,
        frame=frame.reset_index(drop=True),
        features={name: FeatureInfo(name, name, units.get(name, ""), "csv")
                  for name in frame.columns},
        default_view=tuple(features[:2]),
        citation=f"uploaded file {source_name}",
        notes=notes,
        row_name_columns=tuple(row_name_columns),
        # The data rows' numbers as the notes give them, so that dropped rows are gaps.
        source_rows=frame.index.to_numpy() + 1,
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
        shown = size_text(size)
        if shown == limits.size_text:  # just over: rounded, it would read as the limit
            shown = f"{size:,} bytes"
        raise DatasetError(f"{name} is {shown}; uploads are limited to {limits.size_text}")
    if in_memory:
        return bytes(source), name
    try:
        return path.read_bytes(), name
    except OSError as exc:
        raise DatasetError(f"cannot read {path}: {exc.strerror or exc}") from exc


def size_text(n_bytes: int) -> str:
    """"60.8 MB", "50 MB" (a whole number without its ".0"), "244 bytes"."""
    if n_bytes < MEGABYTE // 10:
        return counted(n_bytes, "byte")
    return f"{n_bytes / MEGABYTE:.1f}".removesuffix(".0") + " MB"


def _decode(raw: bytes, name: str, notes: list[str]) -> str:
    """The text with "\\n" line ends. UTF-8 (with or without Excel's byte-order mark),
    UTF-16 with a byte-order mark, else Windows-1252: what Excel's plain "CSV" writes in
    Western European locales (Latin-1 where a byte is undefined in it)."""
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
        try:
            text = raw.decode("cp1252")
            notes.append("the file is not valid UTF-8; it was read as Windows-1252 (what "
                         "Excel writes in Western European languages)")
        except UnicodeDecodeError:
            text = raw.decode("latin-1")
            notes.append("the file is not valid UTF-8; it was read as Latin-1")
    if not text.strip():
        raise DatasetError(f"{name} is empty")
    return _normalize_newlines(text)


def _normalize_newlines(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _cells(line: str, delimiter: str) -> list[str]:
    """One line split into stripped cells, quotes honoured."""
    if delimiter == " ":
        reader = csv.reader([line.strip()], delimiter=" ", skipinitialspace=True)
    else:
        reader = csv.reader([line], delimiter=delimiter)
    return [cell.strip() for cell in next(reader, [])]


def _is_comment(line: str) -> bool:
    return line.lstrip().startswith("#")


def _layout(lines: list[str], name: str, limits: CsvLimits,
            notes: list[str]) -> tuple[_Layout, str]:
    """Skip leading comment lines, find the delimiter, the header row (a first row with
    no number in it), a units row under it, and where the data begin."""
    content = [i for i, line in enumerate(lines) if line.strip()]
    comments = []
    while content and _is_comment(lines[content[0]]):
        comments.append(content.pop(0))
    if not content:
        raise DatasetError(f"{name} holds only comment lines (starting with #), no data")
    if comments:
        notes.append(f"skipped {counted(len(comments), 'comment line')} (starting with #) "
                     "above the data")
    delimiter = _sniff_delimiter([lines[i] for i in content[:SNIFF_LINES]])
    first = _cells(lines[content[0]], delimiter)
    if len(first) > limits.max_columns:
        raise DatasetError(f"{name} has {counted(len(first), 'column')}; the limit is "
                           f"{limits.max_columns:,}")
    header, units = None, []
    if any(is_number(cell, delimiter) for cell in first):
        header = _header_from_comment(lines[comments[-1]] if comments else "", first,
                                      delimiter, notes)
    else:
        header, content = first, content[1:]
        if not content:
            raise DatasetError(f"{name} has a header row but no data rows")
        below = _cells(lines[content[1]], delimiter) if len(content) > 1 else []
        if _is_units_row(_cells(lines[content[0]], delimiter), below, delimiter):
            units = _cells(lines[content[0]], delimiter)
            shown = ", ".join(cell for cell in units if not _is_missing_cell(cell))
            notes.append(f"line {content[0] + 1} holds units ({shown}), not data: they "
                         "label the axes")
            content = content[1:]
    data = content[0] if content else len(lines)
    widths = tuple((i + 1, len(_cells(lines[i], delimiter))) for i in content[:SNIFF_LINES])
    trailing = bool(content) and delimiter != " " and lines[data].rstrip(" ").endswith(
        delimiter)
    return _Layout(header, units, data, widths, trailing), delimiter


def _header_from_comment(comment: str, first: list[str], delimiter: str,
                         notes: list[str]) -> list[str] | None:
    """Column names from the comment line just above headerless data, as numpy's
    ``savetxt(header=...)`` writes them ("# x y"); None when it holds no such names."""
    cells = _cells(comment.lstrip().lstrip("#"), delimiter)
    if (len(cells) == len(first) and all(cells)
            and not any(is_number(cell, delimiter) for cell in cells)):
        notes.append(f"took the column names from the comment line {comment.strip()!r}")
        return cells
    notes.append(f"no header row: columns are named column_1 … column_{len(first)}")
    return None


def _is_missing_cell(cell: str) -> bool:
    return cell.strip().lower() in MISSING_TOKENS


def _is_units_row(cells: list[str], below: list[str], delimiter: str) -> bool:
    """A row under the header with no number in it, above a row with a number in a
    column where this one has text: units ("mm", "kg"), not data."""
    text = [not _is_missing_cell(cell) and not is_number(cell, delimiter) for cell in cells]
    if not any(text) or any(is_number(cell, delimiter) for cell in cells):
        return False
    return any(has_text and is_number(cell, delimiter)
               for has_text, cell in zip(text, below, strict=False))


def _sniff_delimiter(lines: list[str]) -> str:
    """The delimiter that splits the first lines into the same number (≥ 2) of fields."""
    best, best_fields = ",", 1
    for delimiter in DELIMITERS:
        counts = Counter(len(_cells(line, delimiter)) for line in lines)
        fields, lines_agreeing = counts.most_common(1)[0]
        if fields >= 2 and lines_agreeing >= 0.9 * len(lines):
            return delimiter
        if fields > best_fields:
            best, best_fields = delimiter, fields
    return best


def _is_missing(cells: pd.Series) -> pd.Series:
    return cells.isna() | cells.str.strip().str.lower().isin(MISSING_TOKENS)


def _parse(lines: list[str], layout: _Layout, delimiter: str, limits: CsvLimits, name: str,
           notes: list[str]) -> tuple[pd.DataFrame, dict[str, str], dict[str, str]]:
    """The table with pandas' type inference and named columns; the columns its header
    marks as row names (with the reason); the units by column."""
    try:
        table = pd.read_csv(io.StringIO("\n".join(lines)), header=None,
                            sep=r"\s+" if delimiter == " " else delimiter,
                            skiprows=layout.data_line, na_values=NA_VALUES,
                            keep_default_na=False, skipinitialspace=True,
                            nrows=limits.max_rows + 1)
    except pd.errors.ParserError as exc:
        match = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", str(exc))
        if match:
            expected, line, saw = match.groups()
            raise DatasetError(f"{name}: line {line} has {counted(saw, 'field')} but the "
                               f"lines before it have {expected}") from None
        raise DatasetError(f"{name} cannot be parsed as CSV: {exc}") from None
    except pd.errors.EmptyDataError:
        table = pd.DataFrame()
    if table.empty:
        raise DatasetError(f"{name} has a header row but no data rows")
    if len(table) > limits.max_rows:
        raise DatasetError(f"{name} has more than {counted(limits.max_rows, 'data row')}, "
                           "the limit for uploads")
    empty_rows = table.isna().all(axis=1)
    if empty_rows.any():
        notes.append(f"skipped {counted(int(empty_rows.sum()), 'empty row')} (delimiters "
                     "only)")
        table = table[~empty_rows].reset_index(drop=True)
    table, names, by_header, offset = _field_names(table, layout, name, notes)
    table.columns = names
    units = {names[j + offset]: UNIT_BRACKETS.sub(r"\1", cell)
             for j, cell in enumerate(layout.units)
             if j + offset < len(names) and not _is_missing_cell(cell)}
    return table, by_header, units


def _field_names(table: pd.DataFrame, layout: _Layout, name: str,
                 notes: list[str]) -> tuple[pd.DataFrame, list[str], dict[str, str], int]:
    """The table with a name for every field of its rows, the columns the header marks
    as row names, and how many fields come before the header's first name (1 when the
    header is one short, R's write.table layout; else 0).

    Empty fields past the last name (trailing delimiters) are dropped; a header longer
    than the rows names empty columns.
    """
    header = layout.header
    if header is None:
        return table, [f"column_{j + 1}" for j in range(table.shape[1])], {}, 0
    table, header = _without_trailing_blanks(table, header, notes)
    extra = table.shape[1] - len(header)
    if extra > 0 and layout.trailing_delimiter and table.iloc[:, len(header):].isna().all(
            axis=None):
        notes.append("ignored empty fields after the last column (trailing delimiters)")
        table, extra = table.iloc[:, : len(header)], 0
    if extra > 0 and {width for _, width in layout.widths} != {len(header) + 1}:
        line, width = next(((line, width) for line, width in layout.widths
                            if width != len(header)), layout.widths[0])
        raise DatasetError(f"{name}: line {line} has {counted(width, 'field')} but the "
                           f"header has {len(header)}")
    table = table.reindex(columns=range(len(header) + max(extra, 0)))
    offset = max(extra, 0)
    cells = [""] * offset + header
    names: list[str] = []
    by_header: dict[str, str] = {}
    for j, cell in enumerate(cells):
        leading = len(by_header) == len(names)
        reason = (SHORT_HEADER if j < offset
                  else header_reason(cell, not cell) if leading else None)
        base = cell or (ROW_NAMES if reason else f"column_{j + 1}")
        unique, suffix = base, 2
        while unique in names or (not cell and unique in cells):
            unique, suffix = f"{base}_{suffix}", suffix + 1
        if unique != base and cell:
            notes.append(f"column {j + 1} repeats the name {cell!r}; renamed {unique!r}")
        names.append(unique)
        if reason:
            by_header[unique] = reason
    return table, names, by_header, offset


def _without_trailing_blanks(table: pd.DataFrame, header: list[str],
                             notes: list[str]) -> tuple[pd.DataFrame, list[str]]:
    """Without the unnamed, empty columns at the header's end (a spreadsheet's formatted
    but empty columns)."""
    keep = len(header)
    while (keep > 1 and not header[keep - 1]
           and (keep > table.shape[1] or table.iloc[:, keep - 1].isna().all())):
        keep -= 1
    if keep == len(header):
        return table, header
    notes.append(f"ignored {counted(len(header) - keep, 'empty column')} without a name at "
                 "the end")
    return table.iloc[:, :keep], header[:keep]


def _numeric_columns(table: pd.DataFrame, delimiter: str, units: dict[str, str],
                     notes: list[str]) -> tuple[dict[str, pd.Series], dict[str, str]]:
    """The columns that read as numbers, and what each other column holds. A column of
    percentages gets the unit "%" in ``units`` unless a units row gave it one."""
    kept: dict[str, pd.Series] = {}
    dropped: dict[str, str] = {}
    for column in table.columns:
        values = table[column]
        if values.isna().all():
            dropped[column] = "empty"
        elif values.dtype.kind in "iuf":
            kept[column] = values.astype(np.float64)
        elif values.dtype.kind == "b" or _holds_true_false(values.dropna()):
            dropped[column] = "true/false values"
        else:
            numbers = _numbers_in_text(column, values.astype(str).where(values.notna()),
                                       delimiter, notes)
            if numbers is None:
                dropped[column] = _text_description(values.dropna().astype(str))
            else:
                kept[column] = numbers.values
                if numbers.unit:
                    units.setdefault(column, numbers.unit)
    return kept, dropped


def _holds_true_false(present: pd.Series) -> bool:
    """True/False with gaps: pandas keeps them as Python booleans in an object column."""
    return isinstance(present.iloc[0], bool) and present.map(type).eq(bool).all()


def _text_description(text: pd.Series) -> str:
    """"dates such as '2024-01-31'", "text such as 'abc'" (its first cell that is not a
    number), "true/false values"."""
    kind = text_kind(text)
    if kind == "true/false values":
        return kind
    not_numbers = text[pd.to_numeric(text, errors="coerce").isna()]
    return f"{kind} such as {(not_numbers if len(not_numbers) else text).iloc[0]!r}"


def _numbers_in_text(column: str, values: pd.Series, delimiter: str,
                     notes: list[str]) -> ColumnNumbers | None:
    """A text column read as numbers if most of it is; None if it is text.

    A minority of cells that are not numbers become missing, and the note says so.
    """
    values = values.str.strip()
    missing = _is_missing(values)
    numbers = read_numbers(values.where(~missing), delimiter)
    bad = numbers.bad
    if bad.sum() * 2 >= (~missing).sum():
        return None
    described = numbers.describe(values.where(~missing))
    if described:
        notes.append(f"{column}: {described}")
    if bad.any():
        first_bad = int(np.flatnonzero(bad)[0])
        notes.append(f"{column}: {counted(int(bad.sum()), 'value')} "
                     f"{'is' if bad.sum() == 1 else 'are'} not a number (e.g. "
                     f"{values.iloc[first_bad]!r} in row {first_bad + 1}); "
                     f"{'that row is' if bad.sum() == 1 else 'those rows are'} dropped")
    return numbers


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
    notes.append(f"dropped {len(bad_rows):,} of {counted(len(frame), 'row')} with missing, "
                 f"NaN or infinite values ({'row' if len(bad_rows) == 1 else 'rows'} {shown}; "
                 f"per column {per_column})")
    return frame[usable]
