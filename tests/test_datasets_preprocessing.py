"""Preprocessing is applied as recorded and can be undone or replayed from its record."""

from __future__ import annotations

import numpy as np
import pytest

from gmm_core.datasets import DatasetError, Preprocessing, preprocess


@pytest.fixture
def X():
    rng = np.random.default_rng(0)
    return rng.normal([1e3, -5.0, 0.0], [50.0, 0.1, 2.0], size=(300, 3))


def test_none_leaves_data_as_it_is(X):
    Xp, record = preprocess(X, "none")
    np.testing.assert_array_equal(Xp, X)
    assert record.to_dict() == {"method": "none", "mean": [0.0] * 3, "scale": [1.0] * 3,
                                "notes": []}


def test_standardize_gives_zero_mean_unit_variance(X):
    Xp, record = preprocess(X, "standardize")
    np.testing.assert_allclose(Xp.mean(axis=0), 0, atol=1e-12)
    np.testing.assert_allclose(Xp.std(axis=0), 1)
    np.testing.assert_allclose(record.inverse(Xp), X)
    np.testing.assert_allclose(record.apply(X), Xp)


def test_fitted_parameters_map_back_to_data_units(X):
    Xp, record = preprocess(X, "standardize")
    halves = [slice(0, 150), slice(150, 300)]
    means_p = np.array([Xp[rows].mean(axis=0) for rows in halves])
    covs_p = np.array([np.cov(Xp[rows].T) for rows in halves])
    np.testing.assert_allclose(record.inverse_means(means_p),
                               [X[rows].mean(axis=0) for rows in halves])
    np.testing.assert_allclose(record.inverse_covariances(covs_p),
                               [np.cov(X[rows].T) for rows in halves])


def test_record_replays_the_same_transform(X):
    Xp, record = preprocess(X, "standardize")
    replayed = Preprocessing.from_dict(record.to_dict())
    np.testing.assert_array_equal(replayed.apply(X), Xp)


def test_constant_column_is_centred_and_reported():
    X = np.column_stack([np.arange(5.0), np.full(5, 7.0)])
    Xp, record = preprocess(X, "standardize", columns=["x", "flat"])
    np.testing.assert_array_equal(Xp[:, 1], 0.0)
    assert record.scale[1] == 1.0
    assert record.notes == ("flat is constant; it was centred but not scaled",)


@pytest.mark.parametrize(("X", "method", "message"), [
    (np.zeros((3, 2)), "minmax", "must be one of none, standardize"),
    (np.zeros(3), "standardize", "expected a 2-D array"),
])
def test_bad_requests_are_refused(X, method, message):
    with pytest.raises(DatasetError, match=message):
        preprocess(X, method)
