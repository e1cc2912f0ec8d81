"""EM one half-step at a time, with the numbers that fill each formula, for teaching.

``EMStepper`` drives the same code as ``GMM.fit`` (initializers, the fused data pass,
the M-step from its statistics, the degenerate-component checks), so ``n`` E/M pairs
give exactly the parameters of ``GMM(max_iters=n, tol=0)`` from the same start.

The two half-steps alternate, starting with an E-step. Calling one out of turn raises
``StepOrderError`` rather than doing nothing, so a page cannot silently show stale
numbers; ``state.phase`` says which step comes next (a page can disable the other
button).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy.special import logsumexp

from gmm_core.covariance import LOG_2PI, structure_for
from gmm_core.estep import DesignBlocks, PassResult
from gmm_core.model import GMM, EMRun
from gmm_core.mstep import EMPTY_COMPONENT_GUARD, parameters_from_statistics
from gmm_core.trace import Event
from gmm_core.validation import validate_data

E_STEP = "E"
M_STEP = "M"


class StepOrderError(RuntimeError):
    """An E-step or M-step was requested out of turn."""


@dataclass(frozen=True)
class StepperState:
    """Where the step-through stands.

    ``weights``, ``means`` and ``covariances`` (always full ``(k, d, d)``) are the
    current parameters. ``responsibilities`` ``(n, k)`` and the log-likelihoods come
    from the last E-step, i.e. from the parameters before the last M-step (None before
    the first E-step). ``phase`` is the half-step that comes next; ``step`` counts
    half-steps done and ``iteration`` M-steps done.
    """

    weights: np.ndarray
    means: np.ndarray
    covariances: np.ndarray
    responsibilities: np.ndarray | None
    log_likelihood: float | None  # total over rows, as the notebook prints it
    mean_log_likelihood: float | None
    phase: str
    step: int
    iteration: int
    events: list[Event] = field(default_factory=list)


class EMStepper:
    """Half-step EM on ``X`` with ``k`` components, started as ``GMM`` would start."""

    def __init__(self, X, k: int, covariance_type: str = "full", seed: int | None = 42,
                 init: str = "kmeans++", reg_covar: float = 1e-6):
        model = GMM(k=k, covariance_type=covariance_type, seed=seed, init=init,
                    reg_covar=reg_covar, tol=0.0)
        model.check_parameters()
        self.X = validate_data(X, min_rows=k)
        self.n, self.d = self.X.shape
        self.k = k
        self.structure = structure_for(covariance_type, k, self.d)
        # Every row is a "display" row: the pass then returns all responsibilities.
        blocks = DesignBlocks(self.X, self.X.mean(axis=0, dtype=np.float64), self.structure,
                              np.arange(self.n))
        self._run = EMRun(model, self.X, blocks, self.structure, np.random.RandomState(seed))
        self._run.start()
        self._last_pass: PassResult | None = None
        self._responsibilities: np.ndarray | None = None
        self._mean_log_likelihood: float | None = None
        self._step = 0

    # -- the two half-steps ------------------------------------------------------------
    @property
    def phase(self) -> str:
        return E_STEP if self._step % 2 == 0 else M_STEP

    def e_step(self) -> StepperState:
        """Responsibilities and log-likelihood of the current parameters."""
        self._require(E_STEP)
        result = self._last_pass = self._run.e_step()
        self._responsibilities = result.sample_responsibilities
        self._mean_log_likelihood = result.mean_log_likelihood
        self._step += 1
        return self.state

    def m_step(self) -> StepperState:
        """New weights, means and covariances from the last E-step's responsibilities."""
        self._require(M_STEP)
        self._run.m_step(self._last_pass, iteration=self._step // 2 + 1)
        self._step += 1
        return self.state

    def _require(self, step: str) -> None:
        if self.phase != step:
            if step == M_STEP:
                raise StepOrderError("the E-step comes next: the M-step needs the "
                                     "responsibilities of the current parameters")
            raise StepOrderError("the M-step comes next: the E-step's responsibilities "
                                 "have not been used yet")

    @property
    def _params(self):
        return self._run.params

    @property
    def state(self) -> StepperState:
        mean_ll = self._mean_log_likelihood
        return StepperState(
            weights=self._params.weights.copy(),
            means=self._params.means.copy(),
            covariances=self.structure.to_full(self._params.covariances),
            responsibilities=(None if self._responsibilities is None
                              else self._responsibilities.copy()),
            log_likelihood=None if mean_ll is None else mean_ll * self.n,
            mean_log_likelihood=mean_ll,
            phase=self.phase,
            step=self._step,
            iteration=self._step // 2,
            events=list(self._run.recorder.events),
        )

    # -- the formulas, filled in ---------------------------------------------------------
    def explain_point(self, i: int, j: int) -> dict:
        """The E-step formula for row ``i`` and component ``j`` under the current parameters.

        Right after an E-step, ``responsibility`` equals ``state.responsibilities[i, j]``;
        after an M-step it is what the next E-step will give. Densities are evaluated in
        log space; the plain values (``density``, ``numerator``, ``denominator``) may
        underflow to 0 for far points, the logs never do.
        """
        i, j = self._check_row(i), self._check_component(j)
        x = self.X[i].astype(np.float64)
        one_row = DesignBlocks(self.X[i:i + 1], self._run.blocks.shift[:, 0], self.structure)
        design = next(iter(one_row))[3]
        log_weighted = (self._run.design_weights().T @ design)[:, 0]  # log pi_l + log N_l
        log_weights = np.log(self._params.weights)
        log_density = log_weighted - log_weights
        precision_chol = self.structure.to_full(self._run.prec_chol)[j]
        whitened = (x - self._params.means[j]) @ precision_chol
        log_denominator = float(logsumexp(log_weighted))
        log_responsibility = float(log_weighted[j]) - log_denominator
        return {
            "point": i,
            "component": j,
            "x": x,
            "mean": self._params.means[j].copy(),
            "covariance": self.structure.to_full(self._params.covariances)[j],
            "mahalanobis": float(np.linalg.norm(whitened)),
            "log_det_covariance": float(-2 * self.structure.log_det_precision_cholesky(
                self._run.prec_chol)[j]),
            "log_normalizer": float(-0.5 * self.d * LOG_2PI),
            "log_density": float(log_density[j]),
            "density": float(np.exp(log_density[j])),
            "weight": float(self._params.weights[j]),
            "log_numerator": float(log_weighted[j]),
            "numerator": float(np.exp(log_weighted[j])),
            "log_numerators": log_weighted.copy(),  # every component's, for the sum
            "log_denominator": log_denominator,
            "denominator": float(np.exp(log_denominator)),
            "log_responsibility": log_responsibility,
            "responsibility": float(np.exp(log_responsibility)),
        }

    def explain_component(self, j: int) -> dict:
        """The M-step formulas for component ``j`` from the last E-step's responsibilities.

        Before the M-step these are the values it is about to set; after it, the values
        it set (the covariance as the formula gives it, before any extra regularization
        a degenerate component needed: see ``state.events``).
        """
        j = self._check_component(j)
        if self._last_pass is None:
            raise StepOrderError("no E-step yet: the M-step formulas need responsibilities")
        p, d = self.structure.n_quadratic(), self.d
        shift = self._run.shift
        statistics = self._last_pass.statistics
        params = parameters_from_statistics(statistics, self.structure, shift,
                                            self._run.model.reg_covar)
        resp_sum = float(statistics[j, -1])
        weighted_sum = statistics[j, p:p + d] + resp_sum * shift
        return {
            "component": j,
            "covariance_type": self.structure.name,
            "n_rows": self.n,
            "resp_sum": resp_sum,  # N_j = sum_i gamma_ij
            "weighted_sum": weighted_sum,  # sum_i gamma_ij x_i
            "weight": float(params.weights[j]),  # N_j / N
            "mean": params.means[j],  # sum_i gamma_ij x_i / N_j
            "covariance": self.structure.to_full(params.covariances)[j],
            "reg_covar": self._run.model.reg_covar,
            "empty_guard": EMPTY_COMPONENT_GUARD,  # added to N_j, as scikit-learn does
        }

    def _check_row(self, i) -> int:
        if not 0 <= int(i) < self.n:
            raise IndexError(f"point index must lie in 0..{self.n - 1}; got {i}")
        return int(i)

    def _check_component(self, j) -> int:
        if not 0 <= int(j) < self.k:
            raise IndexError(f"component index must lie in 0..{self.k - 1}; got {j}")
        return int(j)
