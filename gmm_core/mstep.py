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
    """Weights ``(k,)``, means ``(k, d)``, covariances in the structure's own shape.

    ``noise_weight`` is the noise component's proportion (gmm_core.noise), None for a
    mixture without one; the Gaussian weights sum to 1 minus it.
    """

    weights: np.ndarray
    means: np.ndarray
    covariances: np.ndarray
    noise_weight: float | None = None

    def copy(self) -> MixtureParameters:
        return MixtureParameters(self.weights.copy(), self.means.copy(), self.covariances.copy(),
                                 self.noise_weight)


def parameters_from_statistics(statistics: np.ndarray, structure: CovarianceStructure,
                               shift: np.ndarray, reg_covar: float) -> MixtureParameters:
    """``statistics[k] = [sum r phi(x~) | sum r x~ | sum r]`` with x~ = x - shift.

    A row past the structure's k components is the noise component's: only its total
    responsibility counts (its proportion), the Gaussians' from their own rows.
    """
    p, d, k = structure.n_quadratic(), structure.d, structure.k
    totals = statistics[:, -1] + EMPTY_COMPONENT_GUARD
    proportions = totals / totals.sum()
    nk = totals[:k]
    means_c = statistics[:k, p:p + d] / nk[:, None]
    covariances = structure.estimate(nk, means_c, statistics[:k, :p], reg_covar)
    noise_weight = float(proportions[k]) if len(statistics) > k else None
    return MixtureParameters(proportions[:k], means_c + shift, covariances, noise_weight)


def design_weights(structure: CovarianceStructure, params: MixtureParameters,
                   prec_chol: np.ndarray, shift: np.ndarray,
                   log_vinv: float | None = None) -> np.ndarray:
    """``(F, k)`` matrix W so that ``W^T [phi(x~); x~; 1]`` is log(pi_k N(x | k)).

    With a noise component (``params.noise_weight``, of constant density
    ``exp(log_vinv)``) W has one more column: zero but for the constant row.
    """
    quad, linear, constant = structure.log_density_terms(prec_chol, params.means - shift)
    # A given weight may be 0 (scikit-learn allows it): its component's log-weight is -inf.
    with np.errstate(divide="ignore"):
        log_weights = np.log(params.weights)
        noise = None if params.noise_weight is None else np.log(params.noise_weight) + log_vinv
    constant = constant - 0.5 * structure.d * LOG_2PI + log_weights
    weights = np.concatenate([quad, linear, constant[:, None]], axis=1).T
    if noise is None:
        return weights
    noise_column = np.zeros((len(weights), 1))
    noise_column[-1] = noise
    return np.hstack([weights, noise_column])


def evaluate_mixture(X: np.ndarray, structure: CovarianceStructure, params: MixtureParameters,
                     prec_chol: np.ndarray, shift: np.ndarray, log_vinv: float | None = None):
    """Per-row log-likelihood ``(n,)`` and responsibilities ``(n, k)`` of a mixture, one
    more column (the last) for its noise component if it has one."""
    return evaluate_rows(DesignBlocks(X, shift, structure),
                         design_weights(structure, params, prec_chol, shift, log_vinv))
