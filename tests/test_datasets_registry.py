"""The registry of named data sets and the Dataset contract every loader keeps."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from gmm_core.datasets import Dataset, DatasetError, FeatureInfo, list_datasets, load_dataset
from gmm_core.datasets.sketch import BUMPS, SKETCH_PRESETS

SKETCHES = [*(f"sketch_{name}" for name in SKETCH_PRESETS), f"sketch_{BUMPS}"]
OFFLINE = ["blobs", "astroml_fig69", "iris", "wine", "zero_spike", *SKETCHES]


@pytest.fixture(autouse=True)
def empty_data_home(tmp_path, monkeypatch):
    monkeypatch.setenv("ASTROML_DATA", str(tmp_path))


def test_lists_every_data_set_with_its_defaults():
    infos = {info.name: info for info in list_datasets()}
    assert list(infos) == ["sdss", "blobs", "astroml_fig69", "iris", "wine", "zero_spike",
                           *SKETCHES]
    assert infos["blobs"].params == {"n_components": 3, "separation": 4.0,
                                     "n_samples": 600, "seed": 0}
    assert infos["astroml_fig69"].params == {"n_samples": 1000, "seed": 1}
    assert infos["zero_spike"].params == {"n_samples": 400, "zero_fraction": 0.85, "seed": 0}
    assert all(infos[name].params == {"n_samples": 300, "seed": 0} for name in SKETCHES)
    assert not infos["sdss"].available
    assert all(infos[name].available for name in OFFLINE)
    assert all(info.title and info.description for info in infos.values())


@pytest.mark.parametrize("name", OFFLINE)
def test_every_offline_data_set_keeps_the_contract(name):
    dataset = load_dataset(name)
    assert dataset.name == name
    assert dataset.title and dataset.citation
    assert list(dataset.features) == dataset.columns
    assert all(np.issubdtype(dtype, np.floating) for dtype in dataset.frame.dtypes)
    assert len(dataset.default_view) == (1 if name == f"sketch_{BUMPS}" else 2)
    X = dataset.matrix(dataset.default_view)
    assert X.dtype == np.float64 and X.shape == (dataset.n_samples, len(dataset.default_view))
    assert dataset.finite_rows(dataset.columns).all()
    for labels in dataset.known_labels.values():
        assert len(labels) == dataset.n_samples
        assert labels.map(type).eq(str).all()
    assert len(dataset.fingerprint) == 32
    assert load_dataset(name).fingerprint == dataset.fingerprint
    assert sum(map(len, dataset.families().values())) == len(dataset.columns)


def test_fingerprint_changes_with_parameters():
    assert (load_dataset("blobs", seed=1).fingerprint
            != load_dataset("blobs", seed=2).fingerprint)


def test_unknown_name_lists_the_choices():
    with pytest.raises(DatasetError, match="unknown data set 'nope'; choose one of sdss, blobs"):
        load_dataset("nope")


def test_unknown_parameter_lists_the_accepted_ones():
    with pytest.raises(DatasetError, match="has no parameter colour; it accepts: n_components"):
        load_dataset("blobs", colour="red")
    with pytest.raises(DatasetError, match="accepts: none"):
        load_dataset("iris", n_samples=3)


def test_text_parameters_are_converted_to_the_default_type():
    dataset = load_dataset("blobs", n_components="4", separation="6.5", n_samples="80")
    assert dataset.n_samples == 80
    assert dataset.known_labels["truth"].nunique() == 4


@pytest.mark.parametrize(("params", "message"), [
    ({"n_components": "many"}, "n_components must be int; got 'many'"),
    ({"n_components": 2.5}, "must be a whole number; got 2.5"),
    ({"separation": "far"}, "separation must be float"),
])
def test_bad_parameter_values_are_refused(params, message):
    with pytest.raises(DatasetError, match=message):
        load_dataset("blobs", **params)


def _tiny_dataset(frame: pd.DataFrame) -> Dataset:
    return Dataset("tiny", "tiny", frame,
                   {name: FeatureInfo(name, name) for name in frame.columns},
                   default_view=tuple(frame.columns[:2]))


def test_column_checks_name_the_problem():
    dataset = _tiny_dataset(pd.DataFrame({"a": [1.0, np.nan, 3.0], "b": [1.0, 2.0, np.inf]}))
    with pytest.raises(DatasetError, match="unknown column 'c' in tiny; available: a, b"):
        dataset.matrix(["a", "c"])
    with pytest.raises(DatasetError, match="listed twice"):
        dataset.matrix(["a", "a"])
    with pytest.raises(DatasetError, match="at least one column"):
        dataset.matrix([])
    np.testing.assert_array_equal(dataset.finite_rows(["a", "b"]), [True, False, False])
    np.testing.assert_array_equal(dataset.finite_rows(["a"]), [True, False, True])


def test_every_column_needs_metadata():
    frame = pd.DataFrame({"a": [1.0], "b": [2.0]})
    with pytest.raises(DatasetError, match="no feature metadata for b"):
        Dataset("t", "t", frame, {"a": FeatureInfo("a", "a")}, default_view=("a",))
    with pytest.raises(DatasetError, match="default view names unknown"):
        Dataset("t", "t", frame, {n: FeatureInfo(n, n) for n in "ab"}, default_view=("x",))


def test_axis_title_shows_the_unit():
    assert FeatureInfo("petal_length", "petal length", "cm").axis_title == "petal length [cm]"
    assert FeatureInfo("x", "x").axis_title == "x"


def test_row_names_are_columns_but_not_default_features():
    frame = pd.DataFrame({"id": [7.0, 9.0], "a": [1.0, 2.0], "b": [3.0, 4.0]})
    features = {name: FeatureInfo(name, name) for name in frame}
    dataset = Dataset("t", "t", frame, features, ("a", "b"), row_name_columns=("id",))
    assert dataset.columns == ["id", "a", "b"] and dataset.default_features == ["a", "b"]
    assert dataset.matrix(["id", "a"]).tolist() == [[7.0, 1.0], [9.0, 2.0]]  # still choosable
    with pytest.raises(DatasetError, match=r"row names names unknown \['z'\]"):
        Dataset("t", "t", frame, features, ("a", "b"), row_name_columns=("z",))
