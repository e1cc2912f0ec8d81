"""The one preparation of a fit's matrix, shared by the CLI and the dashboard
(gmm_core.datasets.prepare_features)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from gmm_core.datasets import Dataset, DatasetError, FeatureInfo, prepare_features


def dataset(values, dtype=np.float64) -> Dataset:
    frame = pd.DataFrame(np.asarray(values, dtype=dtype), columns=["a", "b", "c"])
    return Dataset("small", "Small", frame, {n: FeatureInfo(n, n.upper()) for n in "abc"},
                   ("a", "b"), notes=["loaded from a test"])


def test_rows_with_nan_or_inf_in_the_chosen_columns_are_dropped_and_counted():
    data = dataset([[1, 2, np.nan], [np.inf, 1, 0], [3, 4, 5], [5, np.nan, 6]])
    prepared = prepare_features(data, ["a", "b"])
    np.testing.assert_array_equal(prepared.X, [[1, 2], [3, 4]])
    assert prepared.columns == ("a", "b")
    assert prepared.notes == ("loaded from a test",
                              "dropped 2 of 4 rows with NaN or infinite values in a, b")
    assert data.notes == ["loaded from a test"]  # the (cached) data set is not changed
    assert prepared.preprocessing.method == "none"


def test_unscaled_data_keeps_its_dtype_and_standardized_data_is_float64():
    data = dataset(np.arange(12).reshape(4, 3), dtype=np.float32)
    assert prepare_features(data, ["c", "a"]).X.dtype == np.float32
    prepared = prepare_features(data, ["c", "a"], "standardize")
    assert prepared.X.dtype == np.float64
    np.testing.assert_allclose(prepared.X.mean(axis=0), 0.0, atol=1e-12)
    np.testing.assert_allclose(prepared.X.std(axis=0), 1.0)
    np.testing.assert_allclose(prepared.preprocessing.mean, [6.5, 4.5])
    np.testing.assert_allclose(prepared.preprocessing.apply(data.matrix(["c", "a"])),
                               prepared.X)


def test_a_constant_column_is_reported_in_the_notes():
    prepared = prepare_features(dataset([[1, 5, 0], [2, 5, 0]]), ["a", "b"], "standardize")
    assert prepared.notes[-1] == "b is constant; it was centred but not scaled"


@pytest.mark.parametrize(("columns", "method", "message"), [
    (["a", "zz"], "none", "unknown column 'zz'"),
    (["a", "a"], "none", "listed twice"),
    ([], "none", "choose at least one column"),
    (["c"], "none", "every row of c has a NaN or infinite value"),
    (["a"], "whiten", "preprocessing must be one of none, standardize"),
])
def test_bad_choices_are_refused_in_one_line(columns, method, message):
    with pytest.raises(DatasetError, match=message):
        prepare_features(dataset([[1, 2, np.nan], [3, 4, np.inf]]), columns, method)
