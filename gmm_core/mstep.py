"""M-step: mixture parameters from the statistics accumulated by a data pass."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gmm_core.covariance import LOG_2PI, CovarianceStructure
from gmm_core.estep import DesignBlocks, evaluate_rows

# scikit-learn adds this to every component's responsibility sum so an empty component
# gives finite means; keeping the same constant keeps the two fits comparable.
EMPTY_COMPONENT_GUARD = 10 * np.finfo(float).eps


@dataclass
class MixtureParameters:
    """Weights ``(k,)``, means ``(k, d)``, covariances in the structure's own shape."""

    weights: np.ndarray
    means: np.ndarray
    covariances: np.ndarray

    def copy(self) -> MixtureParameters:
        return MixtureParameters(self.weights.copy(), self.means.copy(), self.covariances.copy())


def parameters_from_statistics(statistics: np.ndarray, structure: CovarianceStructure,
                               shift: np.ndarray, reg_covar: float) -> MixtureParameters:
    """``statistics[k] = [sum r phi(x~) | sum r x~ | sum r]`` with x~ = x - shift."""
    p, d = structure.n_quadratic(), structure.d
    nk = statistics[:, -1] + EMPTY_COMPONENT_GUARD
    means_c = statistics[:, p:p + d] / nk[:, None]
    covariances = structure.estimate(nk, means_c, statistics[:, :p], reg_covar)
    return MixtureParameters(nk / nk.sum(), means_c + shift, covariances)


def design_weights(structure: CovarianceStructure, params: MixtureParameters,
                   prec_chol: np.ndarray, shift: np.ndarray) -> np.ndarray:
    """``(F, k)`` matrix W so that ``W^T [phi(x~); x~; 1]`` is log(pi_k N(x | k))."""
    quad, linear, constant = structure.log_density_terms(prec_chol, params.means - shift)
    # A given weight may be 0 (scikit-learn allows it): its component's log-weight is -inf.
    with np.errstate(divide="ignore"):
        log_weights = np.log(params.weights)
    constant = constant - 0.5 * structure.d * LOG_2PI + log_weights
    return np.concatenate([quad, linear, constant[:, None]], axis=1).T


def evaluate_mixture(X: np.ndarray, structure: CovarianceStructure, params: MixtureParameters,
                     prec_chol: np.ndarray, shift: np.ndarray):
    """Per-row log-likelihood ``(n,)`` and responsibilities ``(n, k)`` of a mixture."""
    return evaluate_rows(DesignBlocks(X, shift, structure),
                         design_weights(structure, params, prec_chol, shift))
