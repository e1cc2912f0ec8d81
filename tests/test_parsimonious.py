"""mclust's 14 parsimonious models (gmm_core.parsimonious): counts, aliases, constraints, EM."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from gmm_core import GMM
from gmm_core.covariance import n_parameters, structure_for
from gmm_core.parsimonious import ALIASES, q_objective
from gmm_core.request import MCLUST_MODELS, FitRequest


def blobs(seed: int, d: int = 3, n: int = 300) -> np.ndarray:
    """Three clusters of different size, shape and orientation."""
    rng = np.random.default_rng(seed)
    parts = []
    for size, scale in ((n // 2, 1.0), (n // 3, 0.5), (n - n // 2 - n // 3, 2.0)):
        mixing = rng.normal(size=(d, d)) * scale
        parts.append(rng.normal(size=(size, d)) @ mixing + rng.normal(scale=6, size=d))
    return np.vstack(parts)


# mclust's nVarParams (R/mclust.R), d = 2 and G = 3, i.e.
# mapply(nVarParams, mclust.options("emModelNames"), d = 2, G = 3), by its formulas:
# EII 1, VII G, EEI d, VEI G+(d-1), EVI 1+G(d-1), VVI Gd, EEE d(d+1)/2,
# VEE G+(d-1)+d(d-1)/2, EVE 1+G(d-1)+d(d-1)/2, VVE G+G(d-1)+d(d-1)/2,
# EEV 1+(d-1)+G d(d-1)/2, VEV G+(d-1)+G d(d-1)/2, EVV 1-G+G d(d+1)/2, VVV G d(d+1)/2.
MCLUST_VAR_PARAMS_D2_G3 = {"EII": 1, "VII": 3, "EEI": 2, "VEI": 4, "EVI": 4, "VVI": 6,
                           "EEE": 3, "VEE": 5, "EVE": 5, "VVE": 7, "EEV": 5, "VEV": 7,
                           "EVV": 7, "VVV": 9}


@pytest.mark.parametrize("model", MCLUST_MODELS)
def test_parameter_counts_are_mclusts(model):
    # nMclustParams = nVarParams + G d means + (G - 1) proportions.
    assert n_parameters(model, 3, 2) == MCLUST_VAR_PARAMS_D2_G3[model] + 3 * 2 + 2


def test_parameter_counts_printed_by_mclust():
    # summary(Mclust(faithful)): EEE, G = 3, df = 11; summary(Mclust(iris[, 1:4])): VEV,
    # G = 2, df = 26 (the numbers tests/test_mclust_reference.py reproduces).
    assert n_parameters("EEE", 3, 2) == 11
    assert n_parameters("VEV", 2, 4) == 26
    assert n_parameters("E", 2, 1) == 4 and n_parameters("V", 2, 1) == 5


@pytest.mark.parametrize("alias", sorted(ALIASES))
def test_the_four_names_match_their_mclust_models(alias):
    X = blobs(0)
    ours = GMM(k=3, covariance_type=alias, seed=1, tol=1e-8).fit(X)
    theirs = GMM(k=3, covariance_type=ALIASES[alias], seed=1, tol=1e-8).fit(X)
    assert ours.n_iter_ == theirs.n_iter_
    assert ours.n_parameters() == theirs.n_parameters()
    np.testing.assert_allclose(ours.score(X), theirs.score(X), rtol=1e-12)
    np.testing.assert_allclose(ours._structure.to_full(ours.covariances_),
                               theirs.covariances_, rtol=1e-9, atol=1e-12)


def decomposition(covariances: np.ndarray):
    """Volumes ``(k,)``, shapes ``(k, d)`` (decreasing, determinant 1) of Sigma_k."""
    eigenvalues = np.linalg.eigvalsh(covariances)[:, ::-1]
    volumes = np.exp(np.log(eigenvalues).mean(axis=1))
    return volumes, eigenvalues / volumes[:, None]


def assert_constraints(model: str, covariances: np.ndarray) -> None:
    volume, shape, orientation = model
    volumes, shapes = decomposition(covariances)
    off_diagonal = covariances - np.einsum("kii->ki", covariances)[..., None] * np.eye(
        covariances.shape[-1])
    if volume == "E":
        np.testing.assert_allclose(volumes, volumes[0], rtol=1e-8)
    if shape == "I":
        np.testing.assert_allclose(shapes, 1.0, rtol=1e-8)
    if shape == "E":
        np.testing.assert_allclose(shapes, np.broadcast_to(shapes[0], shapes.shape), rtol=1e-6)
    if orientation == "I":
        assert np.abs(off_diagonal).max() <= 1e-12 * np.abs(covariances).max()
    if orientation == "E":
        # Matrices with one set of eigenvectors commute.
        for first in covariances:
            for second in covariances:
                np.testing.assert_allclose(first @ second, second @ first,
                                           atol=1e-7 * np.abs(first @ second).max())
    if model in ("EEE",):
        np.testing.assert_allclose(covariances, covariances[:1].repeat(len(covariances), 0))


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("model", MCLUST_MODELS)
def test_em_keeps_the_models_constraints_and_never_lowers_the_likelihood(model, seed):
    X = blobs(seed)
    fit = GMM(k=3, covariance_type=model, seed=seed, tol=1e-10, max_iters=300,
              reg_covar=0.0).fit(X)
    assert fit.covariances_.shape == (3, 3, 3)
    assert_constraints(model, fit.covariances_)
    for snapshot in fit.trace_.covariances:
        assert_constraints(model, snapshot)
    log_likelihood = fit.trace_.mean_log_likelihood
    # Rounding of the data pass allows changes of ~1e-12 near convergence (the same bound
    # as tests/test_model_behaviour.py); a real decrease is larger by many orders.
    assert np.all(np.diff(log_likelihood) >= -1e-10 * np.abs(log_likelihood[1:]).clip(min=1.0))
    assert fit.converged_


@pytest.mark.parametrize("model", MCLUST_MODELS)
def test_regularization_keeps_the_constraints(model):
    # reg_covar goes into each S_k before the constrained estimate.
    X = blobs(3)
    fit = GMM(k=3, covariance_type=model, seed=0, reg_covar=1e-2).fit(X)
    assert_constraints(model, fit.covariances_)


# Each iterative model, and models nested in it (their every fit is one of its members).
NESTED = {"VEI": ("VII", "EEI"), "VEE": ("VII", "EEE"), "EVE": ("EII", "EEE", "EVI"),
          "VVE": ("VII", "EEE", "VVI", "EVE", "VEE"), "VEV": ("VII", "EEV", "VEE")}


@pytest.mark.parametrize("model", sorted(NESTED))
def test_iterative_m_steps_do_at_least_as_well_as_nested_models(model):
    """The iterated M-step minimizes Q over the model; a nested model's minimum is one of
    its points, so it cannot be lower."""
    X = blobs(4)
    responsibilities = GMM(k=3, covariance_type="full", seed=0).fit(X).predict_proba(X)
    nk = responsibilities.sum(axis=0)
    means = responsibilities.T @ X / nk[:, None]
    centred = X[None] - means[:, None]
    scatter = np.einsum("nk,kni,knj->kij", responsibilities, centred, centred)
    structure = structure_for(model, 3, 3)
    best = q_objective(scatter, nk, structure.constrained(scatter, nk))
    for nested in NESTED[model]:
        point = structure_for(nested, 3, 3).constrained(scatter, nk)
        assert best <= q_objective(scatter, nk, point) + 1e-9 * abs(best), nested
    # A second call, warm-started from the first, does not move away from it.
    again = q_objective(scatter, nk, structure.constrained(scatter, nk))
    assert again <= best + 1e-9 * abs(best)


def test_univariate_models():
    X = blobs(5, d=1)
    equal = GMM(k=2, covariance_type="E", seed=0).fit(X)
    np.testing.assert_allclose(equal.score(X),
                               GMM(k=2, covariance_type="EII", seed=0).fit(X).score(X))
    assert equal.covariances_[0, 0, 0] == pytest.approx(equal.covariances_[1, 0, 0])
    varying = GMM(k=2, covariance_type="V", seed=0).fit(X)
    np.testing.assert_allclose(varying.score(X),
                               GMM(k=2, covariance_type="spherical", seed=0).fit(X).score(X))
    with pytest.raises(ValueError, match="univariate"):
        GMM(k=2, covariance_type="V").fit(blobs(5, d=2))


def test_unknown_names_are_refused():
    with pytest.raises(ValueError, match="covariance_type"):
        GMM(covariance_type="EIV").fit(blobs(0))
    with pytest.raises(ValueError, match="covariance_type"):
        FitRequest(covariance_type="XYZ")
    assert FitRequest(covariance_type="VEV").model_params()["covariance_type"] == "VEV"


@pytest.mark.parametrize("reg_covar", [1e-6, 0.0])
def test_a_component_on_a_point_is_singular_where_its_volume_is_its_own(reg_covar):
    rng = np.random.default_rng(0)
    X = np.vstack([rng.normal(size=(100, 2)), np.zeros((5, 2)) + 10])

    def fit(model):
        return GMM(k=2, covariance_type=model, seed=0, means_init=[[0, 0], [10, 10]],
                   init="placed", reg_covar=reg_covar).fit(X)

    for model in ("VVV", "VII", "VVI", "VEI", "VEE", "VVE", "VEV"):
        fitted = fit(model)
        assert 1 in fitted.singular_, model
        assert np.all(np.isfinite(fitted.covariances_)), model
    # With the volume shared, the component cannot shrink onto the point: the likelihood
    # stays bounded, and the fit is sound.
    for model in ("EII", "EEI", "EVI", "EEE", "EVE", "EEV", "EVV"):
        fitted = fit(model)
        assert fitted.singular_ == {}, model
        assert np.isfinite(fitted.score(X)), model


def test_a_new_run_forgets_the_warm_start():
    """The inner iterations start where the last M-step ended, except in a new run."""
    X = blobs(6)
    first, second = (np.stack([np.cov(part, rowvar=False) * len(part)
                               for part in np.array_split(X[order], 3)])
                     for order in (np.arange(len(X)), np.random.default_rng(0).permutation(len(X))))
    nk = np.full(3, len(X) / 3)
    used = structure_for("EVE", 3, 3)
    used.constrained(first, nk)
    used.start_run()
    np.testing.assert_array_equal(used.constrained(second, nk),
                                  structure_for("EVE", 3, 3).constrained(second, nk))


finite_values = st.floats(min_value=-1e4, max_value=1e4, allow_nan=False, allow_subnormal=False)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_any_fit_of_any_model_is_finite(data):
    n_features = data.draw(st.integers(2, 3))
    n_rows = data.draw(st.integers(4, 40))
    X = data.draw(arrays(np.float64, (n_rows, n_features), elements=finite_values))
    if data.draw(st.booleans()):
        X[: n_rows // 2] = X[0]
    model = GMM(k=data.draw(st.integers(1, 3)),
                covariance_type=data.draw(st.sampled_from(MCLUST_MODELS)),
                on_degenerate=data.draw(st.sampled_from(["regularize", "reinit"])),
                seed=data.draw(st.integers(0, 1000)), max_iters=20).fit(X)
    for value in (model.weights_, model.means_, model.covariances_,
                  model.trace_.mean_log_likelihood):
        assert np.all(np.isfinite(value))
    assert np.isfinite(model.bic(X))
