"""``GaussianMixture``: a drop-in for ``sklearn.mixture.GaussianMixture`` on this engine.

Same constructor, attributes, methods, validation and warnings as scikit-learn's, so code
and tests written for scikit-learn run unchanged; the E- and M-steps are this project's
(``gmm_core.model.EMRun``: the fused block pass, the degenerate-component checks, the
internal scaling of gmm_core.scaling). ``GMM`` stays the project's own interface, with
its trace, events and options, over the same core.

scikit-learn's own checks of the given starts (``weights_init``, ``means_init``,
``precisions_init``) and of the constructor's arguments are used as they are, so the
messages are scikit-learn's word for word.
"""

from __future__ import annotations

import warnings
from time import time
from typing import ClassVar

import numpy as np
from sklearn.base import BaseEstimator, DensityMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.mixture import GaussianMixture as SklearnGaussianMixture
from sklearn.mixture._gaussian_mixture import _check_means, _check_precisions, _check_weights
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted, validate_data

from gmm_core.covariance import structure_for
from gmm_core.model import GMM, EMRun
from gmm_core.mstep import MixtureParameters, evaluate_mixture
from gmm_core.scaling import FeatureScaling
from gmm_core.trace import NOT_POSITIVE_DEFINITE

# scikit-learn's names for its starts, and this engine's.
STARTS = {"kmeans": "kmeans", "k-means++": "kmeans++", "random": "random",
          "random_from_data": "random_from_data"}


def _covariances_from_precisions(precisions: np.ndarray, covariance_type: str) -> np.ndarray:
    if covariance_type in ("full", "tied"):
        return np.linalg.inv(precisions)
    return 1.0 / precisions


def _precisions_from_cholesky(prec_chol: np.ndarray, covariance_type: str) -> np.ndarray:
    if covariance_type in ("full", "tied"):
        return prec_chol @ np.swapaxes(prec_chol, -1, -2)
    return prec_chol**2


def _refuse_repairs(run: EMRun) -> None:
    """scikit-learn stops where a covariance is not positive definite, where the engine
    would raise that component's regularization: the drop-in stops, with its message."""
    if any(event.kind == NOT_POSITIVE_DEFINITE for event in run.recorder.events):
        raise ValueError(
            "Fitting the mixture model failed because some components have ill-defined "
            "empirical covariance (for instance caused by singleton or collapsed samples). "
            "Try to decrease the number of components, increase reg_covar, or scale the "
            "input data.")


class GaussianMixture(DensityMixin, BaseEstimator):
    """Gaussian mixture fitted by EM, with scikit-learn's interface (see
    ``sklearn.mixture.GaussianMixture`` for every parameter and attribute)."""

    _parameter_constraints: ClassVar[dict] = dict(SklearnGaussianMixture._parameter_constraints)

    def __init__(self, n_components=1, *, covariance_type="full", tol=1e-3, reg_covar=1e-6,
                 max_iter=100, n_init=1, init_params="kmeans", weights_init=None,
                 means_init=None, precisions_init=None, random_state=None, warm_start=False,
                 verbose=0, verbose_interval=10):
        self.n_components = n_components
        self.covariance_type = covariance_type
        self.tol = tol
        self.reg_covar = reg_covar
        self.max_iter = max_iter
        self.n_init = n_init
        self.init_params = init_params
        self.weights_init = weights_init
        self.means_init = means_init
        self.precisions_init = precisions_init
        self.random_state = random_state
        self.warm_start = warm_start
        self.verbose = verbose
        self.verbose_interval = verbose_interval

    # ------------------------------------------------------------------ fitting
    def fit(self, X, y=None):
        self.fit_predict(X, y)
        return self

    def fit_predict(self, X, y=None):
        self._validate_params()
        X = validate_data(self, X, dtype=[np.float64, np.float32], ensure_min_samples=2)
        if X.shape[0] < self.n_components:
            raise ValueError("Expected n_samples >= n_components but got n_components = "
                             f"{self.n_components}, n_samples = {X.shape[0]}")
        engine = self._engine(self.n_components, X.shape[1])
        rows, blocks, structure, scaling, regularization = engine._prepare(X)
        do_init = not (self.warm_start and hasattr(self, "converged_"))
        random_state = check_random_state(self.random_state)
        best, best_bound, best_bounds = None, -np.inf, []
        self.converged_ = False
        for init in range(self.n_init if do_init else 1):
            self._verbose_init_begins(init)
            run = EMRun(engine, rows, blocks, structure, random_state, regularization, scaling)
            if do_init:
                run.start()
                _refuse_repairs(run)
            else:  # warm start: where the last fit left off
                run.params, run.prec_chol = self._state
            bound = -np.inf if do_init else self.lower_bound_
            bounds, converged, n_iter = [], False, 0
            for n_iter in range(1, self.max_iter + 1):
                previous = bound
                result = run.e_step()
                bound = result.mean_log_likelihood + scaling.log_likelihood_shift
                run.m_step(result, n_iter)
                _refuse_repairs(run)
                bounds.append(bound)
                self._verbose_iteration(n_iter, bound - previous)
                if abs(bound - previous) < self.tol:
                    converged = True
                    break
            if self.max_iter:
                self._verbose_init_ends(bound, converged)
            if best is None or bound > best_bound:
                best, best_bound, best_bounds = (run.params, run.prec_chol), bound, bounds
                best_n_iter, self.converged_ = n_iter, converged
        if not self.converged_ and self.max_iter > 0:
            warnings.warn("Best performing initialization did not converge. Try different "
                          "init parameters, or increase max_iter, tol, or check for "
                          "degenerate data.", ConvergenceWarning, stacklevel=2)
        self._set_state(best, structure, scaling, blocks.shift[:, 0], X.dtype)
        self.n_iter_ = best_n_iter
        self.lower_bound_ = best_bound
        self.lower_bounds_ = best_bounds
        # The labels of the final parameters, as fit(X).predict(X) gives them.
        return self._evaluate(X)[1].argmax(axis=1)

    def _initialize(self, X, resp):
        """The parameters of one M-step from the responsibilities ``resp``, the given
        starts in their place, as scikit-learn's ``GaussianMixture._initialize``."""
        # scikit-learn's tests call this private method, with as many components as resp has.
        X = validate_data(self, X, dtype=[np.float64, np.float32])
        engine = self._engine(resp.shape[1], X.shape[1])
        rows, blocks, structure, scaling, regularization = engine._prepare(X)
        run = EMRun(engine, rows, blocks, structure, check_random_state(self.random_state),
                    regularization, scaling)
        run.start(np.asarray(resp, dtype=np.float64))
        _refuse_repairs(run)
        self._set_state((run.params, run.prec_chol), structure, scaling, blocks.shift[:, 0],
                        X.dtype)

    def _set_parameters(self, params):
        """The fitted state from ``(weights, means, covariances, precisions_cholesky)`` in
        the data's units, as scikit-learn's private setter (its tests call it)."""
        weights, means, covariances, prec_chol = (np.asarray(value) for value in params)
        structure = structure_for(self.covariance_type, *means.shape)
        state = (MixtureParameters(*(value.astype(np.float64)
                                     for value in (weights, means, covariances))),
                 prec_chol.astype(np.float64))
        self._set_state(state, structure, FeatureScaling.identity(structure),
                        np.zeros(means.shape[1]), means.dtype)

    def _engine(self, n_components: int, n_features: int) -> GMM:
        """The engine's settings for this fit, the given starts checked as scikit-learn
        checks them."""
        given = {}
        if self.weights_init is not None:
            given["weights_init"] = _check_weights(self.weights_init, n_components, xp=np)
        if self.means_init is not None:
            given["means_init"] = _check_means(self.means_init, n_components, n_features, xp=np)
        if self.precisions_init is not None:
            precisions = _check_precisions(self.precisions_init, self.covariance_type,
                                           n_components, n_features, xp=np)
            given["covariances_init"] = _covariances_from_precisions(
                np.asarray(precisions, dtype=np.float64), self.covariance_type)
        return GMM(k=n_components, covariance_type=self.covariance_type,
                   tol=self.tol, max_iters=max(1, self.max_iter), reg_covar=self.reg_covar,
                   init=STARTS[self.init_params], seed=0, trace_points=1, **given)

    def _set_state(self, state, structure, scaling, shift, dtype) -> None:
        params, prec_chol = state
        self._state, self._structure = state, structure
        self._scaling, self._shift = scaling, shift
        fitted = scaling.to_data(params)
        data_prec_chol = scaling.precision_cholesky_to_data(prec_chol)
        self.weights_ = fitted.weights.astype(dtype)
        self.means_ = fitted.means.astype(dtype)
        self.covariances_ = np.asarray(fitted.covariances).astype(dtype)
        self.precisions_cholesky_ = data_prec_chol.astype(dtype)
        self.precisions_ = _precisions_from_cholesky(data_prec_chol,
                                                     self.covariance_type).astype(dtype)

    # ------------------------------------------------------------------ scoring
    def _evaluate(self, X):
        """Per-row log-likelihood and responsibilities of the fitted mixture."""
        params, prec_chol = self._state
        log_likelihood, responsibilities = evaluate_mixture(
            self._scaling.to_internal_rows(X), self._structure, params, prec_chol, self._shift)
        log_likelihood += self._scaling.log_likelihood_shift
        return log_likelihood.astype(X.dtype), responsibilities.astype(X.dtype)

    def _checked(self, X):
        check_is_fitted(self)
        return validate_data(self, X, reset=False, dtype=[np.float64, np.float32])

    def score_samples(self, X):
        return self._evaluate(self._checked(X))[0]

    def score(self, X, y=None):
        return float(self.score_samples(X).mean())

    def predict(self, X):
        return self._evaluate(self._checked(X))[1].argmax(axis=1)

    def predict_proba(self, X):
        return self._evaluate(self._checked(X))[1]

    def sample(self, n_samples=1):
        """``(X, y)``: ``n_samples`` rows drawn from the fitted mixture and their
        components, in scikit-learn's order (component by component)."""
        check_is_fitted(self)
        if n_samples < 1:
            raise ValueError(f"Invalid value for 'n_samples': {n_samples} . The sampling "
                             "requires at least one sample.")
        rng = check_random_state(self.random_state)
        counts = rng.multinomial(n_samples, self.weights_)
        covariances = self._structure.to_full(np.asarray(self.covariances_, dtype=np.float64))
        X = np.vstack([rng.multivariate_normal(mean, covariance, int(count))
                       for mean, covariance, count in zip(self.means_, covariances, counts,
                                                          strict=True)])
        y = np.repeat(np.arange(self.n_components), counts)
        return X.astype(self.means_.dtype), y

    def _n_parameters(self) -> int:
        """Free parameters (scikit-learn's private name, which its tests call)."""
        structure = self._structure
        return structure.n_parameters() + structure.k * structure.d + structure.k - 1

    def bic(self, X):
        return -2 * self.score(X) * X.shape[0] + self._n_parameters() * np.log(X.shape[0])

    def aic(self, X):
        return -2 * self.score(X) * X.shape[0] + 2 * self._n_parameters()

    # ------------------------------------------------------------------ verbose output
    def _verbose_init_begins(self, init: int) -> None:
        if self.verbose:
            print(f"Initialization {init}")
            self._init_time = self._iter_time = time()

    def _verbose_iteration(self, n_iter: int, change: float) -> None:
        if not self.verbose or n_iter % self.verbose_interval:
            return
        if self.verbose == 1:
            print(f"  Iteration {n_iter}")
        else:
            now = time()
            print(f"  Iteration {n_iter}\t time lapse {now - self._iter_time:.5f}s\t ll "
                  f"change {change:.5f}")
            self._iter_time = now

    def _verbose_init_ends(self, bound: float, converged: bool) -> None:
        if self.verbose == 1:
            print(f"Initialization converged: {converged}")
        elif self.verbose >= 2:
            print(f"Initialization converged: {converged}\t time lapse "
                  f"{time() - self._init_time:.5f}s\t lower bound {bound:.5f}.")
