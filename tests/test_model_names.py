"""mclust's models in words (gmm_core.model_names), the same as the README's table, and
scikit-learn's fit beside an mclust model: the same model under scikit-learn's name, or a
plain refusal when scikit-learn has no such model."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from sklearn.mixture import GaussianMixture

from dashboard.pipeline import PreparedData, no_scikit_learn_model
from gmm_core import FitRequest, model_names
from gmm_core.compare import compare_fits, fit_sklearn
from gmm_core.model import GMM
from gmm_core.request import MCLUST_MODELS, MCLUST_UNIVARIATE

README = Path(__file__).resolve().parents[1] / "README.md"
ONLY_MCLUST = ("EII", "EEI", "VEI", "EVI", "VEE", "EVE", "VVE", "EEV", "VEV", "EVV")


def readme_rows() -> dict[str, tuple[str, str, str, str]]:
    """The README's table of mclust's models: model -> (family, volume, shape,
    orientation)."""
    cell = r" ([\w ]+|—) \|"
    rows = {}
    for line in README.read_text().splitlines():
        match = re.match(r"\| (E|V|[EV][EVI][EVI])\b[^|]*\|" + cell * 4, line)
        if match:
            rows[match.group(1)] = match.group(2, 3, 4, 5)
    return rows


def test_the_models_are_grouped_as_mclust_lists_them():
    assert model_names.FAMILIES == {
        "spherical": ("EII", "spherical"),
        "diagonal": ("EEI", "VEI", "EVI", "diag"),
        "ellipsoidal": ("tied", "VEE", "EVE", "VVE", "EEV", "VEV", "EVV", "full")}
    assert [model_names.mclust_name(t) for t in model_names.MODELS] == list(MCLUST_MODELS)
    assert model_names.models_for(1) == MCLUST_UNIVARIATE
    assert model_names.models_for(3) == model_names.MODELS


@pytest.mark.parametrize(("name", "label", "description"), [
    ("EII", "EII", "equal volume, round"),
    ("spherical", "VII (spherical)", "varying volume, round"),
    ("EVI", "EVI", "equal volume, varying shape, along the axes"),
    ("tied", "EEE (tied)", "equal volume, equal shape, equal orientation"),
    ("VEV", "VEV", "varying volume, equal shape, varying orientation"),
    ("full", "VVV (full)", "varying volume, varying shape, varying orientation"),
    ("E", "E", "equal variance"),
])
def test_each_model_says_what_is_equal_and_what_varies(name, label, description):
    assert model_names.label(name) == label
    assert model_names.description(name) == description
    assert model_names.covariance_type_of(model_names.mclust_name(name)) == name


def test_the_readme_table_says_what_the_descriptions_say():
    rows = readme_rows()
    assert set(rows) == {*MCLUST_MODELS, *MCLUST_UNIVARIATE}
    words = {"identity": "round", "axes": "along the axes", "—": ""}
    for model, (family, volume, shape, orientation) in rows.items():
        assert model_names.family(model) == family
        said = model_names.description(model)
        assert said.startswith(volume)
        for word, letter_word in ((shape, f"{shape} shape"),
                                  (orientation, f"{orientation} orientation")):
            assert words.get(word, letter_word) in said


@pytest.mark.parametrize(("name", "d", "theirs"), [
    ("full", 2, "full"), ("VVV", 2, "full"), ("EEE", 3, "tied"), ("VVI", 2, "diag"),
    ("VII", 2, "spherical"), ("VEV", 2, None), ("EII", 4, None),
    ("E", 1, "tied"), ("V", 1, "full"), ("EEV", 1, "tied"), ("VEI", 1, "full"),
    ("spherical", 1, "spherical")])
def test_scikit_learn_has_the_same_model_under_its_name_or_none(name, d, theirs):
    assert model_names.scikit_learn_type(name, d) == theirs


def blobs(d: int) -> np.ndarray:
    rng = np.random.default_rng(3)
    return np.vstack([rng.normal(0, 1, (150, d)), rng.normal(6, 0.5, (150, d))])


def test_an_mclust_name_scikit_learn_has_is_fitted_as_its_own():
    X = blobs(2)
    fit = fit_sklearn(X, 2, "VVI", seed=1)
    reference = GaussianMixture(2, covariance_type="diag", random_state=1).fit(X)
    assert fit.covariance_type == "diag"
    np.testing.assert_allclose(fit.covariances, reference.covariances_)
    one = blobs(1)
    assert fit_sklearn(one, 2, "EEV", seed=1).covariance_type == "tied"
    ours = GMM(k=2, covariance_type="E", seed=1).fit(one)
    assert compare_fits(one, ours, fit_sklearn(one, 2, "E", seed=1)).verdict == "same_optimum"


@pytest.mark.parametrize("model", ONLY_MCLUST)
def test_scikit_learn_is_not_asked_for_a_model_it_does_not_have(model):
    with pytest.raises(ValueError, match=f"scikit-learn's GaussianMixture has no {model} "
                                         "model: its four covariance types are mclust's VVV"):
        fit_sklearn(blobs(2), 2, model)
    prepared = PreparedData(blobs(2), ("a", "b"), ("a", "b"), (), None)
    request = FitRequest(dataset="blobs", features=("a", "b"), covariance_type=model)
    assert no_scikit_learn_model(prepared, request).startswith(
        f"scikit-learn's GaussianMixture has no {model} model")
    # The notebook replay is compared with full covariances, whatever the control holds.
    assert no_scikit_learn_model(prepared, request.with_changes(algorithm="notebook")) is None
    one = PreparedData(blobs(1), ("a",), ("a",), (), None)
    assert no_scikit_learn_model(one, request.with_changes(features=("a",))) is None
