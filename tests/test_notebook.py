"""The notebook replay (gmm_core.notebook): faithful to the notebook, and its failure explained."""

# The legacy global np.random state is what the notebook used, so it is under test here.
# ruff: noqa: NPY002

from __future__ import annotations

import numpy as np
import pytest

from gmm_core.model import GMM
from gmm_core.notebook import (
    explain_notebook_failure,
    fit_notebook,
    initial_parameters,
    notebook_responsibilities,
)
from gmm_core.trace import (
    COVARIANCE_COLLAPSE,
    IDENTICAL_COMPONENTS,
    STOP_CONVERGED,
    STOP_MAX_ITERS,
    STOP_NUMERICAL_FAILURE,
    ZERO_DENSITY,
)


class NotebookGMM:
    """The notebook's class (cell [14]), verbatim apart from its print calls."""

    def __init__(self, k=2, max_iters=100, tol=1e-4, epsilon = 1*10**-8):
        self.k = k # Number of components
        self.max_iters = max_iters #Maximum Iterations
        self.tol=tol # Convergence threshold
        self.epsilon = epsilon # Small constant to prevent numerical issues

    def _initialize_params(self, X):
        self.means = X[np.random.choice(X.shape[0], self.k, replace=False)]
        self.covariances = [self._covariance(X) for _ in range(self.k)]
        self.pi = 1/self.k*np.ones(self.k)

    def _covariance(self,matrix):
        average_matrix = np.divide(np.sum(matrix, axis=0), matrix.shape[0])
        result = matrix - average_matrix
        covariances = np.dot(result.T,result)
        divided_covariances = covariances/(matrix.shape[0]-1)
        return (divided_covariances+np.eye(matrix.shape[1]) * self.epsilon)

    def _gaussian_pdf(self, X, mean, cov):
        cols_in_X = X.shape[1]
        regularized_covariance_matrix = cov+self.epsilon*np.eye(cols_in_X)
        inverted_covariance_matrix = np.linalg.inv(regularized_covariance_matrix)
        mahalanobis_distance = self._mahalanobis_distance(X,mean,
                                                          inverted_covariance_matrix)
        determinant_regularized_covariance_matrix = np.linalg.det(
            regularized_covariance_matrix)
        n = X.shape[1]
        Gaussian = (1 / np.sqrt((2 * np.pi) ** n *
                                determinant_regularized_covariance_matrix)) * np.exp(
            -0.5 * mahalanobis_distance)
        return Gaussian

    def _mahalanobis_distance(self,matrix,mean, inverted_covariance_matrix):
        diff = list()
        for row in matrix:
            diff.append((row-mean)@inverted_covariance_matrix@(row-mean))
        return np.array(diff)

    def _e_step(self, X):
        likelihoods = np.zeros((X.shape[0],self.k))
        for i in range(self.k):
            likelihoods[:, i] = self.pi[i]*self._gaussian_pdf(X,self.means[i],
                                                              self.covariances[i])
        responsibilities = likelihoods/(np.sum(likelihoods,axis=1,keepdims=True)+self.epsilon)
        return responsibilities

    def _m_step(self, X, responsibilities):
        sum_responsibilities = np.sum(responsibilities, axis=0)
        for i in range(self.k):
            self.pi[i] = sum_responsibilities[i] / X.shape[0]
            self.means[i] = np.dot(responsibilities[:, i], X) / sum_responsibilities[i]
            diff = X - self.means[i]
            cov = np.zeros((X.shape[1], X.shape[1]))
            for j in range(X.shape[0]):
                outer_product = np.outer(diff[j], diff[j])
                cov += responsibilities[j, i] * outer_product
            self.covariances[i] = cov / sum_responsibilities[i] + self.epsilon * np.eye(
                X.shape[1])

    def predict(self, X):
        responsibilities = self._e_step(X)
        return np.argmax(responsibilities, axis=1)

    def _compute_log_likelihood(self,X):
        number_of_samples = X.shape[0]
        weighted_likelihoods = np.zeros((number_of_samples, self.k))
        for j in range(self.k):
            weighted_likelihoods[:,j]= self.pi[j]*self._gaussian_pdf(X, self.means[j],
                                                                     self.covariances[j])
        summed_likelihoods = np.sum(weighted_likelihoods, axis=1)
        log_summed_likelihoods = np.sum(np.log(summed_likelihoods + self.epsilon))
        return log_summed_likelihoods

    def fit(self, X):
        self._initialize_params(X)
        prev_log_likelihood = None
        for _ in range(self.max_iters):
            responsibilities = self._e_step(X)
            self._m_step(X, responsibilities)
            log_likelihood = self._compute_log_likelihood(X)
            if prev_log_likelihood is not None and abs(log_likelihood -
                                                       prev_log_likelihood) < self.tol:
                break
            prev_log_likelihood = log_likelihood


def run_reference(X, k, max_iters, seed, tol=1e-4):
    """Fit the notebook's class under ``np.random.seed(seed)``; count its M-steps."""
    state = np.random.get_state()
    try:
        np.random.seed(seed)
        reference = NotebookGMM(k=k, max_iters=max_iters, tol=tol)
        m_steps = []
        original = reference._m_step

        def counted(X, responsibilities):
            m_steps.append(1)
            original(X, responsibilities)

        reference._m_step = counted
        reference.fit(X)
    finally:
        np.random.set_state(state)
    return reference, len(m_steps)


def notebook_like_data() -> np.ndarray:
    """As the notebook's spectra[:, :2]: a block of zero rows, small fluxes, a few outliers."""
    rng = np.random.default_rng(0)
    return np.vstack([
        np.zeros((3600, 2)),
        np.abs(rng.normal(0.3, 0.3, size=(390, 2))),
        rng.normal((40.0, 38.0), 1.5, size=(10, 2)),
    ]).astype(np.float32)


@pytest.fixture(scope="module")
def spectra_like():
    return notebook_like_data()


@pytest.fixture(scope="module")
def notebook_trace(spectra_like):
    return fit_notebook(spectra_like, k=2, seed=42)


def small_random_data() -> np.ndarray:
    rng = np.random.default_rng(7)
    return np.vstack([rng.normal((0, 0), 1.0, size=(80, 2)),
                      rng.normal((3, 1), 0.7, size=(70, 2)),
                      rng.normal((-2, 4), 0.5, size=(50, 2))])


def test_random_state_choice_is_the_notebooks_global_draw():
    state = np.random.get_state()
    try:
        np.random.seed(42)
        global_draw = np.random.choice(4000, 2, replace=False)
    finally:
        np.random.set_state(state)
    np.testing.assert_array_equal(global_draw,
                                  np.random.RandomState(42).choice(4000, 2, replace=False))
    X = small_random_data()
    params, rows = initial_parameters(X, 3, seed=42, epsilon=1e-8)
    np.testing.assert_array_equal(rows, np.random.RandomState(42).choice(200, 3, replace=False))
    np.testing.assert_array_equal(params.means, X[rows])
    np.testing.assert_allclose(params.covariances[1], np.cov(X, rowvar=False) + 1e-8 * np.eye(2),
                               rtol=1e-12)
    np.testing.assert_array_equal(params.weights, [1 / 3] * 3)


@pytest.mark.parametrize("iterations", [1, 2, 4])
def test_vectorized_replay_matches_the_notebook_code_iteration_by_iteration(iterations):
    X = small_random_data()
    reference, _ = run_reference(X, k=3, max_iters=iterations, seed=42, tol=0.0)
    trace = fit_notebook(X, k=3, tol=0.0, max_iters=iterations, seed=42)
    assert trace.n_iter == iterations
    np.testing.assert_allclose(trace.weights[-1], reference.pi, rtol=1e-10)
    np.testing.assert_allclose(trace.means[-1], reference.means, rtol=1e-10)
    np.testing.assert_allclose(trace.covariances[-1], np.array(reference.covariances),
                               rtol=1e-10)
    assert trace.log_likelihood[-1] == pytest.approx(reference._compute_log_likelihood(X),
                                                     rel=1e-10)
    # Snapshot t's responsibilities are what the notebook's next E-step computes.
    np.testing.assert_allclose(trace.responsibilities[-1], reference._e_step(X)[trace.sample_index],
                               rtol=1e-6, atol=1e-7)


def test_every_rows_responsibilities_follow_the_notebooks_predict():
    X = small_random_data()
    reference, _ = run_reference(X, k=3, max_iters=4, seed=42, tol=0.0)
    trace = fit_notebook(X, k=3, tol=0.0, max_iters=4, seed=42)
    responsibilities = notebook_responsibilities(X, trace)
    # The parameters agree to 1e-10 relative (above); a responsibility moves by about
    # its log-density's error, the Mahalanobis distance (< 100 here) times that.
    np.testing.assert_allclose(responsibilities, reference._e_step(X), rtol=0, atol=1e-7)
    np.testing.assert_array_equal(responsibilities.argmax(axis=1), reference.predict(X))


def test_rows_with_zero_density_have_zero_responsibilities(spectra_like, notebook_trace):
    responsibilities = notebook_responsibilities(spectra_like, notebook_trace)
    # What the trace kept for its display sample, computed again for every row (the
    # trace stores float32: 6e-8 of a value at most 1).
    np.testing.assert_allclose(responsibilities[notebook_trace.sample_index],
                               notebook_trace.responsibilities[-1], rtol=0, atol=1e-7)
    off_the_spike = responsibilities[3600:]
    assert len(off_the_spike) == notebook_trace.zero_density[-1] == 400
    np.testing.assert_array_equal(off_the_spike, 0.0)
    assert np.all(off_the_spike.argmax(axis=1) == 0)  # the notebook's argmax says 0
    np.testing.assert_allclose(responsibilities[:3600].sum(axis=1), 1.0, rtol=1e-6)


def test_replay_stops_where_the_notebook_stops():
    X = small_random_data()
    reference, m_steps = run_reference(X, k=2, max_iters=100, seed=3, tol=1e-4)
    trace = fit_notebook(X, k=2, tol=1e-4, max_iters=100, seed=3)
    assert trace.stop_reason == STOP_CONVERGED
    assert trace.n_iter == m_steps
    np.testing.assert_allclose(trace.means[-1], reference.means, rtol=1e-10)
    # It stopped on |ΔLL| < tol between the last two evaluations, not before.
    changes = np.abs(np.diff(trace.log_likelihood[1:]))
    assert changes[-1] < 1e-4 and np.all(changes[:-1] >= 1e-4)


def test_float32_data_keeps_the_notebooks_float32_means(spectra_like):
    X = spectra_like[:300]
    reference, _ = run_reference(X, k=2, max_iters=3, seed=1, tol=0.0)
    trace = fit_notebook(X, k=2, tol=0.0, max_iters=3, seed=1)
    assert reference.means.dtype == np.float32
    np.testing.assert_array_equal(trace.means[-1], reference.means.astype(float))
    np.testing.assert_allclose(trace.covariances[-1], np.array(reference.covariances),
                               rtol=1e-7)


def test_replay_reproduces_the_notebooks_failure(spectra_like, notebook_trace):
    trace = notebook_trace
    # Seed 42 draws two rows of the zero block: identical starting means.
    rows = np.random.RandomState(42).choice(len(spectra_like), 2, replace=False)
    assert np.array_equal(spectra_like[rows[0]], spectra_like[rows[1]])
    assert np.all(spectra_like[rows] == 0)
    first = trace.events_at(0)[0]
    assert first.kind == IDENTICAL_COMPONENTS
    assert f"rows {rows[0]:,} and {rows[1]:,}" in first.message
    # The two components never separate and collapse onto (0, 0).
    np.testing.assert_array_equal(trace.means[:, 0], trace.means[:, 1])
    assert np.abs(trace.means[1]).max() < 0.1
    np.testing.assert_allclose(trace.means[-1], 0.0, atol=1e-6)
    assert np.linalg.eigvalsh(trace.covariances[-1]).max() < 1e-7
    assert trace.stop_reason == STOP_CONVERGED
    # As in the notebook's printout, the log-likelihood soars while the fit degrades.
    assert trace.log_likelihood[-1] > trace.log_likelihood[1] + 40_000
    # Every row off the spike ends with zero density under both components.
    assert trace.zero_density[0] == 0
    assert trace.zero_density[-1] == len(spectra_like) - 3600
    collapse = [e for e in trace.events if e.kind == COVARIANCE_COLLAPSE]
    assert {e.component for e in collapse} == {0, 1}
    assert "spike of 3,600 identical rows at (0, 0)" in collapse[0].message
    zero_events = [e for e in trace.events if e.kind == ZERO_DENSITY]
    assert any("400 of 4,000 rows have zero density" in e.message for e in zero_events)


def test_explanation_names_identical_start_collapse_and_zero_density(notebook_trace):
    sentences = explain_notebook_failure(notebook_trace)
    assert len(sentences) == 3
    assert sentences[0].startswith("Identical start: the random draw picked identical rows")
    assert sentences[1].startswith("Collapse at iteration")
    assert "spike of 3,600 identical rows" in sentences[1]
    assert sentences[2].startswith("Zero-density rows:")


def test_kmeans_plus_plus_em_does_not_fail_on_the_same_data(spectra_like):
    gmm = GMM(k=2, init="kmeans++").fit(spectra_like)
    means = gmm.means_
    assert np.linalg.norm(means[0] - means[1]) > 30
    outlier_component = np.argmax(means[:, 0])
    np.testing.assert_allclose(means[outlier_component], [40.0, 38.0], atol=2.0)
    assert not any(e.kind == IDENTICAL_COMPONENTS for e in gmm.trace_.events)


def test_a_start_off_the_spike_is_not_called_identical(spectra_like):
    rows = np.random.RandomState(2).choice(len(spectra_like), 2, replace=False)
    assert not np.array_equal(spectra_like[rows[0]], spectra_like[rows[1]])
    trace = fit_notebook(spectra_like, k=2, seed=2)
    assert not any(e.kind == IDENTICAL_COMPONENTS for e in trace.events)
    sentences = explain_notebook_failure(trace)
    assert not any(s.startswith("Identical") for s in sentences)
    assert any("spike of 3,600 identical rows" in s for s in sentences)


def test_well_separated_data_replays_without_events():
    rng = np.random.default_rng(1)
    X = np.vstack([rng.normal(0, 1, size=(150, 2)), rng.normal(8, 1, size=(150, 2))])
    trace = fit_notebook(X, k=2, seed=0)
    assert trace.events == []
    assert trace.converged
    np.testing.assert_array_equal(trace.zero_density, 0)
    centres = np.sort(trace.means[-1][:, 0])
    np.testing.assert_allclose(centres, [0, 8], atol=0.3)
    assert explain_notebook_failure(trace)[0].startswith("Nothing went wrong")


def test_trace_format_matches_the_em_core():
    X = small_random_data()
    trace = fit_notebook(X, k=3, max_iters=5, tol=0.0, trace_points=50)
    T = trace.n_iter + 1
    assert trace.algorithm == "notebook"
    assert trace.stop_reason == STOP_MAX_ITERS and T == 6
    assert trace.weights.shape == (T, 3) and trace.means.shape == (T, 3, 2)
    assert trace.covariances.shape == (T, 3, 2, 2)
    assert trace.mean_log_likelihood.shape == (T,) and trace.zero_density.shape == (T,)
    assert trace.responsibilities.shape == (T, 50, 3)
    assert trace.responsibilities.dtype == np.float32
    assert len(np.unique(trace.sample_index)) == 50
    # The notebook's +ε in the responsibilities' denominator leaves the weights a hair under 1.
    weight_sums = trace.weights.sum(axis=1)
    assert np.all(weight_sums <= 1.0) and np.all(weight_sums > 0.9999)
    assert trace.to_dict()["zero_density"] == [0] * T


def test_a_covariance_singular_at_the_data_scale_stops_the_replay_with_an_event():
    rng = np.random.default_rng(7)
    t = rng.uniform(size=100)
    X = np.vstack([np.column_stack([t, t]) * 1e5, rng.normal(0, 1e5, size=(3, 2))])
    trace = fit_notebook(X, k=2, seed=7)
    assert trace.stop_reason == STOP_NUMERICAL_FAILURE
    last = trace.events[-1]
    assert last.iteration == trace.n_iter
    assert "np.linalg.inv fails" in last.message
    assert explain_notebook_failure(trace)[-1].startswith(f"Breakdown at iteration {trace.n_iter}")
    assert np.all(np.isfinite(trace.means))


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"X": np.zeros(5)}, "2-D"),
    ({"X": np.zeros((3, 2)), "k": 4}, "at least 4 rows"),
    ({"X": np.zeros((1, 2)), "k": 1}, "at least 2 rows"),
    ({"X": [[0.0, np.nan], [1.0, 1.0]]}, "NaN"),
    ({"X": np.zeros((5, 2)), "epsilon": 0.0}, "epsilon must be a positive"),
    ({"X": np.zeros((5, 2)), "k": 0}, "k must be a positive integer"),
])
def test_bad_input_is_refused_with_a_clear_message(kwargs, message):
    with pytest.raises(ValueError, match=message):
        fit_notebook(**kwargs)


def test_data_whose_covariance_is_singular_cannot_start():
    with pytest.raises(ValueError, match="cannot start on this data"):
        fit_notebook(np.tile([[1e6, 1e6], [2e6, 2e6]], (20, 1)))
