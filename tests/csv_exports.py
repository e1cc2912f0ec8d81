"""CSV files as real programs write them: R, pandas, Excel, numpy.

R cannot be installed on this machine (CRAN is unreachable), so the R files are written
here byte for byte from R's documented format (R 4.x, ``?write.table``):

- ``write.table(x)``: ``sep = " "``, ``quote = TRUE``, ``row.names = TRUE``,
  ``col.names = TRUE``, ``na = "NA"``, ``eol = "\\n"``. Character and factor columns and
  the row and column names are quoted; numbers, logicals (``TRUE``/``FALSE``) and ``NA``
  are not; columns with a class (dates) are written by ``as.character``, unquoted. With
  row names and ``col.names = TRUE`` the header has no cell above them: one name fewer
  than the rows.
- ``write.csv(x)``: ``sep = ","``, ``dec = "."``, ``qmethod = "double"`` and
  ``col.names = NA``: "a blank column name is added" above the row names, so the header
  starts with ``""``.
- ``write.csv2(x)``: the same with ``sep = ";"`` and ``dec = ","`` ("the Excel convention
  for CSV files in some Western European locales").
- Numbers: "real and complex numbers are written to the maximal possible precision", 15
  significant digits, each value on its own: ``1/3`` is ``0.333333333333333``, ``5.0`` is
  ``5``, and fixed or scientific by R's width rule (``scipen = 0``), so ``1e-05`` and
  ``1e+05`` (shorter than ``0.00001`` and ``100000``).
- Row names: ``"1"`` … ``"n"`` for a new data frame, the original numbers for a subset
  (``iris[c(1, 51), ]`` keeps ``"1"``, ``"51"``), or text (``mtcars``).
- On Windows the same text goes through a text-mode connection, so lines end in CRLF.

pandas, numpy's ``savetxt`` run for real (the pinned versions). Excel cannot run here
either: its files are written by hand from what Excel 365 saves (CRLF; "CSV UTF-8" with
a UTF-8 byte-order mark; plain "CSV" in the system's ANSI code page, Windows-1252 in
Western Europe, with the locale's list separator and decimal mark; cells as displayed,
so thousands separators, percent signs and dates appear as formatted).
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class CsvExport:
    """A file's bytes and what reading it must give: the default features, the numeric
    row-name columns kept beside them, the usable rows, the first usable row of the
    features, texts each found in some note, and units."""

    writer: str
    content: bytes
    features: list[str]
    rows: int
    first: list[float]
    row_names: tuple[str, ...] = ()
    notes: list[str] = field(default_factory=list)
    units: dict[str, str] = field(default_factory=dict)


# ---------------------------------------------------------------------------- R
# measurements <- data.frame(
#   length = c(5.1, 4.9, NA, 6.3, 5.8, 7.1, 6.5, 5.0),
#   mass = c(1/3, 2.5, 3.25, 1e-05, 100000, 4, 0.1 + 0.2, 12),
#   species = c("setosa", "setosa", NA, "virginica", "virginica", "virginica",
#               "versicolor", "setosa"),
#   ok = c(TRUE, FALSE, TRUE, TRUE, NA, FALSE, TRUE, TRUE))
R_WRITE_CSV = (
    b'"","length","mass","species","ok"\n'
    b'"1",5.1,0.333333333333333,"setosa",TRUE\n'
    b'"2",4.9,2.5,"setosa",FALSE\n'
    b'"3",NA,3.25,NA,TRUE\n'
    b'"4",6.3,1e-05,"virginica",TRUE\n'
    b'"5",5.8,1e+05,"virginica",NA\n'
    b'"6",7.1,4,"virginica",FALSE\n'
    b'"7",6.5,0.3,"versicolor",TRUE\n'
    b'"8",5,12,"setosa",TRUE\n'
)
R_WRITE_CSV2 = (
    b'"";"length";"mass";"species";"ok"\n'
    b'"1";5,1;0,333333333333333;"setosa";TRUE\n'
    b'"2";4,9;2,5;"setosa";FALSE\n'
    b'"3";NA;3,25;NA;TRUE\n'
    b'"4";6,3;1e-05;"virginica";TRUE\n'
    b'"5";5,8;1e+05;"virginica";NA\n'
    b'"6";7,1;4;"virginica";FALSE\n'
    b'"7";6,5;0,3;"versicolor";TRUE\n'
    b'"8";5;12;"setosa";TRUE\n'
)
R_WRITE_TABLE = (
    b'"length" "mass" "species" "ok"\n'
    b'"1" 5.1 0.333333333333333 "setosa" TRUE\n'
    b'"2" 4.9 2.5 "setosa" FALSE\n'
    b'"3" NA 3.25 NA TRUE\n'
    b'"4" 6.3 1e-05 "virginica" TRUE\n'
    b'"5" 5.8 1e+05 "virginica" NA\n'
    b'"6" 7.1 4 "virginica" FALSE\n'
    b'"7" 6.5 0.3 "versicolor" TRUE\n'
    b'"8" 5 12 "setosa" TRUE\n'
)
# write.csv(mtcars[1:6, c("mpg", "disp", "wt")])
R_MTCARS_CSV = (
    b'"","mpg","disp","wt"\n'
    b'"Mazda RX4",21,160,2.62\n'
    b'"Mazda RX4 Wag",21,160,2.875\n'
    b'"Datsun 710",22.8,108,2.32\n'
    b'"Hornet 4 Drive",21.4,258,3.215\n'
    b'"Hornet Sportabout",18.7,360,3.44\n'
    b'"Valiant",18.1,225,3.46\n'
)
# write.table(mtcars[1:6, c("mpg", "disp", "wt")])
R_MTCARS_TABLE = (
    b'"mpg" "disp" "wt"\n'
    b'"Mazda RX4" 21 160 2.62\n'
    b'"Mazda RX4 Wag" 21 160 2.875\n'
    b'"Datsun 710" 22.8 108 2.32\n'
    b'"Hornet 4 Drive" 21.4 258 3.215\n'
    b'"Hornet Sportabout" 18.7 360 3.44\n'
    b'"Valiant" 18.1 225 3.46\n'
)
# write.csv(iris[c(1, 2, 51, 52, 101, 102), 1:2]): a subset keeps its row numbers
R_IRIS_SUBSET_CSV = (
    b'"","Sepal.Length","Sepal.Width"\n'
    b'"1",5.1,3.5\n'
    b'"2",4.9,3\n'
    b'"51",7,3.2\n'
    b'"52",6.4,3.2\n'
    b'"101",6.3,3.3\n'
    b'"102",5.8,2.7\n'
)
# write.csv(data.frame(day = as.Date("2024-01-29") + 0:5,
#                      x = c(1.5, Inf, NaN, 2.5, -Inf, 3), y = c(2, 4, 6, 8, 10, 12)))
R_DATES_INF_CSV = (
    b'"","day","x","y"\n'
    b'"1",2024-01-29,1.5,2\n'
    b'"2",2024-01-30,Inf,4\n'
    b'"3",2024-01-31,NaN,6\n'
    b'"4",2024-02-01,2.5,8\n'
    b'"5",2024-02-02,-Inf,10\n'
    b'"6",2024-02-03,3,12\n'
)

R_EXPORTS = [
    CsvExport("R write.csv", R_WRITE_CSV, ["length", "mass"], 7, [5.1, 0.333333333333333],
              ("row_names",), ["column 1, row_names, holds row names (1, 2, 3, …",
                               "its header is blank", "dropped 1 of 8 rows",
                               "species (text such as 'setosa')", "ok (true/false values)"]),
    CsvExport("R write.csv on Windows (CRLF)", R_WRITE_CSV.replace(b"\n", b"\r\n"),
              ["length", "mass"], 7, [5.1, 0.333333333333333], ("row_names",),
              ["holds row names (1, 2, 3, …"]),
    CsvExport("R write.csv2", R_WRITE_CSV2, ["length", "mass"], 7, [5.1, 0.333333333333333],
              ("row_names",), ["holds row names (1, 2, 3, …", "semicolon-separated",
                               "mass: read '0,333333333333333' as 0.333333 (decimal commas)"]),
    CsvExport("R write.table", R_WRITE_TABLE, ["length", "mass"], 7,
              [5.1, 0.333333333333333], ("row_names",),
              ["space-separated", "holds row names (1, 2, 3, …",
               "the header has one name fewer than the rows"]),
    CsvExport("R write.csv, text row names", R_MTCARS_CSV, ["mpg", "disp", "wt"], 6,
              [21, 160, 2.62], (),
              ["column 1 holds row names ('Mazda RX4', 'Mazda RX4 Wag', 'Datsun 710', …",
               "they are left out"]),
    CsvExport("R write.table, text row names", R_MTCARS_TABLE, ["mpg", "disp", "wt"], 6,
              [21, 160, 2.62], (), ["column 1 holds row names ('Mazda RX4'"]),
    CsvExport("R write.csv of a subset", R_IRIS_SUBSET_CSV, ["Sepal.Length", "Sepal.Width"],
              6, [5.1, 3.5], ("row_names",), ["holds row names (1, 2, 51, …"]),
    CsvExport("R write.csv with dates, Inf and NaN", R_DATES_INF_CSV, ["x", "y"], 3, [1.5, 2],
              ("row_names",), ["day (dates such as '2024-01-29')", "dropped 3 of 6 rows"]),
]


# ---------------------------------------------------------------------------- pandas
def measurements() -> pd.DataFrame:
    """The frame the pandas files are written from: floats with a gap, text, true/false,
    dates."""
    return pd.DataFrame({
        "length": [5.1, 4.9, np.nan, 6.3, 5.8, 7.1, 6.5, 5.0],
        "mass": [1 / 3, 2.5, 3.25, 1e-05, 100000.0, 4.0, 0.1 + 0.2, 12.0],
        "species": ["setosa", "setosa", "virginica", "virginica", "virginica", "virginica",
                    "versicolor", "setosa"],
        "ok": [True, False, True, True, False, False, True, True],
        "day": pd.date_range("2024-01-29", periods=8),
    })


def _csv(frame: pd.DataFrame, **options) -> bytes:
    return frame.to_csv(**options).encode()


def pandas_exports() -> list[CsvExport]:
    frame = measurements()
    first = [5.1, 1 / 3]
    common = ["species (text such as 'setosa')", "ok (true/false values)",
              "day (dates such as '2024-01-29')"]
    reexported = pd.read_csv(io.StringIO(frame.to_csv())).to_csv().encode()
    labelled = frame.set_index(pd.Index([f"s{i}" for i in range(8)]))
    two_levels = frame.set_index([pd.Index(list("aabbccdd")), pd.RangeIndex(8)])
    return [
        CsvExport("pandas to_csv()", _csv(frame), ["length", "mass"], 7, first,
                  ("row_names",), ["holds row names (0, 1, 2, …", "its header is blank",
                                   *common]),
        CsvExport("pandas to_csv(index=False)", _csv(frame, index=False), ["length", "mass"], 7,
                  first, (), common),
        CsvExport("pandas to_csv() with a named index", _csv(frame.rename_axis("id")),
                  ["length", "mass"], 7, first, ("id",),
                  ["column 1, id, holds row names (0, 1, 2, …",
                   "distinct integers under a name for row identifiers"]),
        CsvExport("pandas to_csv() with an index named sample_id",
                  _csv(frame.set_index(pd.Index(range(100, 108), name="sample_id"))),
                  ["length", "mass"], 7, first, ("sample_id",), ["holds row names (100, 101"]),
        CsvExport("pandas to_csv() of a filtered frame", _csv(frame[frame["mass"] > 1]),
                  ["length", "mass"], 4, [4.9, 2.5], ("row_names",),
                  ["holds row names (1, 2, 4, …"]),
        CsvExport("pandas to_csv() of a concatenation (repeated index)",
                  _csv(pd.concat([frame, frame])), ["length", "mass"], 14, first,
                  ("row_names",), ["holds row names (0, 1, 2, …"]),
        CsvExport("pandas to_csv() of a frame read back from to_csv()", reexported,
                  ["length", "mass"], 7, first, ("row_names", "Unnamed: 0"),
                  ["column 2, Unnamed: 0, holds row names",
                   "the name pandas gives a blank header"]),
        CsvExport("pandas to_csv() with a text index", _csv(labelled), ["length", "mass"], 7,
                  first, (), ["column 1 holds row names ('s0', 's1', 's2', …"]),
        CsvExport("pandas to_csv() with a two-level index", _csv(two_levels),
                  ["length", "mass"], 7, first, ("row_names_2",),
                  ["column 1 holds row names ('a', 'a', 'b', …",
                   "column 2, row_names_2, holds row names (0, 1, 2, …"]),
        CsvExport("pandas to_csv(sep=';', decimal=',')", _csv(frame, sep=";", decimal=","),
                  ["length", "mass"], 7, first, ("row_names",),
                  ["semicolon-separated", "(decimal commas)", "holds row names (0, 1, 2"]),
        CsvExport("pandas to_csv(float_format='%.3f')", _csv(frame, float_format="%.3f"),
                  ["length", "mass"], 7, [5.1, 0.333], ("row_names",),
                  ["holds row names (0, 1, 2"]),
        CsvExport("pandas to_csv(sep=';', decimal=',', float_format='%.2e')",
                  _csv(frame, sep=";", decimal=",", float_format="%.2e"), ["length", "mass"], 7,
                  [5.1, 0.333], ("row_names",), ["(decimal commas)"]),
        CsvExport("pandas to_csv(index=False) with a named column counting 1…n",
                  _csv(frame.assign(t=np.arange(1, 9))[["t", "length", "mass"]], index=False),
                  ["t", "length", "mass"], 7, [1, 5.1, 1 / 3], ()),
    ]


def numpy_savetxt() -> CsvExport:
    """``np.savetxt(..., header=...)``: the names in a ``#`` comment above headerless data."""
    buffer = io.StringIO()
    X = np.array([[1.0, 2.5], [2.0, 3.5], [3.5, 1.25], [4.0, 0.5]])
    np.savetxt(buffer, X, header="x y")
    return CsvExport("numpy savetxt(header='x y')", buffer.getvalue().encode(), ["x", "y"], 4,
                     [1.0, 2.5], (), ["took the column names from the comment line '# x y'",
                                      "space-separated"])


# ---------------------------------------------------------------------------- Excel
EXCEL_UTF8_EN_US = (
    "\ufeffsample,width,height,share,measured\r\n"
    'A1,"1,234.5",12.5,12.50%,1/31/2024\r\n'
    "A2,987.25,13,7.25%,2/1/2024\r\n"
    'A3,"2,001.75",11.75,80.25%,2/2/2024\r\n'
    'A4,"1,500",12,0.00%,2/3/2024\r\n'
).encode("utf-8")
EXCEL_DE_DE = (
    "Probe;Größe;Gewicht €;Anteil;Datum\r\n"
    "A1;1.234,5;12,5;12,50%;31.01.2024\r\n"
    "A2;987,25;13;7,25%;01.02.2024\r\n"
    "A3;2.001,75;11,75;80,25%;02.02.2024\r\n"
    "A4;1.500;12;0,00%;03.02.2024\r\n"
).encode("cp1252")
EXCEL_FR_FR = (
    "Échantillon;Largeur;Hauteur\r\n"
    "A1;1\u00a0234,5;12,5\r\n"
    "A2;987,25;13\r\n"
    "A3;2\u00a0001,75;11,75\r\n"
).encode("cp1252")
EXCEL_TRAILING = b"x,y,,\r\n1,2,,\r\n3,4,,\r\n5,6,,\r\n,,,\r\n,,,\r\n"

EXCEL_EXPORTS = [
    CsvExport("Excel CSV UTF-8 (en-US)", EXCEL_UTF8_EN_US, ["width", "height", "share"], 4,
              [1234.5, 12.5, 12.5], (),
              ["width: read '1,234.5' as 1234.5 (thousands separators)",
               "share: read '12.50%' as 12.5 (percent, unit %)",
               "measured (dates such as '1/31/2024')", "sample (text such as 'A1')"],
              {"share": "%"}),
    CsvExport("Excel CSV (de-DE, Windows-1252)", EXCEL_DE_DE, ["Größe", "Gewicht €", "Anteil"],
              4, [1234.5, 12.5, 12.5], (),
              ["Windows-1252", "semicolon-separated",
               "Größe: read '1.234,5' as 1234.5 (thousands separators and decimal commas)",
               "Anteil: read '12,50%' as 12.5 (decimal commas; percent, unit %)",
               "Datum (dates such as '31.01.2024')"], {"Anteil": "%"}),
    CsvExport("Excel CSV (fr-FR, no-break space thousands)", EXCEL_FR_FR,
              ["Largeur", "Hauteur"], 3, [1234.5, 12.5], (),
              ["Largeur: read '1\u00a0234,5' as 1234.5 (thousands separators and decimal "
               "commas)", "Échantillon (text"]),
    CsvExport("Excel CSV with trailing empty columns and rows", EXCEL_TRAILING, ["x", "y"], 3,
              [1, 2], (), ["ignored 2 empty columns without a name at the end",
                           "skipped 2 empty rows"]),
]


# ---------------------------------------------------------------------------- by hand
HAND_WRITTEN = [
    CsvExport("units row under the header", b"length,mass\nmm,kg\n1.2,3.4\n2.5,4.5\n3.1,5.0\n",
              ["length", "mass"], 3, [1.2, 3.4], (), ["line 2 holds units (mm, kg)"],
              {"length": "mm", "mass": "kg"}),
    CsvExport("units row in brackets, one column without", b"id,length,mass\n,[mm],(kg)\n"
              b"1,1.2,3.4\n2,2.5,4.5\n3,3.1,5.0\n", ["length", "mass"], 3, [1.2, 3.4], ("id",),
              ["line 2 holds units ([mm], (kg))", "column 1, id, holds row names"],
              {"length": "mm", "mass": "kg"}),
    CsvExport("comment lines above the header", b"# spectrograph 2, night of 2024-01-31\n"
              b"# units: mm\nx,y\n1,2\n3,4\n5,6\n", ["x", "y"], 3, [1, 2], (),
              ["skipped 2 comment lines (starting with #) above the data"]),
    CsvExport("headerless, first column counts the rows (write.table col.names=FALSE)",
              b"1 5.1 3.5\n2 4.9 3\n3 4.7 3.2\n4 4.6 3.1\n", ["column_2", "column_3"], 4,
              [5.1, 3.5], ("column_1",), ["no header, and it counts the rows from 1"]),
    CsvExport("space-grouped thousands with decimal points", b"x;y\n1 234.5;2\n987.25;3\n",
              ["x", "y"], 2, [1234.5, 2], (), ["(thousands separators)"]),
]
