"""EMStepper: half-steps that agree with GMM, and the numbers behind each formula."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import multivariate_normal

from gmm_core import GMM
from gmm_core.covariance import structure_for
from gmm_core.stepper import EMStepper, StepOrderError

COVARIANCE_TYPES = ["full", "tied", "diag", "spherical"]


@pytest.fixture(scope="module")
def X():
    rng = np.random.default_rng(7)
    centers = [(0.0, 0.0), (4.0, 1.0), (1.0, 5.0)]
    scales = [(1.0, 0.4), (0.6, 1.2), (0.8, 0.8)]
    return np.vstack([rng.normal(c, s, size=(60, 2)) for c, s in zip(centers, scales, strict=True)])


def run_pairs(stepper: EMStepper, n: int) -> None:
    for _ in range(n):
        stepper.e_step()
        stepper.m_step()


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
@pytest.mark.parametrize("init", ["kmeans++", "random", "notebook"])
def test_n_half_step_pairs_equal_gmm_with_n_iterations(X, covariance_type, init):
    n_pairs = 4
    stepper = EMStepper(X, 3, covariance_type=covariance_type, seed=3, init=init)
    run_pairs(stepper, n_pairs)
    model = GMM(k=3, covariance_type=covariance_type, seed=3, init=init, tol=0.0,
                max_iters=n_pairs).fit(X)
    state = stepper.state
    full = structure_for(covariance_type, 3, 2).to_full(model.covariances_)
    np.testing.assert_allclose(state.weights, model.weights_, rtol=1e-12)
    np.testing.assert_allclose(state.means, model.means_, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(state.covariances, full, rtol=1e-12, atol=1e-12)
    # GMM's lower bound is the log-likelihood at its last E-step, as is the stepper's.
    assert state.mean_log_likelihood == pytest.approx(model.lower_bound_, rel=1e-12)
    assert state.iteration == model.n_iter_ == n_pairs


def test_initial_state_matches_gmm_start(X):
    stepper = EMStepper(X, 3, seed=5)
    start = GMM(k=3, seed=5).fit(X).trace_
    state = stepper.state
    np.testing.assert_allclose(state.means, start.means[0], rtol=1e-12)
    np.testing.assert_allclose(state.covariances, start.covariances[0], rtol=1e-12)
    assert state.responsibilities is None and state.log_likelihood is None
    assert (state.phase, state.step, state.iteration) == ("E", 0, 0)


def test_phase_and_counters_alternate(X):
    stepper = EMStepper(X, 2)
    after_e = stepper.e_step()
    assert (after_e.phase, after_e.step, after_e.iteration) == ("M", 1, 0)
    assert after_e.responsibilities.shape == (len(X), 2)
    after_m = stepper.m_step()
    assert (after_m.phase, after_m.step, after_m.iteration) == ("E", 2, 1)
    # The M-step moves the parameters but keeps the E-step's responsibilities.
    assert not np.allclose(after_m.means, after_e.means)
    np.testing.assert_array_equal(after_m.responsibilities, after_e.responsibilities)


def test_log_likelihood_never_decreases_over_e_steps(X):
    stepper = EMStepper(X, 3, init="random", seed=1)
    values = []
    for _ in range(8):
        values.append(stepper.e_step().log_likelihood)
        stepper.m_step()
    assert np.all(np.diff(values) >= -1e-9)
    assert values[-1] > values[0]


def test_steps_out_of_turn_raise(X):
    stepper = EMStepper(X, 2)
    with pytest.raises(StepOrderError, match="E-step comes next"):
        stepper.m_step()
    stepper.e_step()
    with pytest.raises(StepOrderError, match="M-step comes next"):
        stepper.e_step()
    assert stepper.state.step == 1


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_explain_point_fills_the_e_step_formula(X, covariance_type):
    stepper = EMStepper(X, 3, covariance_type=covariance_type, seed=2)
    run_pairs(stepper, 2)
    state = stepper.e_step()
    i, j = 17, 1
    numbers = stepper.explain_point(i, j)
    cov = state.covariances[j]
    expected_log_density = multivariate_normal(state.means[j], cov).logpdf(X[i])
    assert numbers["log_density"] == pytest.approx(expected_log_density, rel=1e-10)
    diff = X[i] - state.means[j]
    assert numbers["mahalanobis"] == pytest.approx(np.sqrt(diff @ np.linalg.solve(cov, diff)),
                                                   rel=1e-10)
    assert numbers["log_density"] == pytest.approx(
        numbers["log_normalizer"] - 0.5 * numbers["log_det_covariance"]
        - 0.5 * numbers["mahalanobis"] ** 2, rel=1e-10)
    assert numbers["weight"] == state.weights[j]
    assert numbers["numerator"] == pytest.approx(state.weights[j] * np.exp(expected_log_density),
                                                 rel=1e-10)
    assert numbers["numerator"] / numbers["denominator"] == pytest.approx(
        numbers["responsibility"], rel=1e-12)
    assert numbers["responsibility"] == pytest.approx(state.responsibilities[i, j], rel=1e-10)
    total = sum(stepper.explain_point(i, c)["responsibility"] for c in range(3))
    assert total == pytest.approx(1.0, rel=1e-12)


def test_explain_point_stays_finite_far_from_every_component(X):
    far = np.vstack([X, [[1e3, -1e3]]])
    stepper = EMStepper(far, 2, seed=0)
    stepper.e_step()
    numbers = stepper.explain_point(len(far) - 1, 0)
    assert numbers["density"] == 0.0  # underflows in plain space ...
    assert np.isfinite(numbers["log_density"])  # ... never in log space
    assert 0.0 <= numbers["responsibility"] <= 1.0


@pytest.mark.parametrize("covariance_type", ["full", "diag"])
def test_explain_component_gives_what_the_m_step_sets(X, covariance_type):
    stepper = EMStepper(X, 3, covariance_type=covariance_type, seed=4)
    state = stepper.e_step()
    j = 2
    before = stepper.explain_component(j)
    resp = state.responsibilities[:, j]
    assert before["resp_sum"] == pytest.approx(resp.sum(), rel=1e-12)
    np.testing.assert_allclose(before["weighted_sum"], resp @ X, rtol=1e-12)
    assert before["weight"] == pytest.approx(resp.sum() / len(X), rel=1e-12)
    np.testing.assert_allclose(before["mean"], resp @ X / resp.sum(), rtol=1e-12)
    centred = X - before["mean"]
    expected_cov = (resp[:, None] * centred).T @ centred / resp.sum() + 1e-6 * np.eye(2)
    if covariance_type == "diag":
        expected_cov = np.diag(np.diag(expected_cov))
    np.testing.assert_allclose(before["covariance"], expected_cov, rtol=1e-10, atol=1e-12)
    after = stepper.m_step()
    assert after.weights[j] == pytest.approx(before["weight"], rel=1e-14)
    np.testing.assert_allclose(after.means[j], before["mean"], rtol=1e-14)
    np.testing.assert_allclose(after.covariances[j], before["covariance"], rtol=1e-14)
    assert stepper.explain_component(j)["resp_sum"] == before["resp_sum"]


def test_explain_component_needs_an_e_step(X):
    with pytest.raises(StepOrderError, match="no E-step yet"):
        EMStepper(X, 2).explain_component(0)


def test_bad_indices_and_settings_are_refused(X):
    stepper = EMStepper(X, 2)
    with pytest.raises(IndexError, match="point index"):
        stepper.explain_point(len(X), 0)
    with pytest.raises(IndexError, match="component index"):
        stepper.explain_point(0, 2)
    with pytest.raises(ValueError, match="covariance_type"):
        EMStepper(X, 2, covariance_type="banana")
    with pytest.raises(ValueError, match="at least 500 rows"):
        EMStepper(X[:3], 500)


def test_degenerate_components_are_reported_as_in_gmm():
    # Two distinct points repeated: a component sits on one point and collapses.
    X = np.repeat([[0.0, 0.0], [5.0, 5.0]], 20, axis=0)
    stepper = EMStepper(X, 2, reg_covar=0.0)
    run_pairs(stepper, 2)
    model = GMM(k=2, reg_covar=0.0, tol=0.0, max_iters=2).fit(X)
    state = stepper.state
    assert [e.kind for e in state.events] == [e.kind for e in model.trace_.events]
    assert state.events, "a collapse onto single points should be recorded"
    np.testing.assert_allclose(state.means, model.means_, rtol=1e-12, atol=1e-12)
