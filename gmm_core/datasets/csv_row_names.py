"""Row names in CSV files: the leading columns that name or number the rows instead of
measuring anything, so that a fit never clusters on row numbers.

R's ``write.csv``/``write.csv2`` and pandas' ``to_csv`` (``index=True``, the default)
write the row names as a first column under a blank header. R's ``write.table`` writes
no header cell for them at all, so its header is one name shorter than the rows: the
convention by which ``read.table`` and pandas' ``read_csv`` both read the first field
as row names. pandas calls a blank header ``Unnamed: 0`` and writes that name back when
such a frame is saved again. These are row names by the file's own layout.

A leading column with a name of its own is data unless the name says it identifies rows
(``id``, ``index``, ``sample_id``, …) and it holds distinct integers: a named column of
1, 2, 3, … can be a real variable. Without a header row, a first column that counts the
rows (1…n or 0…n−1, at least ``MIN_COUNTED_ROWS`` of them) is R's ``write.table(df,
col.names = FALSE)``. Columns are taken as row names by their values only while another
numeric column is left to fit.
"""

from __future__ import annotations

import numbers
import re
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

ROW_NAMES = "row_names"  # what a row-names column without a header cell is called
PANDAS_UNNAMED = re.compile(r"Unnamed: \d+(?:_level_\d+)?")
IDENTIFIER_NAME = re.compile(
    r"(?i)id|index|idx|row|rownames|obs|#|no\.?|.+[ _.-]id"
    r"|row[ _.-]?(?:id|index|idx|names?|number|num|no\.?)")
MIN_COUNTED_ROWS = 3
SHOWN_VALUES = 3

BLANK_HEADER = "its header is blank, as R's write.csv and pandas' to_csv write row names"
SHORT_HEADER = "the header has one name fewer than the rows, as R's write.table writes them"
UNNAMED_HEADER = "the name pandas gives a blank header when it reads one"


@dataclass(frozen=True)
class RowNames:
    """A column of row names, where it is, why it is one, and whether it is numeric
    (then kept, so a user can still choose it; text row names are left out)."""

    column: str
    position: int
    reason: str
    numeric: bool

    def note(self, values: pd.Series) -> str:
        shown = ", ".join(_shown(value) for value in values.iloc[:SHOWN_VALUES])
        more = ", …" if len(values) > SHOWN_VALUES else ""
        if self.numeric:
            return (f"column {self.position + 1}, {self.column}, holds row names ({shown}"
                    f"{more}: {self.reason}); it is not a feature unless chosen by name")
        return (f"column {self.position + 1} holds row names ({shown}{more}: {self.reason}); "
                "they are left out")


def _shown(value) -> str:
    return f"{value:g}" if isinstance(value, numbers.Real) else repr(str(value))


def header_reason(name: str, blank: bool) -> str | None:
    """Why a column is row names by its header cell alone, or None."""
    if blank:
        return BLANK_HEADER
    if PANDAS_UNNAMED.fullmatch(name):
        return UNNAMED_HEADER
    return None


def find_row_names(table: pd.DataFrame, by_header: Mapping[str, str],
                   numeric: Mapping[str, pd.Series], has_header: bool) -> list[RowNames]:
    """The leading columns of ``table`` that hold row names, in order.

    ``by_header`` maps the columns the header marks as row names to the reason;
    ``numeric`` holds the columns that read as numbers.
    """
    found: list[RowNames] = []
    for position, column in enumerate(table.columns):
        reason = by_header.get(column)
        others_left = any(name in numeric for name in table.columns[position + 1:])
        if reason is None and column in numeric and others_left:
            reason = _numbering(column if has_header else None, numeric[column].to_numpy())
        if reason is None:
            break
        found.append(RowNames(column, position, reason, column in numeric))
    return found


def _numbering(name: str | None, values: np.ndarray) -> str | None:
    """Why ``values`` number the rows, or None. ``name`` is the column's header cell
    (None without a header row)."""
    n = len(values)
    if name is None:
        for start in (1, 0):
            if n >= MIN_COUNTED_ROWS and np.array_equal(values, np.arange(start, start + n)):
                return f"no header, and it counts the rows from {start}"
        return None
    integers = np.isfinite(values).all() and np.array_equal(values, np.round(values))
    if IDENTIFIER_NAME.fullmatch(name.strip()) and integers and len(np.unique(values)) == n:
        return "distinct integers under a name for row identifiers"
    return None
