"""The GMM estimator: EM in log space, a recorded trace, and a policy for degenerate fits."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from gmm_core.covariance import (
    CovarianceStructure,
    NotPositiveDefiniteError,
    n_parameters,
    structure_for,
)
from gmm_core.distributed import is_dask_array
from gmm_core.estep import DesignBlocks, PassResult, evaluate_rows
from gmm_core.init import initial_parameters, parameters_from_partition
from gmm_core.mstep import (
    MixtureParameters,
    design_weights,
    evaluate_mixture,
    parameters_from_statistics,
)
from gmm_core.noise import (
    check_noise_options,
    labels_from_responsibilities,
    log_noise_density,
)
from gmm_core.request import (
    CONVERGENCE_RULES,
    COVARIANCE_CHOICES,
    DEGENERATE_POLICIES,
    REGULARIZATIONS,
    STARTS,
    check_choice,
)
from gmm_core.scaling import (
    FeatureScaling,
    RowSummary,
    check_magnitudes,
    internal_regularization,
    internal_scale,
    summarize_rows,
)
from gmm_core.singular import SingularTest
from gmm_core.trace import (
    IDENTICAL_COMPONENTS,
    NOT_POSITIVE_DEFINITE,
    REGULARIZED,
    REINITIALIZED,
    SINGULAR,
    STOP_CONVERGED,
    STOP_MAX_ITERS,
    WEIGHT_COLLAPSE,
    FitTrace,
    TraceRecorder,
    display_sample_index,
    display_sample_size,
)
from gmm_core.validation import (
    check_initial_covariances,
    check_initial_means,
    check_initial_weights,
    validate_data,
)

# A regularization raised ten-fold this many times is a covariance no data supports.
MAX_REGULARIZATION_STEPS = 30


class DegenerateFitError(RuntimeError):
    """Raised under ``on_degenerate="raise"``; names the component and the iteration."""

    def __init__(self, message: str, component: int, iteration: int):
        super().__init__(message)
        self.component = component
        self.iteration = iteration


def bic_from(mean_log_likelihood: float, n_samples: int, n_parameters: int) -> float:
    """Bayesian information criterion from a mean log-likelihood (lower is better)."""
    return -2 * mean_log_likelihood * n_samples + n_parameters * np.log(n_samples)


def aic_from(mean_log_likelihood: float, n_samples: int, n_parameters: int) -> float:
    """Akaike information criterion from a mean log-likelihood (lower is better)."""
    return -2 * mean_log_likelihood * n_samples + 2 * n_parameters


def icl_from(bic: float, responsibilities: np.ndarray) -> float:
    """Integrated completed likelihood, in the sign of ``bic_from`` (lower is better).

    mclust's ``icl()`` (Biernacki, Celeux & Govaert 2000, IEEE TPAMI 22(7)): the BIC
    penalized by twice the entropy of the MAP classification,
    ``bic - 2 * sum_i log z_i,map(i)``, which grows when components overlap.
    """
    # The row maxima taken down the columns of a transposed copy: along the short rows of
    # an (n, k) array numpy loops once per row, ten times slower (a maximum is exact in
    # any order).
    top = np.ascontiguousarray(responsibilities.T).max(axis=0)
    return bic - 2 * float(np.log(top).sum())


# Two fits' criteria this close, relative, differ by rounding: a BIC sums n log-densities,
# and another summation order (another BLAS kernel, another block size) moves its last
# digits by about n * machine epsilon relative.
CRITERION_RTOL = 1e-9


def criterion_order(ours: float, theirs: float) -> str:
    """"equal", "lower" or "higher": ``ours`` against ``theirs``, rounding counted as equal."""
    if abs(ours - theirs) <= CRITERION_RTOL * max(abs(ours), abs(theirs)):
        return "equal"
    return "lower" if ours < theirs else "higher"


@dataclass
class _Run:
    params: MixtureParameters
    prec_chol: np.ndarray
    lower_bound: float
    n_iter: int
    converged: bool
    trace: FitTrace | None  # None for a scores-only run
    singular: dict[int, str]
    # Per-row log-likelihood and responsibilities of the final parameters, in the fit's
    # internal units, for a scores-only run (GMM.fit_evaluate).
    evaluation: tuple[np.ndarray, np.ndarray] | None = None


class GMM:
    """Gaussian mixture fitted by EM, with scikit-learn's conventions.

    ``convergence="loglik"`` stops, as scikit-learn does, when the mean log-likelihood
    changes by less than ``tol`` between two E-steps; ``"means"`` is the notebook's rule,
    ``||mu_new - mu_old||_2 < tol`` over all means. With ``tol=0`` it runs exactly
    ``max_iters`` iterations. ``lower_bound_`` is scikit-learn's: the mean
    log-likelihood at the last E-step, i.e. of the parameters before the final M-step;
    ``trace_.mean_log_likelihood[-1]`` (and ``score``) is that of the final parameters.

    Float32 input is read in float32 and computed in float64, block by block.

    Units (gmm_core.scaling): a feature whose spread is far from 1 is fitted divided by a
    power of two and the parameters multiplied back exactly; data whose variance float64
    cannot hold are refused. ``reg_covar`` is added to each variance as is
    (``regularization="absolute"``, scikit-learn's meaning; a UserWarning says when it
    swamps a feature's variance) or times that feature's variance (``"relative"``: the
    same fit in any units).

    ``singular_`` maps each singular component of the fit to why it is singular (empty
    for a sound fit; see gmm_core.singular). With ``n_init`` restarts a sound fit is kept
    over a singular one of higher likelihood.

    ``noise=True`` adds mclust's noise component (gmm_core.noise): a constant density
    ``vinv`` (default 1 / mclust's ``hypvol`` of the data) whose weight EM estimates
    with the others, starting at ``noise_init`` (the Gaussians' start keeps the rest).
    ``noise_weight_`` is its fitted weight (``weights_`` then sum to 1 minus it), its
    responsibility is the last column of ``predict_proba``, ``predict`` labels its rows
    -1 (mclust's 0), and it counts as one more free parameter in BIC, AIC and ICL.
    """

    def __init__(self, k: int = 2, covariance_type: str = "full", tol: float = 1e-4,
                 max_iters: int = 100, reg_covar: float = 1e-6, init: str = "kmeans++",
                 convergence: str = "loglik", seed: int | None = 42, n_init: int = 1,
                 weights_init=None, means_init=None, covariances_init=None,
                 on_degenerate: str = "regularize", trace_points: int = 5000,
                 trace_memory_mb: float = 256, on_iteration=None,
                 regularization: str = "absolute", noise: bool = False,
                 vinv: float | None = None, noise_init: float = 0.1):
        self.k = k
        self.covariance_type = covariance_type
        self.tol = tol
        self.max_iters = max_iters
        self.reg_covar = reg_covar
        self.init = init
        self.convergence = convergence
        self.seed = seed
        self.n_init = n_init
        self.weights_init = weights_init
        self.means_init = means_init
        self.covariances_init = covariances_init
        self.on_degenerate = on_degenerate
        self.trace_points = trace_points
        self.trace_memory_mb = trace_memory_mb
        # Called as on_iteration(iteration, mean_log_likelihood) after each M-step: the
        # progress of a long fit (a catalog on a cluster).
        self.on_iteration = on_iteration
        self.regularization = regularization
        self.noise = noise
        self.vinv = vinv
        self.noise_init = noise_init

    # ------------------------------------------------------------------ public API
    def fit(self, X, rows: RowSummary | None = None, partition: np.ndarray | None = None) -> GMM:
        """Fit by EM. ``X`` may be a ``dask.array``: the pass then runs on the current
        Dask client, the rows staying on its workers (gmm_core.distributed).

        What the caller already has, computed once for several fits (a model-selection
        sweep's): ``rows``, ``gmm_core.scaling.summarize_rows(X)``; ``partition``, the
        labels ``(n,)`` or responsibilities ``(n, k)`` the start ``init`` draws from
        ``seed`` (``gmm_core.init.PARTITION_INITIALIZERS``), for a single run
        (``n_init=1``) without given initial values."""
        self._fit(X, rows, partition, evaluate=False)
        return self

    def fit_evaluate(self, X, rows: RowSummary | None = None,
                     partition: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """``fit(X, rows, partition).evaluate(X)`` for a caller that keeps scores only (a
        model-selection sweep), rows in memory: the fit records no trace (``trace_`` is
        None; its other attributes are ``fit``'s) and the evaluation is its last pass."""
        if is_dask_array(X):
            raise ValueError("fit_evaluate needs the rows in memory; use fit(X) and "
                             "evaluate a sample of them")
        log_likelihood, responsibilities = self._fit(X, rows, partition, evaluate=True)
        return log_likelihood + self._scaling.log_likelihood_shift, responsibilities

    def _fit(self, X, rows, partition, evaluate: bool) -> tuple[np.ndarray, np.ndarray] | None:
        self.check_parameters()
        if partition is not None and (self.n_init != 1 or any(
                value is not None for value in (self.weights_init, self.means_init,
                                                self.covariances_init))):
            raise ValueError("a given partition is the start of a single run (n_init=1) "
                             "with no given initial values")
        X, blocks, structure, scaling, regularization = self._prepare(X, rows)
        # Seeded when first drawn from, once for all the runs: seeding a RandomState costs
        # more than a small fit's EM iteration, and a fit from a given start never draws.
        rng = functools.cache(lambda: np.random.RandomState(self.seed))
        # A sound fit beats a singular one of higher likelihood: a singular component's
        # likelihood is bounded only by the regularization (gmm_core.singular).
        runs = [EMRun(self, X, blocks, structure, rng, regularization, scaling,
                      self._log_vinv).run(partition, scores_only=evaluate)
                for _ in range(self.n_init)]
        best = max(runs, key=lambda run: (not run.singular, run.lower_bound))
        self._params, self._prec_chol = best.params, best.prec_chol
        fitted = scaling.to_data(best.params)
        self.weights_ = fitted.weights
        self.noise_weight_ = fitted.noise_weight
        self.vinv_ = (None if self._log_vinv is None
                      else float(np.exp(self._log_vinv + scaling.log_likelihood_shift)))
        self.means_ = fitted.means
        self.covariances_ = fitted.covariances
        self.precisions_cholesky_ = scaling.precision_cholesky_to_data(best.prec_chol)
        self.converged_ = best.converged
        self.n_iter_ = best.n_iter
        self.lower_bound_ = best.lower_bound + scaling.log_likelihood_shift
        self.trace_ = best.trace
        self.singular_ = best.singular
        self.n_features_in_ = structure.d
        return best.evaluation

    def _prepare(self, X, rows: RowSummary | None = None):
        """The rows in the fit's internal units, their blocks, the covariance structure,
        the scaling to and from the data's units, and the regularization in internal
        units. Sets ``_structure``, ``_scaling``, ``_shift`` and ``_log_vinv`` (the noise
        component's log-density in internal units, None without one) for scoring."""
        if is_dask_array(X) and self.noise:
            raise ValueError("a noise component needs the rows in memory (its volume is "
                             "the data's); it is not available on a Dask cluster")
        log_vinv = None
        if is_dask_array(X):
            from gmm_core.distributed import ClusterBlocks, check_rows

            rows = check_rows(X, min_rows=self.k)
            structure = structure_for(self.covariance_type, self.k, rows.shape[1])
            blocks = ClusterBlocks(rows, structure, self._sample_size(rows.shape[0]),
                                   self.seed)
            X = blocks.sample
            scaling = FeatureScaling.identity(structure)
            spread = blocks.spread
        else:
            X = validate_data(X, min_rows=self.k)
            if self.noise:
                log_vinv = log_noise_density(X, self.vinv)
            n, d = X.shape
            structure = structure_for(self.covariance_type, self.k, d)
            rows = summarize_rows(X) if rows is None else rows
            shift, spread = rows.location, rows.spread
            check_magnitudes(spread, reg_covar=self.reg_covar,
                             regularization=self.regularization)
            scaling = FeatureScaling(structure, internal_scale(
                spread, self.covariance_type, self.reg_covar, self.regularization))
            X = scaling.to_internal_rows(X)
            blocks = DesignBlocks(X, shift / scaling.scale, structure,
                                  display_sample_index(n, self._sample_size(n), self.seed))
            if rows.spread_is_std and scaling.is_identity:
                blocks.spread = spread  # what the blocks would compute from the same rows
        regularization = internal_regularization(self.reg_covar, self.regularization, spread,
                                                 scaling.scale)
        self._structure, self._scaling = structure, scaling
        self._shift = blocks.shift[:, 0]
        # Densities in internal units are those in the data's times prod(scale).
        self._log_vinv = (None if log_vinv is None
                          else log_vinv - scaling.log_likelihood_shift)
        return X, blocks, structure, scaling, regularization

    def _sample_size(self, n_samples: int) -> int:
        return display_sample_size(n_samples, self.k + self.noise, self.max_iters,
                                   self.trace_points, int(self.trace_memory_mb * 2**20))

    def fit_predict(self, X) -> np.ndarray:
        return self.fit(X).predict(X)

    def score_samples(self, X) -> np.ndarray:
        return self.evaluate(X)[0]

    def score(self, X) -> float:
        return float(self.score_samples(X).mean())

    def predict_proba(self, X) -> np.ndarray:
        return self.evaluate(X)[1]

    def predict(self, X) -> np.ndarray:
        """Each row's most responsible component; -1 for the noise component."""
        return labels_from_responsibilities(self.predict_proba(X), self.noise)

    def n_parameters(self) -> int:
        """Free parameters; the noise component adds its weight (mclust's
        ``nMclustParams(..., noise = TRUE)``)."""
        self._check_fitted()
        return n_parameters(self.covariance_type, self.k, self.n_features_in_) + self.noise

    def bic(self, X) -> float:
        X = validate_data(X)
        return bic_from(self.score(X), len(X), self.n_parameters())

    def aic(self, X) -> float:
        X = validate_data(X)
        return aic_from(self.score(X), len(X), self.n_parameters())

    def icl(self, X) -> float:
        """BIC plus twice the entropy of the hard classification (see ``icl_from``)."""
        log_likelihood, responsibilities = self.evaluate(X)
        bic = bic_from(log_likelihood.mean(), len(log_likelihood), self.n_parameters())
        return icl_from(bic, responsibilities)

    def sample(self, n_samples: int = 1, seed: int | None = None):
        """Draw ``n_samples`` rows from the fitted mixture; returns ``(X, labels)``."""
        self._check_fitted()
        if self.noise:
            raise ValueError("sample() draws from Gaussian components; the noise "
                             "component's region (mclust's hypvol) is a volume, not a shape "
                             "to draw from")
        if int(n_samples) < 1:
            raise ValueError(f"n_samples must be at least 1; got {n_samples}")
        rng = np.random.default_rng(self.seed if seed is None else seed)
        counts = rng.multinomial(int(n_samples), self.weights_)
        covariances = self._structure.to_full(self.covariances_)
        draws = [
            rng.multivariate_normal(mean, cov, size=count, method="cholesky")
            for mean, cov, count in zip(self.means_, covariances, counts, strict=True)
        ]
        labels = np.repeat(np.arange(self.k), counts)
        return np.vstack(draws), labels

    # ------------------------------------------------------------------ internals
    def check_parameters(self) -> None:
        """Raise ValueError naming the first constructor argument that is out of range."""
        check_choice("covariance_type", self.covariance_type, COVARIANCE_CHOICES)
        check_choice("init", self.init, STARTS)
        check_choice("convergence", self.convergence, CONVERGENCE_RULES)
        check_choice("on_degenerate", self.on_degenerate, DEGENERATE_POLICIES)
        check_choice("regularization", self.regularization, REGULARIZATIONS)
        check_noise_options(self.noise, self.vinv, self.noise_init)
        for name in ("k", "max_iters", "n_init", "trace_points"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
                raise ValueError(f"{name} must be a positive integer; got {value!r}")
        for name in ("tol", "reg_covar"):
            value = getattr(self, name)
            if not (np.isscalar(value) and np.isfinite(value) and value >= 0):
                raise ValueError(f"{name} must be a finite number >= 0; got {value!r}")

    def _check_fitted(self) -> None:
        if not hasattr(self, "trace_"):
            raise RuntimeError("this GMM is not fitted yet: call fit(X) first")

    def evaluate(self, X) -> tuple[np.ndarray, np.ndarray]:
        """Per-row log-likelihood ``(n,)`` and responsibilities ``(n, k)``, from one pass:
        ``score_samples(X)`` and ``predict_proba(X)`` at the cost of one."""
        self._check_fitted()
        X = self._scaling.to_internal_rows(validate_data(X, n_features=self.n_features_in_))
        log_likelihood, responsibilities = evaluate_mixture(
            X, self._structure, self._params, self._prec_chol, self._shift, self._log_vinv)
        return log_likelihood + self._scaling.log_likelihood_shift, responsibilities


class EMRun:
    """One EM run from one initialization, recording its trace."""

    def __init__(self, model: GMM, X: np.ndarray, blocks: DesignBlocks,
                 structure: CovarianceStructure,
                 rng: np.random.RandomState | Callable[[], np.random.RandomState],
                 regularization=None, scaling: FeatureScaling | None = None,
                 log_vinv: float | None = None):
        """``X`` and ``blocks`` in the fit's internal units (``scaling``, default none);
        ``rng`` is the run's random state, or a function returning it when first needed;
        ``regularization`` is what the M-step adds to each variance, in those units
        (default: ``model.reg_covar``); ``log_vinv``, in those units too, is the noise
        component's log-density (None: no noise component)."""
        self.model = model
        self.reg = model.reg_covar if regularization is None else regularization
        self.scaling = scaling or FeatureScaling.identity(structure)
        self.X = X
        self.blocks = blocks
        self.structure = structure
        self._rng = rng
        self.n = blocks.n  # X holds every row in memory, only a sample on a cluster
        self.shift = blocks.shift[:, 0]
        self.log_vinv = log_vinv
        self.recorder = TraceRecorder(structure.name, self.n, blocks.sample_index)
        self.extra_reg = np.zeros(model.k)
        self.collapsed: set[int] = set()
        self.identical_pairs: set[tuple[int, int]] = set()
        self.worst_rows: np.ndarray | None = None
        self.singular: dict[int, str] = {}
        self._design_weights: tuple = (None, None, None)  # (params, prec_chol, weights)
        self.recording = True  # snapshots and events into the trace (see ``run``)

    @functools.cached_property
    def _upper_pairs(self) -> np.ndarray:
        return np.triu(np.ones((self.model.k, self.model.k), dtype=bool), 1)  # (i < j)

    @functools.cached_property
    def _singular_test(self) -> SingularTest:
        return SingularTest(self.structure.name, self.structure.d, self.blocks.spread)

    @property
    def rng(self) -> np.random.RandomState:
        return self._rng if isinstance(self._rng, np.random.RandomState) else self._rng()

    # -- the loop, and its two half-steps (the classroom stepper drives them too) -------
    def start(self, responsibilities: np.ndarray | None = None) -> None:
        """Initial parameters, checked for degenerate components (iteration 0): one M-step
        from ``responsibilities`` (``(n, k)``, or labels ``(n,)``) when given, else from
        the model's start."""
        self.structure.start_run()
        self.params = self._initial_parameters(responsibilities)
        if self.log_vinv is not None:
            self.params.weights = self.params.weights * (1 - self.model.noise_init)
            self.params.noise_weight = float(self.model.noise_init)
        self.prec_chol = self._checked_factors(self.params, iteration=0)
        self._check_start_computable()

    def e_step(self, collect_statistics: bool = True) -> PassResult:
        """Responsibilities of the current parameters; records them as a snapshot."""
        result = self.blocks.run_pass(self.design_weights(), collect_statistics,
                                      find_worst_row=self.model.on_degenerate == "reinit")
        if self.recording:
            self._record(self.params, result)
        self.worst_rows = np.array([result.worst_row])
        return result

    def m_step(self, result: PassResult, iteration: int) -> None:
        """New parameters from an E-step's statistics, checked for degenerate components."""
        params = parameters_from_statistics(result.statistics, self.structure, self.shift,
                                            self.reg)
        self._apply_extra_regularization(params)
        self.prec_chol = self._checked_factors(params, iteration)
        self.params = params
        if self.recording:
            self._check_singular(iteration)

    def design_weights(self) -> np.ndarray:
        """The E-step's weights for the current parameters (gmm_core.mstep.design_weights),
        made once per parameters: the start's check has already made the first ones."""
        params, prec_chol, weights = self._design_weights
        if params is not self.params or prec_chol is not self.prec_chol:
            weights = design_weights(self.structure, self.params, self.prec_chol, self.shift,
                                     self.log_vinv)
            self._design_weights = (self.params, self.prec_chol, weights)
        return weights

    def run(self, responsibilities: np.ndarray | None = None,
            scores_only: bool = False) -> _Run:
        """EM from the start ``start(responsibilities)`` takes, to convergence.

        ``scores_only``: the run records no trace (no snapshots, no events; its singular
        components are found once, from the final parameters) and keeps the final
        parameters' per-row evaluation instead, from its last pass (rows in memory)."""
        m = self.model
        self.recording = not scores_only
        self.start(responsibilities)
        lower_bound, converged, n_iter = -np.inf, False, 0
        for n_iter in range(1, m.max_iters + 1):
            previous_bound, previous_means = lower_bound, self.params.means
            result = self.e_step()
            lower_bound = result.mean_log_likelihood
            self.m_step(result, n_iter)
            if m.on_iteration is not None:
                m.on_iteration(n_iter, lower_bound)
            if m.convergence == "loglik":
                change = abs(lower_bound - previous_bound)
            else:
                change = float(np.linalg.norm(self.params.means - previous_means))
            if change < m.tol:
                converged = True
                break
        if scores_only:
            self._check_singular(n_iter)
            evaluation = evaluate_rows(self.blocks, self.design_weights())
            return _Run(self.params, self.prec_chol, lower_bound, n_iter, converged, None,
                        self.singular, evaluation)
        self.e_step(collect_statistics=False)
        trace = self.recorder.finish(STOP_CONVERGED if converged else STOP_MAX_ITERS)
        return _Run(self.params, self.prec_chol, lower_bound, n_iter, converged, trace,
                    self.singular)

    def _record(self, params, result) -> None:
        params = self.scaling.to_data(params)  # the trace is in the data's units
        self.recorder.record(params.weights, params.means,
                             self.structure.to_full(params.covariances),
                             result.mean_log_likelihood + self.scaling.log_likelihood_shift,
                             result.sample_responsibilities,
                             noise_weight=params.noise_weight)

    # -- initialization ----------------------------------------------------------------
    def _initial_parameters(self, responsibilities: np.ndarray | None) -> MixtureParameters:
        m, k, d = self.model, self.model.k, self.structure.d
        # Each given value is checked before anything is computed from it, so a message
        # names what the user gave, never a value derived from it.
        given = {
            "weights": None if m.weights_init is None
            else check_initial_weights(m.weights_init, k),
            "means": None if m.means_init is None else check_initial_means(m.means_init, k, d),
            "covariances": None if m.covariances_init is None
            else check_initial_covariances(m.covariances_init, self.structure.name, k, d),
        }
        # In the fit's internal units (the weights have none).
        if given["means"] is not None:
            given["means"] = self.scaling.means_to_internal(given["means"])
        if given["covariances"] is not None:
            given["covariances"] = self.scaling.covariances_to_internal(given["covariances"])
        if all(value is not None for value in given.values()):
            return MixtureParameters(**given)
        if responsibilities is None:
            params = initial_parameters(m.init, self.X, m.k, self.structure,
                                        self.blocks.in_memory, self.reg, self.rng,
                                        given["means"])
        else:
            params = parameters_from_partition(responsibilities, m.k, self.structure,
                                               self.blocks.in_memory, self.reg)
        for name, value in given.items():
            if value is not None:
                setattr(params, name, value)
        return params

    def _check_start_computable(self) -> None:
        """ValueError when a starting component's log-density overflows float64 (a mean
        so far from the data that its squared distance has no float64 value), naming the
        given arguments that placed it there."""
        with np.errstate(over="ignore", invalid="ignore"):
            terms = self.design_weights()[:, :self.model.k]  # the noise column is constant
        # A weight of 0 gives log-weight -inf, which is sound.
        broken = ~np.isfinite(terms[:-1]).all(axis=0) | ~(
            np.isfinite(terms[-1]) | (self.params.weights == 0))
        if not broken.any():
            return
        j = int(np.argmax(broken))
        m = self.model
        given = [name for name in ("means_init", "covariances_init")
                 if getattr(m, name) is not None]
        distance = np.abs(self.params.means[j] - self.shift) * self.scaling.scale
        raise ValueError(
            f"the start's component {j} lies {distance.max():.3g} from the data's mean, too "
            "far for float64: its squared distance, and so its log-density, overflows. "
            + (f"Check {' and '.join(given)}." if given else "Rescale the data."))

    # -- degenerate components ---------------------------------------------------------
    def _apply_extra_regularization(self, params: MixtureParameters) -> None:
        if not self.extra_reg.any():
            return
        for component in np.flatnonzero(self.extra_reg):
            self.structure.add_to_diagonal(params.covariances, component,
                                           self.extra_reg[component])

    def _factorize(self, params: MixtureParameters, iteration: int) -> np.ndarray:
        """Precision Cholesky factors, repairing components that are not positive definite."""
        failed: list[int] = []
        for _ in range(MAX_REGULARIZATION_STEPS):
            try:
                return self.structure.precision_cholesky(params.covariances)
            except NotPositiveDefiniteError as error:
                failed = error.components
            for component in failed:
                self._repair_not_positive_definite(params, component, iteration)
        raise DegenerateFitError(
            f"component {failed[0]}'s covariance could not be made positive definite "
            f"at iteration {iteration}", failed[0], iteration)

    def _repair_not_positive_definite(self, params, component, iteration) -> None:
        m = self.model
        what = f"component {component}'s covariance is not positive definite"
        if m.on_degenerate == "raise":
            raise DegenerateFitError(
                f"{what} at iteration {iteration} (it collapsed onto a point or a line)",
                component, iteration)
        if m.on_degenerate == "reinit" and iteration > 0:
            self._reinitialize(params, component, iteration, why=what)
            return
        scale = abs(self.structure.diagonal_scale(params.covariances, component))
        step = max(np.max(self.reg), 1e-12 * max(scale, 1.0), self.extra_reg[component] * 9)
        self.extra_reg[component] += step
        self.structure.add_to_diagonal(params.covariances, component, step)
        self.recorder.add_event(
            iteration, NOT_POSITIVE_DEFINITE,
            f"At iteration {iteration}, {what} (it collapsed onto a point or a line).",
            component)
        self.recorder.add_event(
            iteration, REGULARIZED,
            f"Component {component}'s regularization was raised by {step:.1e} to "
            f"{np.max(self.reg) + self.extra_reg[component]:.1e} on its diagonal.", component)

    def _checked_factors(self, params: MixtureParameters, iteration: int) -> np.ndarray:
        """Precision factors after the degenerate-component checks and their repairs."""
        prec_chol = self._factorize(params, iteration)
        if self._check_components(params, iteration):
            prec_chol = self._factorize(params, iteration)
        return prec_chol

    def _check_components(self, params: MixtureParameters, iteration: int) -> bool:
        """Record collapsed and identical components; apply the policy.

        Returns whether a component was re-initialized (its factors are then stale).
        """
        m = self.model
        changed = False
        collapsed = np.flatnonzero(params.weights * self.n < 1.0)
        for component in collapsed:
            if component in self.collapsed:
                continue
            self.collapsed.add(int(component))
            message = (f"At iteration {iteration}, component {component}'s weight fell to "
                       f"{params.weights[component]:.2e}, under 1/N = {1 / self.n:.2e}: "
                       "it explains less than one data point.")
            self.recorder.add_event(iteration, WEIGHT_COLLAPSE, message, int(component))
            if m.on_degenerate == "raise":
                raise DegenerateFitError(message, int(component), iteration)
            if m.on_degenerate == "reinit" and iteration > 0:
                self._reinitialize(params, int(component), iteration, why="its weight collapsed")
                changed = True
        if changed:  # a restart gave a component new weights
            collapsed = np.flatnonzero(params.weights * self.n < 1.0)
        self.collapsed &= set(collapsed.tolist())
        for first, second in self._identical_pairs(params):
            if (first, second) in self.identical_pairs:
                continue
            self.identical_pairs.add((first, second))
            message = (f"At iteration {iteration}, components {first} and {second} have "
                       "identical weights, means and covariances: EM updates them the same "
                       "way, so they can never separate (this happens when two initial means "
                       "are identical rows).")
            self.recorder.add_event(iteration, IDENTICAL_COMPONENTS, message, second)
            if m.on_degenerate == "raise":
                raise DegenerateFitError(message, second, iteration)
            if m.on_degenerate == "reinit":
                self._reinitialize(params, second, iteration, why="it duplicated another")
                changed = True
        return changed

    def _check_singular(self, iteration: int) -> None:
        """Record components that become singular; ``self.singular`` holds the current ones."""
        m, params = self.model, self.params
        # A tied fit's repairs all went into the one shared covariance.
        extra = (np.full(m.k, self.extra_reg.sum()) if self.structure.name == "tied"
                 else self.extra_reg)
        singular = self._singular_test(params.weights,
                                       self.structure.to_full(params.covariances),
                                       extra[:, None] + self.reg, self.n)
        for component in singular.keys() - self.singular.keys():
            self.recorder.add_event(
                iteration, SINGULAR,
                f"At iteration {iteration}, component {component} is singular: "
                f"{singular[component]}. Its likelihood is bounded only by the "
                "regularization, so this fit's BIC is not comparable.", component)
        self.singular = singular

    def _identical_pairs(self, params: MixtureParameters) -> list[tuple[int, int]]:
        """Pairs (i < j) whose weights, means and covariances agree to 1e-10."""
        def close(values):
            values = values.reshape(len(values), -1)
            gap = np.abs(values[:, None] - values[None])
            scale = np.maximum(np.abs(values[:, None]), np.abs(values[None]))
            return np.all(gap <= 1e-10 * scale, axis=-1)

        # The weights first: they tell most pairs apart, and being (k,) and positive they
        # are compared in a few operations (at every iteration). In increasing order, no
        # two neighbours within the tolerance means no two weights at all (the gaps add up).
        weights = params.weights
        ordered = np.sort(weights)
        if (ordered[1:] - ordered[:-1] > 1e-10 * ordered[1:]).all():
            return []
        same = np.abs(np.subtract.outer(weights, weights)) <= 1e-10 * np.maximum.outer(
            weights, weights)
        same &= self._upper_pairs
        if not same.any():
            return []
        same &= close(params.means) & close(self.structure.to_full(params.covariances))
        return [(int(i), int(j)) for i, j in np.argwhere(same)]

    def _reinitialize(self, params, component, iteration, why: str) -> None:
        """Restart a component at the row the model explains worst."""
        row, which = self._restart_row(params)
        params.means[component] = self.X[row]
        data_cov = np.atleast_2d(np.cov(self.X, rowvar=False)) + self.reg * np.eye(
            self.structure.d)
        self.structure.set_component(params.covariances, component, data_cov)
        params.weights[component] = 1.0 / self.model.k
        params.weights *= (1 - (params.noise_weight or 0.0)) / params.weights.sum()
        self.extra_reg[component] = 0.0
        self.recorder.add_event(
            iteration, REINITIALIZED,
            f"Component {component} was restarted at row {row}, {which}, with the data's "
            f"covariance, because {why}.", component)

    def _restart_row(self, params) -> tuple[int, str]:
        """The worst-explained row if known and free, else a random row no mean sits on."""
        def free(row):
            return not np.any(np.all(np.isclose(params.means, self.X[row]), axis=1))

        if self.worst_rows is not None:
            for row in self.worst_rows:
                if free(row):
                    return int(row), "the point the model explained worst"
        for row in self.rng.permutation(len(self.X))[:1000]:
            if free(row):
                return int(row), "a random row no component sat on"
        return int(self.rng.randint(len(self.X))), "a random row"
