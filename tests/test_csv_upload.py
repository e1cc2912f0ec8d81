"""CSV uploads: awkward files are read with every change reported, bad ones refused."""

from __future__ import annotations

import numpy as np
import pytest

from gmm_core.datasets import CsvLimits, DatasetError, read_csv_upload

PNG_HEADER = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x01\x00"

# (id, file content, keyword arguments, expected outcome)
#   refused: {"error": text in the message}
#   read:    {"columns": [default features], "rows": n, "notes": [texts each in some note],
#             "first": row of the default features, "row_names": (row-name columns kept)}
CASES = [
    ("empty", b"", {}, {"error": "is empty"}),
    ("blank lines only", b"\n \r\n\t\n", {}, {"error": "is empty"}),
    ("binary (PNG)", PNG_HEADER * 20, {}, {"error": "looks binary"}),
    ("header without data", b"x,y\n", {}, {"error": "header row but no data rows"}),
    ("text only", b"name,city\nann,paris\nbob,rome\n", {}, {"error": "no numeric column"}),
    ("every row has a gap", b"x,y\nnan,1\n2,inf\n,3\n", {},
     {"error": "no usable rows"}),
    ("fewer usable rows than k", b"x,y\n1,2\n3,4\n", {"min_rows": 3},
     {"error": "2 usable rows; at least 3"}),
    ("over the byte cap", b"x,y\n" + b"1.0,2.0\n" * 30, {"limits": CsvLimits(max_bytes=100)},
     {"error": "is 244 bytes; uploads are limited to 100 bytes"}),
    ("over the row cap", b"x,y\n" + b"1,2\n" * 10, {"limits": CsvLimits(max_rows=5)},
     {"error": "more than 5 data rows"}),
    ("over the column cap", b"a,b,c,d\n1,2,3,4\n", {"limits": CsvLimits(max_columns=3)},
     {"error": "4 columns; the limit is 3"}),
    ("ragged line", b"x,y\n1,2\n3,4,5\n6,7\n", {}, {"error": "line 3 has 3 fields"}),
    ("one more field than names: row names", b"x,y\n1,2,9\n3,4,8\n", {},
     {"columns": ["x", "y"], "row_names": ("row_names",), "rows": 2,
      "notes": ["row names (1, 3: the header has one name fewer"], "first": [2, 9]}),
    ("two more fields than names", b"x,y\n1,2,9,7\n3,4,8,6\n", {},
     {"error": "line 2 has 4 fields but the header has 2"}),
    ("trailing delimiters", b"x,y\n1,2,\n3,4,\n", {},
     {"columns": ["x", "y"], "rows": 2, "notes": ["trailing delimiters"], "first": [1, 2]}),
    ("text column chosen", b"name,x\na,1\nb,2\n", {"columns": ["name"]},
     {"error": "'name' is not numeric"}),
    ("a column chosen twice", b"x,y\n1,2\n3,4\n", {"columns": ["x", "x"]},
     {"error": "a column is listed twice: x, x"}),
    ("unknown column chosen", b"x,y\n1,2\n3,4\n", {"columns": ["z"]},
     {"error": "'z' does not exist"}),
    ("comma with header", b"x,y\n1,2\n3,4\n5,6\n", {},
     {"columns": ["x", "y"], "rows": 3, "notes": ["comma-separated"], "first": [1, 2]}),
    ("semicolon", b"x;y\n1;2\n3;4\n", {},
     {"columns": ["x", "y"], "rows": 2, "notes": ["semicolon-separated"], "first": [1, 2]}),
    ("tab", b"x\ty\n1\t2\n3\t4\n", {},
     {"columns": ["x", "y"], "rows": 2, "notes": ["tab-separated"], "first": [1, 2]}),
    ("UTF-8 BOM and CRLF", b"\xef\xbb\xbfx,y\r\n1,2\r\n3,4\r\n", {},
     {"columns": ["x", "y"], "rows": 2, "first": [1, 2]}),
    ("old Mac CR line ends", b"x,y\r1,2\r3,4\r", {},
     {"columns": ["x", "y"], "rows": 2, "first": [1, 2]}),
    ("no header row", b"1,2\n3,4\n5,6\n", {},
     {"columns": ["column_1", "column_2"], "rows": 3, "notes": ["no header row"],
      "first": [1, 2]}),
    ("text column dropped", b"name,x,y\na,1,2\nb,3,4\n", {},
     {"columns": ["x", "y"], "rows": 2, "notes": ["dropped non-numeric column(s): name"]}),
    ("true/false column dropped", b"flag,x\nTrue,1\nFalse,2\n", {},
     {"columns": ["x"], "rows": 2, "notes": ["flag (true/false values)"]}),
    ("empty column dropped", b"x,gap,y\n1,,2\n3,,4\n", {},
     {"columns": ["x", "y"], "rows": 2, "notes": ["gap (empty)"]}),
    ("NaN, inf and blanks", b"x,y\n1,2\nnan,3\n4,inf\n5,\n6,7\n-inf,8\n", {},
     {"columns": ["x", "y"], "rows": 2,
      "notes": ["dropped 4 of 6 rows", "rows 2, 3, 4, 6", "x: 2, y: 2"]}),
    ("NA tokens", b"x,y\n1,NA\n2,3\n4,null\n5,6\n7,N/A\n", {},
     {"columns": ["x", "y"], "rows": 2, "notes": ["dropped 3 of 5 rows"]}),
    ("quoted NA and Excel errors", b'x;y\n1;"NA"\n2;3,5\n4;#DIV/0!\n6;7\n', {},
     {"columns": ["x", "y"], "rows": 2, "notes": ["dropped 2 of 4 rows", "decimal commas"],
      "first": [2, 3.5]}),
    ("short row", b"x,y\n1,2\n3\n5,6\n", {},
     {"columns": ["x", "y"], "rows": 2, "notes": ["dropped 1 of 3 rows"]}),
    ("a typo in a numeric column", b"x,y\n1,2\n3,abc\n5,6\n7,8\n", {},
     {"columns": ["x", "y"], "rows": 3, "notes": ["'abc' in row 2", "dropped 1 of 4 rows"]}),
    ("decimal commas", b"x;y\n1,5;2,25\n3;4,75\n", {},
     {"columns": ["x", "y"], "rows": 2, "notes": ["decimal commas"], "first": [1.5, 2.25]}),
    ("repeated names", b"x,x\n1,2\n3,4\n", {},
     {"columns": ["x", "x_2"], "rows": 2, "notes": ["renamed 'x_2'"]}),
    ("pandas row index", b",x,y\n0,1,2\n1,3,4\n2,5,6\n", {},
     {"columns": ["x", "y"], "row_names": ("row_names",), "rows": 3,
      "notes": ["row names (0, 1, 2: its header is blank"], "first": [1, 2]}),
    ("quoted delimiter in text", b'label,x\n"a,b",1\n"c,d",2\n', {},
     {"columns": ["x"], "rows": 2, "notes": ["label"]}),
    ("spaces around values", b" x , y \n 1 , 2 \n3 ,4\n", {},
     {"columns": ["x", "y"], "rows": 2, "first": [1, 2]}),
    ("Latin-1 text", "température,x\n1,2\n3,4\n".encode("latin-1"), {},
     {"columns": ["température", "x"], "rows": 2, "notes": ["Windows-1252"]}),
    ("UTF-16 with BOM", "x,y\n1,2\n3,4\n".encode("utf-16"), {},
     {"columns": ["x", "y"], "rows": 2, "notes": ["UTF-16"], "first": [1, 2]}),
    ("single column", b"x\n1\n2\n3\n", {},
     {"columns": ["x"], "rows": 3, "first": [1]}),
    ("gap outside the chosen columns", b"x,y\n1,\n2,3\n4,5\n", {"columns": ["x"]},
     {"columns": ["x"], "rows": 3, "first": [1]}),
    ("exponents and signs", b"x,y\n1e3,-2.5E-1\n+3,.5\n", {},
     {"columns": ["x", "y"], "rows": 2, "first": [1000, -0.25]}),
]


@pytest.mark.parametrize(("content", "kwargs", "expected"),
                         [pytest.param(c, k, e, id=name) for name, c, k, e in CASES])
def test_csv_input(content, kwargs, expected):
    if "error" in expected:
        with pytest.raises(DatasetError) as caught:
            read_csv_upload(content, **kwargs)
        message = str(caught.value)
        assert expected["error"] in message
        assert "\n" not in message
        return
    dataset = read_csv_upload(content, **kwargs)
    assert dataset.default_features == expected["columns"]
    assert dataset.row_name_columns == expected.get("row_names", ())
    assert dataset.n_samples == expected["rows"]
    for text in expected.get("notes", []):
        assert any(text in note for note in dataset.notes), (text, dataset.notes)
    if "first" in expected:
        np.testing.assert_allclose(dataset.matrix(expected["columns"])[0], expected["first"])
    assert np.isfinite(dataset.matrix(dataset.columns)).all()
    assert dataset.default_view == tuple(expected["columns"][:2])


def test_at_least_fifteen_awkward_inputs():
    assert len(CASES) >= 15


def test_reads_a_path_and_names_it(tmp_path):
    path = tmp_path / "points.csv"
    path.write_bytes(b"x,y\n1,2\n3,4\n")
    dataset = read_csv_upload(path)
    assert dataset.title == str(path)
    assert read_csv_upload(str(path)).fingerprint == dataset.fingerprint


@pytest.mark.parametrize(("make", "message"), [
    (lambda tmp: tmp / "absent.csv", "file not found"),
    (lambda tmp: tmp, "is not a file"),
])
def test_refuses_paths_that_are_not_files(tmp_path, make, message):
    with pytest.raises(DatasetError, match=message):
        read_csv_upload(make(tmp_path))


def test_byte_cap_is_checked_before_reading_a_file(tmp_path):
    path = tmp_path / "big.csv"
    path.write_bytes(b"x\n" + b"1\n" * 1000)
    with pytest.raises(DatasetError, match="limited to"):
        read_csv_upload(path, limits=CsvLimits(max_bytes=1000))


def test_fingerprint_depends_on_values_not_on_formatting():
    comma = read_csv_upload(b"x,y\n1,2\n3,4\n")
    semicolon = read_csv_upload(b"x;y\r\n1;2\r\n3;4\r\n")
    changed = read_csv_upload(b"x,y\n1,2\n3,5\n")
    assert comma.fingerprint == semicolon.fingerprint
    assert comma.fingerprint != changed.fingerprint


def test_first_note_summarises_what_was_read():
    dataset = read_csv_upload(b"a;b;c\n1;2;3\n")
    assert dataset.notes[0] == "read 1 row × 3 numeric columns, semicolon-separated"


def test_a_column_is_read_one_way_even_when_its_first_thousand_cells_say_less():
    # The readings are chosen on a sample; a later cell that only another one reads
    # makes the whole column be read again by that one.
    dataset = read_csv_upload(b"x;y\n" + b"1;2\n" * 1500 + b"1,5;2\n")
    assert dataset.n_samples == 1501
    assert dataset.frame["x"].iloc[-1] == 1.5
    assert any("x: read '1,5' as 1.5 (decimal commas)" in note for note in dataset.notes)


@pytest.mark.parametrize(("name", "row_names"), [
    ("id", True), ("ID", True), ("sample_id", True), ("Row Number", True), ("No.", True),
    ("index", True), ("number", False), ("count", False), ("t", False), ("acid", False),
])
def test_a_named_first_column_of_distinct_integers_is_row_names_only_by_its_name(
        name, row_names):
    dataset = read_csv_upload(f"{name},x\n12,1.5\n7,2.5\n30,0.5\n".encode())
    assert dataset.row_name_columns == ((name,) if row_names else ())
    assert dataset.columns == [name, "x"]  # kept either way: it can be chosen


def test_each_row_keeps_its_number_in_the_file_so_dropped_rows_are_gaps():
    dataset = read_csv_upload(b"a,b\n1,2\n3,\n5,6\nNA,8\n9,10\n")
    assert dataset.row_numbers.tolist() == [1, 3, 5]
    assert "(rows 2, 4;" in " ".join(dataset.notes)
    assert read_csv_upload(b"a,b\n1,2\n3,4\n").row_numbers.tolist() == [1, 2]
