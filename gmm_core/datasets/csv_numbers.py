"""Numbers that a CSV file writes as text: decimal commas, thousands separators, percent
signs; and the dates and true/false values that are not numbers.

A column is read one way throughout: the readings are tried in a fixed order and the
first that reads every cell wins (else the one that reads most), so the note can say
how the column was read. Which readings apply depends on the delimiter: in a
comma-separated file a comma inside a (quoted) number can only group thousands; in a
semicolon-, tab- or space-separated file it is the decimal mark, as Excel and R's
write.csv2 write it in continental European locales.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

DIGITS = r"(?:\d+(?:{point}\d*)?|{point}\d+)(?:[eE][+-]?\d+)?"
# Thousands grouped by one separator used throughout (the backreference), then decimals.
GROUPED = r"[+-]?(?:\d{{1,3}}(?P<sep>{seps})\d{{3}}(?:(?P=sep)\d{{3}})*|\d+)(?:{point}\d+)?"
SPACES = "\u00a0\u202f "  # no-break and narrow no-break spaces: what Excel writes


@dataclass(frozen=True)
class Reading:
    """One way of writing numbers: what a cell looks like, and how it becomes plain."""

    description: str
    pattern: re.Pattern | None  # None: pandas' own parser (points, exponents, inf)
    decimal: str = "."
    group_separators: str = ""
    comma_files: bool = True  # applies in comma-separated files

    def plain(self, cells: pd.Series) -> pd.Series:
        """The cells rewritten as pandas reads numbers (NaN where they do not fit)."""
        if self.pattern is None:
            return cells
        fits = cells.str.fullmatch(self.pattern).fillna(False).astype(bool)
        plain = cells.where(fits)
        if self.group_separators:
            plain = plain.str.replace(f"[{re.escape(self.group_separators)}]", "", regex=True)
        if self.decimal != ".":
            plain = plain.str.replace(self.decimal, ".", regex=False)
        return plain


PLAIN = Reading("decimal points", None)
READINGS = (
    PLAIN,
    Reading("decimal commas", re.compile(r"[+-]?" + DIGITS.format(point=",")), decimal=",",
            comma_files=False),
    Reading("thousands separators", re.compile(GROUPED.format(seps=f"[,'’{SPACES}]",
                                                              point=r"\.")),
            group_separators=f",'’{SPACES}"),
    Reading("thousands separators and decimal commas",
            re.compile(GROUPED.format(seps=f"[.'’{SPACES}]", point=",")), decimal=",",
            group_separators=f".'’{SPACES}", comma_files=False),
)
PERCENT = re.compile(r"\s*%$")
DATE = re.compile(
    r"\d{4}-\d{1,2}-\d{1,2}(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?"
    r"|\d{1,2}[./-]\d{1,2}[./-]\d{2,4}(?: \d{1,2}:\d{2}(?::\d{2})?)?"
    r"|\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?")
TRUE_FALSE = frozenset({"true", "false"})
SAMPLE_CELLS = 1000


@dataclass(frozen=True)
class ColumnNumbers:
    """A text column read as numbers: NaN where a cell is missing or is no number
    (``bad`` marks the latter), how it was read, and its unit ("%" or "")."""

    values: pd.Series
    bad: pd.Series
    reading: Reading
    unit: str

    def describe(self, cells: pd.Series) -> str | None:
        """What this reading did that pandas' own would not, with an example cell from
        ``cells`` (the column as written), for the notes; None when nothing."""
        if self.reading is PLAIN and not self.unit:
            return None
        for start in range(0, len(cells), SAMPLE_CELLS):
            chunk = cells.iloc[start:start + SAMPLE_CELLS]
            changed = (self.values.iloc[start:start + SAMPLE_CELLS].notna()
                       & pd.to_numeric(chunk, errors="coerce").isna())
            if changed.any():
                example = start + int(np.flatnonzero(changed)[0])
                break
        else:
            return None
        how = [self.reading.description] * (self.reading is not PLAIN)
        how += ["percent, unit %"] * bool(self.unit)
        # Quoted by hand: repr would show a no-break space as \xa0.
        return (f"read '{cells.iloc[example]}' as {self.values.iloc[example]:g} "
                f"({'; '.join(how)})")


def read_numbers(cells: pd.Series, delimiter: str) -> ColumnNumbers:
    """``cells`` (stripped text, NaN where missing) as numbers by the reading that reads
    most of them: the first, in order, that reads all, else the one reading the most.

    The readings are tried on the first ``SAMPLE_CELLS`` present cells; only when the
    chosen one fails somewhere in the whole column are they all tried on all of it
    (parsing a million cells takes a good fraction of a second per reading).
    """
    present = cells.notna()
    unit = ""
    if present.any() and cells[present].str.contains("%", regex=False).all():
        cells, unit = cells.str.replace(PERCENT, "", regex=True), "%"
    readings = [reading for reading in READINGS if delimiter != "," or reading.comma_files]
    sample = cells[present].iloc[:SAMPLE_CELLS]
    reading, _ = _best_reading(sample, readings)
    values = pd.to_numeric(reading.plain(cells), errors="coerce")
    if values.notna().sum() < present.sum() and len(sample) < present.sum():
        reading, values = _best_reading(cells, readings)
    return ColumnNumbers(values.astype(np.float64), values.isna() & present, reading, unit)


def _best_reading(cells: pd.Series, readings: list[Reading]) -> tuple[Reading, pd.Series]:
    """The first reading that reads every present cell, else the one reading the most,
    and what it reads."""
    best = None
    for reading in readings:
        values = pd.to_numeric(reading.plain(cells), errors="coerce")
        count = int(values.notna().sum())
        if best is None or count > best[0]:
            best = (count, reading, values)
        if count == int(cells.notna().sum()):
            break
    return best[1], best[2]


def is_number(cell: str, delimiter: str) -> bool:
    """Whether one cell reads as a number (not NaN) in a file with this delimiter: the
    same readings as ``read_numbers``, without building a Series per cell."""
    cell = PERCENT.sub("", cell.strip())
    try:
        return "_" not in cell and not math.isnan(float(cell))
    except ValueError:
        return any(reading.pattern.fullmatch(cell) for reading in READINGS[1:]
                   if delimiter != "," or reading.comma_files)


def text_kind(cells: pd.Series) -> str:
    """What a column of text holds, for the note that drops it: "dates", "true/false
    values" or "text"."""
    present = cells.dropna().astype(str).str.strip()
    if present.str.lower().isin(TRUE_FALSE).all():
        return "true/false values"
    if present.str.fullmatch(DATE).all():
        return "dates"
    return "text"
