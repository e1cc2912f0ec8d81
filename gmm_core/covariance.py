"""Covariance structures: M-step estimate, precision Cholesky factor, log-density terms.

Each structure stores covariances in scikit-learn's shape for its type (full
``(k, d, d)``, tied ``(d, d)``, diag ``(k, d)``, spherical ``(k,)``) and knows how to
write the Gaussian log-density as a linear function of quadratic features of the
(centred) data:

    log N(x | mu, Sigma) = phi(x) . A + x . B + c

where ``phi(x)`` are the products ``x_i x_j`` the structure needs (all pairs
``i <= j`` for full and tied, the squares for diag and spherical). That turns the
E-step for every component into one matrix product, and the M-step statistics into
another (see ``gmm_core.estep``).
"""

from __future__ import annotations

import functools

import numpy as np

LOG_2PI = np.log(2.0 * np.pi)


class NotPositiveDefiniteError(np.linalg.LinAlgError):
    """Cholesky failed; ``components`` lists which (tied: ``[0]`` for the shared one)."""

    def __init__(self, components: list[int]):
        super().__init__(f"covariance of component(s) {components} is not positive definite")
        self.components = components


def diagonals_of(matrices: np.ndarray) -> np.ndarray:
    """A writable ``(..., d)`` view of the diagonals of C-contiguous ``(..., d, d)``
    matrices: a strided slice, several times cheaper than fancy indexing on the small
    stacks of every EM iteration. (Setting ``shape`` raises rather than copy.)"""
    d = matrices.shape[-1]
    flat = matrices.view()
    flat.shape = (*matrices.shape[:-2], d * d)
    return flat[..., ::d + 1]


def _cholesky_lower(matrices: np.ndarray) -> np.ndarray:
    """Batched lower Cholesky that reports which matrices failed."""
    try:
        return np.linalg.cholesky(matrices)
    except np.linalg.LinAlgError:
        failed = []
        for index, matrix in enumerate(matrices):
            try:
                np.linalg.cholesky(matrix)
            except np.linalg.LinAlgError:
                failed.append(index)
        raise NotPositiveDefiniteError(failed) from None


def _precision_cholesky_of(matrices: np.ndarray) -> np.ndarray:
    """P with P P^T = inv(Sigma), as scikit-learn: the inverse transpose of chol(Sigma)."""
    lower = _cholesky_lower(matrices)
    # A batched inverse of the triangular factor is one call for all components; for
    # the small d of this project it is as accurate as a triangular solve and faster
    # than looping scipy.linalg.solve_triangular over k.
    return np.swapaxes(np.linalg.inv(lower), -1, -2)


class CovarianceStructure:
    """Shared interface; one subclass per covariance type."""

    name: str

    def __init__(self, n_components: int, n_features: int):
        self.k = n_components
        self.d = n_features

    # -- shapes ------------------------------------------------------------------
    def expected_shape(self) -> tuple[int, ...]:
        raise NotImplementedError

    def to_full(self, covariances: np.ndarray) -> np.ndarray:
        """``(k, d, d)`` matrices, whatever the type."""
        raise NotImplementedError

    def from_full(self, full: np.ndarray, weights: np.ndarray) -> np.ndarray:
        """Project ``(k, d, d)`` matrices onto this structure (used by initializers)."""
        raise NotImplementedError

    def n_parameters(self) -> int:
        raise NotImplementedError

    def start_run(self) -> None:
        """A new EM run starts: forget what M-steps carry to the next (nothing here)."""

    # -- quadratic features ----------------------------------------------------------
    def n_quadratic(self) -> int:
        raise NotImplementedError

    def fill_quadratic(self, centred_t: np.ndarray, out: np.ndarray) -> None:
        """Write phi for a ``(d, rows)`` block of centred data into ``out`` ``(p, rows)``."""
        raise NotImplementedError

    def quadratic_pairs(self) -> tuple[np.ndarray, np.ndarray]:
        """``(i, j)`` index arrays ``(p,)``: phi holds ``x_i x_j`` (gmm_core.compiled)."""
        raise NotImplementedError

    # -- M-step ----------------------------------------------------------------------
    def estimate(self, nk: np.ndarray, means_c: np.ndarray, quad: np.ndarray,
                 reg_covar: float) -> np.ndarray:
        """Covariances from ``quad[k] = sum_n r_nk phi(x_n)`` and centred means."""
        raise NotImplementedError

    # -- E-step ----------------------------------------------------------------------
    def precision_cholesky(self, covariances: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def log_det_precision_cholesky(self, prec_chol: np.ndarray) -> np.ndarray:
        """``(k,)``: log |P_k| = -1/2 log |Sigma_k|."""
        raise NotImplementedError

    def log_density_terms(self, prec_chol: np.ndarray, means_c: np.ndarray):
        """``(A (k, p), B (k, d), c (k,))`` with log N = phi.A + x.B + c (centred x)."""
        raise NotImplementedError

    # -- units -----------------------------------------------------------------------
    def rescaled(self, covariances: np.ndarray, scale: np.ndarray) -> np.ndarray:
        """The covariances of the data with feature i multiplied by ``scale[i]``."""
        raise NotImplementedError

    def rescaled_precision_cholesky(self, prec_chol: np.ndarray,
                                    scale: np.ndarray) -> np.ndarray:
        """The precision factors of the data with feature i multiplied by ``scale[i]``."""
        raise NotImplementedError

    # -- repairs ---------------------------------------------------------------------
    def add_to_diagonal(self, covariances: np.ndarray, component: int, amount: float) -> None:
        raise NotImplementedError

    def set_component(self, covariances: np.ndarray, component: int,
                      full_matrix: np.ndarray) -> None:
        raise NotImplementedError

    def diagonal_scale(self, covariances: np.ndarray, component: int) -> float:
        """A typical variance of one component, to size a regularization step."""
        return float(np.mean(np.diagonal(self.to_full(covariances)[component])))


@functools.lru_cache(maxsize=64)
def _pairs(d: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rows and columns of the upper triangle (i <= j), and 2 off the diagonal (where a
    product appears twice in x^T Lambda x); read-only, made once per d: every fit of a
    sweep builds its structures anew."""
    rows, cols = np.triu_indices(d)
    multiplicity = np.where(rows == cols, 1.0, 2.0)
    for array in (rows, cols, multiplicity):
        array.flags.writeable = False
    return rows, cols, multiplicity


class _PairwiseQuadratic(CovarianceStructure):
    """Full and tied: phi holds x_i x_j for all i <= j."""

    def __init__(self, n_components: int, n_features: int):
        super().__init__(n_components, n_features)
        self.rows, self.cols, self.pair_multiplicity = _pairs(n_features)

    def n_quadratic(self) -> int:
        return len(self.rows)

    def quadratic_pairs(self):
        return self.rows, self.cols

    def fill_quadratic(self, centred_t, out):
        offset = 0
        for i in range(self.d):
            width = self.d - i
            np.multiply(centred_t[i], centred_t[i:], out=out[offset:offset + width])
            offset += width

    def _scatter(self, quad: np.ndarray) -> np.ndarray:
        """Symmetric ``(..., d, d)`` from upper-triangle vectors ``(..., p)``."""
        full = np.empty((*quad.shape[:-1], self.d, self.d))
        full[..., self.rows, self.cols] = quad
        full[..., self.cols, self.rows] = quad
        return full

    def rescaled(self, covariances, scale):
        return covariances * np.outer(scale, scale)

    def rescaled_precision_cholesky(self, prec_chol, scale):
        # inv(S Sigma S) = S^-1 P P^T S^-1: the factor's rows divide by the scale.
        return prec_chol / scale[:, None]

    def _terms_from_precision(self, prec_chol_k: np.ndarray, means_c: np.ndarray):
        precision = prec_chol_k @ np.swapaxes(prec_chol_k, -1, -2)
        quad = -0.5 * precision[..., self.rows, self.cols] * self.pair_multiplicity
        linear = np.einsum("...ij,...j->...i", precision, means_c)
        constant = -0.5 * np.einsum("...i,...i->...", linear, means_c)
        return quad, linear, constant


class FullCovariance(_PairwiseQuadratic):
    name = "full"

    def expected_shape(self):
        return (self.k, self.d, self.d)

    def to_full(self, covariances):
        return np.asarray(covariances, dtype=float)

    def from_full(self, full, weights):
        return np.array(full, dtype=float)

    def n_parameters(self):
        return self.k * self.d * (self.d + 1) // 2

    def estimate(self, nk, means_c, quad, reg_covar):
        cov = self._scatter(quad / nk[:, None])
        cov -= means_c[:, :, None] * means_c[:, None, :]
        diagonals_of(cov)[...] += reg_covar
        return cov

    def precision_cholesky(self, covariances):
        return _precision_cholesky_of(covariances)

    def log_det_precision_cholesky(self, prec_chol):
        return np.log(np.diagonal(prec_chol, axis1=1, axis2=2)).sum(axis=1)

    def log_density_terms(self, prec_chol, means_c):
        quad, linear, constant = self._terms_from_precision(prec_chol, means_c)
        return quad, linear, constant + self.log_det_precision_cholesky(prec_chol)

    def add_to_diagonal(self, covariances, component, amount):
        covariances[component][np.diag_indices(self.d)] += amount

    def set_component(self, covariances, component, full_matrix):
        covariances[component] = full_matrix


class TiedCovariance(_PairwiseQuadratic):
    name = "tied"

    def expected_shape(self):
        return (self.d, self.d)

    def to_full(self, covariances):
        return np.broadcast_to(covariances, (self.k, self.d, self.d)).copy()

    def from_full(self, full, weights):
        return np.einsum("k,kij->ij", weights, full)

    def n_parameters(self):
        return self.d * (self.d + 1) // 2

    def estimate(self, nk, means_c, quad, reg_covar):
        # Shared covariance: total second moment minus the between-component part.
        total = nk.sum()
        cov = self._scatter(quad.sum(axis=0) / total)
        cov -= np.einsum("k,ki,kj->ij", nk, means_c, means_c) / total
        diagonals_of(cov)[...] += reg_covar
        return cov

    def precision_cholesky(self, covariances):
        return _precision_cholesky_of(covariances[None])[0]

    def log_det_precision_cholesky(self, prec_chol):
        return np.full(self.k, np.log(np.diagonal(prec_chol)).sum())

    def log_density_terms(self, prec_chol, means_c):
        quad, linear, constant = self._terms_from_precision(prec_chol, means_c)
        quad = np.broadcast_to(quad, (self.k, len(quad)))
        return quad, linear, constant + self.log_det_precision_cholesky(prec_chol)

    def add_to_diagonal(self, covariances, component, amount):
        covariances[np.diag_indices(self.d)] += amount

    def set_component(self, covariances, component, full_matrix):
        # The shared covariance belongs to every component: leave it.
        return None


class _SquaresQuadratic(CovarianceStructure):
    """Diag and spherical: phi holds the squares x_i^2."""

    def n_quadratic(self):
        return self.d

    def fill_quadratic(self, centred_t, out):
        np.square(centred_t, out=out)

    def quadratic_pairs(self):
        squares = np.arange(self.d)
        return squares, squares

    def _variances(self, covariances) -> np.ndarray:
        """``(k, d)`` per-dimension variances."""
        raise NotImplementedError

    def to_full(self, covariances):
        variances = self._variances(covariances)
        full = np.zeros((self.k, self.d, self.d))
        diagonals_of(full)[...] = variances
        return full

    def log_density_terms(self, prec_chol, means_c):
        precision = self._variances(prec_chol**2)  # (k, d)
        linear = precision * means_c
        constant = -0.5 * np.einsum("ki,ki->k", linear, means_c)
        return -0.5 * precision, linear, constant + self.log_det_precision_cholesky(prec_chol)

    def _check_positive(self, covariances):
        failed = np.flatnonzero(np.any(np.atleast_2d(self._variances(covariances)) <= 0, axis=1))
        if failed.size:
            raise NotPositiveDefiniteError(failed.tolist())

    def precision_cholesky(self, covariances):
        self._check_positive(covariances)
        return 1.0 / np.sqrt(covariances)


class DiagCovariance(_SquaresQuadratic):
    name = "diag"

    def expected_shape(self):
        return (self.k, self.d)

    def _variances(self, covariances):
        return covariances

    def from_full(self, full, weights):
        return np.diagonal(full, axis1=1, axis2=2).copy()

    def n_parameters(self):
        return self.k * self.d

    def estimate(self, nk, means_c, quad, reg_covar):
        return quad / nk[:, None] - means_c**2 + reg_covar

    def rescaled(self, covariances, scale):
        return covariances * scale**2

    def rescaled_precision_cholesky(self, prec_chol, scale):
        return prec_chol / scale

    def log_det_precision_cholesky(self, prec_chol):
        return np.log(prec_chol).sum(axis=1)

    def add_to_diagonal(self, covariances, component, amount):
        covariances[component] += amount

    def set_component(self, covariances, component, full_matrix):
        covariances[component] = np.diagonal(full_matrix)


class SphericalCovariance(_SquaresQuadratic):
    name = "spherical"

    def expected_shape(self):
        return (self.k,)

    def _variances(self, covariances):
        return np.repeat(np.asarray(covariances)[:, None], self.d, axis=1)

    def from_full(self, full, weights):
        return np.diagonal(full, axis1=1, axis2=2).mean(axis=1)

    def n_parameters(self):
        return self.k

    def estimate(self, nk, means_c, quad, reg_covar):
        return (quad / nk[:, None] - means_c**2 + reg_covar).mean(axis=1)

    # One variance for every feature: only a scale common to the features keeps it one.
    def rescaled(self, covariances, scale):
        return covariances * scale[0] ** 2

    def rescaled_precision_cholesky(self, prec_chol, scale):
        return prec_chol / scale[0]

    def log_det_precision_cholesky(self, prec_chol):
        return self.d * np.log(prec_chol)

    def add_to_diagonal(self, covariances, component, amount):
        covariances[component] += amount

    def set_component(self, covariances, component, full_matrix):
        covariances[component] = np.diagonal(full_matrix).mean()


STRUCTURES = {
    cls.name: cls
    for cls in (FullCovariance, TiedCovariance, DiagCovariance, SphericalCovariance)
}


def structure_for(covariance_type: str, n_components: int, n_features: int) -> CovarianceStructure:
    """The structure of a scikit-learn name (full, tied, diag, spherical) or of one of
    mclust's models (gmm_core.parsimonious)."""
    if covariance_type in STRUCTURES:
        return STRUCTURES[covariance_type](n_components, n_features)
    # Imported here: the mclust models are built on FullCovariance, defined above.
    from gmm_core.parsimonious import ParsimoniousCovariance
    from gmm_core.request import COVARIANCE_CHOICES

    if covariance_type in COVARIANCE_CHOICES:
        return ParsimoniousCovariance(covariance_type, n_components, n_features)
    raise ValueError(
        f"covariance_type must be one of {', '.join(COVARIANCE_CHOICES)}; "
        f"got {covariance_type!r}")


@functools.lru_cache(maxsize=256)
def n_parameters(covariance_type: str, k: int, d: int) -> int:
    """Free parameters of a ``k``-component mixture in ``d`` dimensions, as BIC and AIC
    count them: the covariances, ``k`` means and ``k - 1`` weights."""
    return structure_for(covariance_type, k, d).n_parameters() + k * d + k - 1
