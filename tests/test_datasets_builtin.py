"""Built-in data sets: the synthetic mixtures reproduce their stated truth."""

from __future__ import annotations

import numpy as np
import pytest

from gmm_core.datasets import DatasetError, load_dataset


def _per_component(dataset):
    truth = dataset.known_labels["truth"].to_numpy()
    X = dataset.matrix(["x", "y"])
    return {name: X[truth == name] for name in sorted(set(truth))}


@pytest.mark.parametrize("k", [1, 2, 3, 5])
def test_blobs_have_equal_components_at_the_stated_separation(k):
    dataset = load_dataset("blobs", n_components=k, separation=5.0, n_samples=200 * k)
    centres = dataset.extras["true_means"]
    assert centres.shape == (k, 2)
    if k > 1:
        neighbours = np.linalg.norm(centres - np.roll(centres, 1, axis=0), axis=1)
        np.testing.assert_allclose(neighbours, 5.0)
    groups = _per_component(dataset)
    assert [len(rows) for rows in groups.values()] == [200] * k
    for j, rows in enumerate(groups.values()):
        # 200 unit-variance points: the sample mean is within 4/sqrt(200) of the truth
        assert np.linalg.norm(rows.mean(axis=0) - centres[j]) < 4 / np.sqrt(200)
        np.testing.assert_allclose(rows.std(axis=0), 1.0, atol=0.2)


def test_blobs_are_reproducible_per_seed():
    first = load_dataset("blobs", seed=7).frame
    assert first.equals(load_dataset("blobs", seed=7).frame)
    assert not first.equals(load_dataset("blobs", seed=8).frame)


@pytest.mark.parametrize(("params", "message"), [
    ({"n_components": 0}, "n_components must be 1 to 50"),
    ({"separation": -1.0}, "separation must be zero or positive"),
    ({"n_components": 5, "n_samples": 3}, "n_samples must be at least n_components"),
])
def test_blobs_refuse_impossible_parameters(params, message):
    with pytest.raises(DatasetError, match=message):
        load_dataset("blobs", **params)


def test_fig69_mixture_matches_the_textbook_components():
    dataset = load_dataset("astroml_fig69", n_samples=6000, seed=3)
    assert dataset.n_samples == 6000
    means = np.array([[50, 50], [40, 40], [80, 80], [60, 60]])
    sigmas = np.array([20, 10, 5, 30])
    weights = np.array([0.1, 0.6, 0.2, 0.1])
    np.testing.assert_array_equal(dataset.extras["true_means"], means)
    np.testing.assert_allclose(dataset.extras["true_covariances"],
                               [np.eye(2) * s**2 for s in sigmas], atol=1e-9)
    groups = list(_per_component(dataset).values())
    fractions = np.array([len(rows) for rows in groups]) / 6000
    # binomial standard error of a fraction is at most 0.5 / sqrt(6000) ≈ 0.0065
    np.testing.assert_allclose(fractions, weights, atol=0.03)
    for rows, mean, sigma in zip(groups, means, sigmas, strict=True):
        assert np.linalg.norm(rows.mean(axis=0) - mean) < 5 * sigma / np.sqrt(len(rows))
        np.testing.assert_allclose(rows.std(axis=0), sigma, rtol=0.15)


def test_fig69_sample_size_is_selectable():
    assert load_dataset("astroml_fig69", n_samples=50).n_samples == 50
    assert "N = 50" in load_dataset("astroml_fig69", n_samples=50).title
    with pytest.raises(DatasetError, match="n_samples must be at least 4"):
        load_dataset("astroml_fig69", n_samples=3)


def test_iris_is_the_real_table():
    dataset = load_dataset("iris")
    assert dataset.frame.shape == (150, 4)
    assert dataset.known_labels["species"].value_counts().to_dict() == {
        "setosa": 50, "versicolor": 50, "virginica": 50}
    assert dataset.default_view == ("petal_length", "petal_width")
    assert dataset.features["petal_length"].axis_title == "petal length [cm]"
    np.testing.assert_allclose(dataset.matrix(["sepal_length"])[:2, 0], [5.1, 4.9])


def test_wine_is_the_real_table_with_features_on_very_different_scales():
    dataset = load_dataset("wine")
    assert dataset.frame.shape == (178, 13)
    assert dataset.known_labels["cultivar"].value_counts().sort_index().tolist() == [59, 71, 48]
    assert dataset.default_view == ("proline", "hue")
    assert dataset.features["od280_od315"].label == "OD280/OD315 of diluted wines"
    spreads = dataset.frame.std()
    assert spreads["proline"] > 1000 * spreads["hue"]  # hundreds against tenths
    np.testing.assert_allclose(dataset.matrix(["alcohol", "proline"])[0], [14.23, 1065.0])


def test_the_zero_spike_holds_exact_zeros_and_large_nearly_equal_pairs():
    dataset = load_dataset("zero_spike")
    X = dataset.matrix(["x", "y"])
    zero = (X == 0).all(axis=1)
    assert zero.sum() == 340 and dataset.n_samples == 400
    assert (dataset.known_labels["truth"] == "spike at (0, 0)").to_numpy().tolist() == zero.tolist()
    assert not zero[:50].all()  # scattered through the table, not all at its top
    spread = X[~zero]
    assert spread.min() > 5  # far from the spike
    np.testing.assert_allclose(spread[:, 1] / spread[:, 0], 1, atol=0.1)  # ±2%, 5 sd
    assert load_dataset("zero_spike").frame.equals(dataset.frame)
    assert load_dataset("zero_spike", zero_fraction=0.5).n_samples == 400


@pytest.mark.parametrize(("params", "message"), [
    ({"zero_fraction": 1.0}, "zero_fraction must be between 0 and 1"),
    ({"n_samples": 3}, "leaves fewer than 2 rows"),
])
def test_the_zero_spike_refuses_impossible_parameters(params, message):
    with pytest.raises(DatasetError, match=message):
        load_dataset("zero_spike", **params)
