"""Counts in messages agree with their nouns: "1 usable row", "2 usable rows"."""

from __future__ import annotations

import numpy as np
import pytest

from gmm_core.__main__ import main
from gmm_core.datasets import DatasetError, load_dataset, read_csv_upload
from gmm_core.validation import validate_data
from gmm_core.wording import counted


@pytest.mark.parametrize(("count", "noun", "plural", "text"), [
    (0, "row", None, "0 rows"), (1, "row", None, "1 row"), (2, "row", None, "2 rows"),
    (1234567, "row", None, "1,234,567 rows"), (1, "spectrum", "spectra", "1 spectrum"),
    (3, "spectrum", "spectra", "3 spectra"),
])
def test_counted(count, noun, plural, text):
    assert counted(count, noun, plural) == text


def test_one_usable_row_is_one_row(capsys, tmp_path):
    path = tmp_path / "one.csv"
    path.write_bytes(b"x,y\n1,2\n3,nan\n")
    assert main(["fit", "--csv", str(path), "--k", "2"]) == 2
    assert capsys.readouterr().err == (f"error: {path} has 1 usable row; at least 2 are "
                                       "needed\n")
    with pytest.raises(DatasetError, match="has 2 usable rows; at least 3 are needed"):
        read_csv_upload(b"x\n1\n2\n", min_rows=3)


@pytest.mark.parametrize(("content", "first_note"), [
    (b"x\n1\n", "read 1 row × 1 numeric column, comma-separated"),
    (b"x;y\n1;2\n3;4\n", "read 2 rows × 2 numeric columns, semicolon-separated"),
])
def test_the_first_note_counts_rows_and_columns(content, first_note):
    assert read_csv_upload(content).notes[0] == first_note


def test_core_messages_count_in_the_singular():
    with pytest.raises(ValueError, match=r"need at least 1 row \(one per component\); got 0"):
        validate_data(np.empty((0, 2)), min_rows=1)
    with pytest.raises(ValueError, match="X has 1 feature but the model was fitted on 2"):
        validate_data([[1.0]], n_features=2)
    assert load_dataset("blobs", n_components=1).title == "Gaussian blobs (1 component, 4 σ apart)"
