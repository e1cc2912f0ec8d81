"""Files as R, pandas, Excel and numpy write them, read through ``read_csv_upload`` and
``python -m gmm_core fit --csv``: row names are never a feature by default and the notes
name them; decimal commas, thousands separators, percent signs, units rows, comment
lines and trailing empty columns are read, dates are left out with a note."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from csv_exports import EXCEL_EXPORTS, HAND_WRITTEN, R_EXPORTS, numpy_savetxt, pandas_exports

from gmm_core.__main__ import main
from gmm_core.datasets import read_csv_upload

REPO = Path(__file__).resolve().parents[1]
EXPORTS = [*R_EXPORTS, *pandas_exports(), numpy_savetxt(), *EXCEL_EXPORTS, *HAND_WRITTEN]
BY_WRITER = [pytest.param(export, id=export.writer) for export in EXPORTS]
WITH_NUMERIC_ROW_NAMES = [pytest.param(export, id=export.writer) for export in EXPORTS
                          if export.row_names]


def assert_noted(texts, notes) -> None:
    for text in texts:
        assert any(text in note for note in notes), (text, notes)


def fit_json(capsys, *args: str) -> dict:
    status = main(["fit", *args, "--k", "2", "--json"])
    out, err = capsys.readouterr()
    assert status == 0, err
    return json.loads(out)


@pytest.mark.parametrize("export", BY_WRITER)
def test_read_csv_upload_reads_the_file_as_written(export):
    dataset = read_csv_upload(export.content)
    assert dataset.default_features == export.features
    assert dataset.row_name_columns == export.row_names
    assert dataset.default_view == tuple(export.features[:2])
    assert dataset.n_samples == export.rows
    np.testing.assert_allclose(dataset.matrix(export.features)[0], export.first, rtol=1e-15)
    assert_noted(export.notes, dataset.notes)
    assert {name: dataset.features[name].unit for name in export.units} == export.units
    assert all("\n" not in note for note in dataset.notes)


@pytest.mark.parametrize("export", BY_WRITER)
def test_fit_csv_fits_the_features_and_not_the_row_names(export, capsys, tmp_path):
    path = tmp_path / "export.csv"
    path.write_bytes(export.content)
    result = fit_json(capsys, "--csv", str(path))
    assert result["columns"] == export.features
    assert result["n_samples"] == export.rows
    assert_noted(export.notes, result["notes"])


@pytest.mark.parametrize("export", WITH_NUMERIC_ROW_NAMES)
def test_row_names_can_still_be_chosen_by_name(export, capsys, tmp_path):
    path = tmp_path / "export.csv"
    path.write_bytes(export.content)
    chosen = [export.row_names[0], export.features[0]]
    result = fit_json(capsys, "--csv", str(path), "--columns", ",".join(chosen))
    assert result["columns"] == chosen
    dataset = read_csv_upload(export.content, columns=chosen)
    assert dataset.columns == chosen and dataset.row_name_columns == export.row_names[:1]


def test_the_readable_summary_names_the_row_names(capsys, tmp_path):
    path = tmp_path / "measurements.csv"
    path.write_bytes(R_EXPORTS[0].content)
    assert main(["fit", "--csv", str(path), "--k", "2"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0] == f"data: {path}: 7 rows × length, mass"
    assert ("note: read 7 rows × 2 numeric columns and row names, comma-separated"
            in out.splitlines())
    assert "note: column 1, row_names, holds row names (1, 2, 3, …" in out


@pytest.mark.parametrize(("content", "message"), [
    (b'"","name"\n"1","a"\n"2","b"\n',
     "has no numeric column besides its row names (row_names)"),
    (b'"","name"\n"Mazda RX4","a"\n"Valiant","b"\n', "has no numeric column (found:"),
    (b"x,y\n1,234.5,2\n3,4\n", "line 2 has 3 fields but the header has 2"),
    (b'x,y\n"1,5","2,5"\n"3,5","4,5"\n', "has no numeric column (found: x, y)"),
    (b"# only a comment\n# and another\n", "holds only comment lines"),
])
def test_what_cannot_be_read_is_refused_in_one_line(content, message, capsys, tmp_path):
    path = tmp_path / "refused.csv"
    path.write_bytes(content)
    assert main(["fit", "--csv", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and message in err and err.count("\n") == 1


def test_an_r_write_csv2_file_through_the_command_as_a_subprocess(tmp_path):
    path = tmp_path / "measurements.csv"
    path.write_bytes(R_EXPORTS[2].content)  # write.csv2: ";", decimal commas, "NA"
    done = subprocess.run([sys.executable, "-m", "gmm_core", "fit", "--csv", str(path),
                           "--k", "2", "--json"], cwd=REPO, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["columns"] == ["length", "mass"] and result["n_samples"] == 7
    assert_noted(["column 1, row_names, holds row names (1, 2, 3, …"], result["notes"])
