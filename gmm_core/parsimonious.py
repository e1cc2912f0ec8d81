"""mclust's parsimonious covariance models: Sigma_k = lambda_k D_k A_k D_k^T.

Celeux & Govaert (1995), "Gaussian parsimonious clustering models", Pattern Recognition
28(5):781-793, write each component's covariance as a volume lambda_k (a scalar,
|Sigma_k|^(1/d)), a shape A_k (diagonal, |A_k| = 1, entries in decreasing order) and an
orientation D_k (orthogonal). Each of the three is Equal across components, Varying, or,
for shape and orientation, the Identity; mclust names a model by those three letters
(Scrucca, Fop, Murphy & Raftery 2016, "mclust 5", The R Journal 8(1):289-317;
``?mclustModelNames``). In one dimension only the volume remains: "E" and "V".

Every model here stores its covariances as full ``(k, d, d)`` matrices and reuses the
full structure's quadratic features, log-density terms and factorization; only the
M-step differs. ``estimate`` maximizes the expected complete-data log-likelihood

    Q = -1/2 sum_k [ n_k log|Sigma_k| + tr(W_k Sigma_k^-1) ],  W_k = n_k S_k,

under the model's constraints, S_k being the responsibility-weighted covariance of
component k (plus ``reg_covar`` on its diagonal: adding it to S_k before the constrained
estimate, rather than to Sigma_k after, keeps the constraints exact and, for VVV, EEE,
VVI and VII, is the same as adding it after).

Closed forms (Celeux & Govaert 1995): EII, VII, EEI, EVI, VVI, EEE, EEV, EVV,
VVV. Iterative, as mclust (its Fortran ``ms*``/``me*`` routines):

- VEI, VEE, VEV: alternate the volumes given the shared shape (and orientation) and the
  shared part given the volumes (Celeux & Govaert 1995);
- EVE, VVE: the common orientation D by the majorization-minimization step of Browne &
  McNicholas (2014), "Estimating common principal components in high dimensions",
  Advances in Data Analysis and Classification 8(2):217-226, alternated with the shapes
  (and volumes).

Each inner step maximizes Q over one block of parameters given the others (the D step
lowers a majorizer instead), so Q never decreases. As mclust, the inner iterations do
not restart at every EM iteration: they start from the shared shape and orientation the
previous M-step ended with (identity shape and orientation at the start of a run), which
makes the whole run an ECM algorithm whose log-likelihood never decreases (with
``reg_covar=0``; with it, the penalized one). They stop when Q changes by less than
sqrt(machine epsilon), relative (mclust's ``emControl()$tol[2]``).
"""

from __future__ import annotations

import numpy as np

from gmm_core.covariance import FullCovariance
from gmm_core.request import MCLUST_MODELS, MCLUST_UNIVARIATE

MODEL_NAMES = MCLUST_MODELS
UNIVARIATE_NAMES = MCLUST_UNIVARIATE
# The project's scikit-learn names and the mclust model each one is.
ALIASES = {"full": "VVV", "tied": "EEE", "diag": "VVI", "spherical": "VII"}

INNER_TOL = np.sqrt(np.finfo(float).eps)
INNER_MAX_ITERS = 1000

# A component on a point has a zero scatter matrix, which the shape and volume formulas
# divide by. Each scatter gets this much of the data's mean variance (per unit weight) on
# its diagonal: far below the flat-covariance bound of gmm_core.singular (1e-10), so a
# component on a point is still found singular, and far above rounding.
SCATTER_FLOOR = 1e-12


def n_variance_parameters(model: str, k: int, d: int) -> int:
    """Free covariance parameters, as mclust's ``nVarParams``."""
    rotation = d * (d - 1) // 2
    return {
        "E": 1, "V": k,
        "EII": 1, "VII": k,
        "EEI": d, "VEI": k + d - 1, "EVI": 1 + k * (d - 1), "VVI": k * d,
        "EEE": d * (d + 1) // 2,
        "VEE": k + (d - 1) + rotation,
        "EVE": 1 + k * (d - 1) + rotation,
        "VVE": k + k * (d - 1) + rotation,
        "EEV": 1 + (d - 1) + k * rotation,
        "VEV": k + (d - 1) + k * rotation,
        "EVV": 1 + k * (d * (d + 1) // 2 - 1),
        "VVV": k * d * (d + 1) // 2,
    }[model]


# Points a component needs before its own covariance parameters can be estimated: d + 1
# when it has its own orientation (as a full covariance), 2 when it has only its own
# volume or shape (one variance needs two points), 1 when it shares everything.
def min_points(model: str, d: int) -> int:
    if model in UNIVARIATE_NAMES:
        return 2 if model == "V" else 1
    if model[2] == "V":
        return d + 1
    return 2 if "V" in model else 1


# -- helpers on stacks of matrices -------------------------------------------------------
def _geometric_mean(values: np.ndarray) -> np.ndarray:
    """``|diag(v)|^(1/d)`` along the last axis, in log space (no over/underflow)."""
    return np.exp(np.log(values).mean(axis=-1))


def _det_root(matrices: np.ndarray) -> np.ndarray:
    """``|M|^(1/d)`` of symmetric positive definite matrices."""
    return np.exp(np.linalg.slogdet(matrices)[1] / matrices.shape[-1])


def _diagonal_matrices(values: np.ndarray) -> np.ndarray:
    """``(..., d)`` -> ``(..., d, d)`` diagonal matrices."""
    return values[..., :, None] * np.eye(values.shape[-1])


def _diagonals(matrices: np.ndarray) -> np.ndarray:
    return np.diagonal(matrices, axis1=-2, axis2=-1).copy()


def _decreasing_eigh(matrices: np.ndarray):
    """Eigenvalues in decreasing order and their eigenvectors (columns)."""
    values, vectors = np.linalg.eigh(matrices)
    return values[..., ::-1], vectors[..., ::-1]


def _rotate(orientations: np.ndarray, shapes: np.ndarray) -> np.ndarray:
    """``D diag(a) D^T`` for each component (D shared or per component)."""
    return np.einsum("...ij,...j,...kj->...ik", orientations, shapes, orientations)


def q_objective(scatter: np.ndarray, nk: np.ndarray, covariances: np.ndarray) -> float:
    """``sum_k n_k log|Sigma_k| + tr(W_k Sigma_k^-1)``: what the M-step minimizes."""
    log_det = np.linalg.slogdet(covariances)[1]
    trace = np.einsum("kii->k", np.linalg.solve(covariances, scatter))
    return float(np.sum(nk * log_det + trace))


def _iterate(step, state, objective):
    """Repeat ``state = step(state)`` until ``objective(state)`` settles."""
    previous = np.inf
    for _ in range(INNER_MAX_ITERS):
        state = step(state)
        value = objective(state)
        if not np.isfinite(value) or abs(value - previous) <= INNER_TOL * (1.0 + abs(value)):
            break
        previous = value
    return state


def _common_orientation_step(scatter: np.ndarray, orientation: np.ndarray,
                             inverse_shapes: np.ndarray) -> np.ndarray:
    """One MM step for D minimizing ``sum_k tr(W_k D B_k D^T)``, B_k = diag(b_k).

    Browne & McNicholas (2014); mclust's ``mseve``: with omega_k the largest eigenvalue of W_k,
    ``tr(W_k D B_k D^T) = omega_k tr(B_k) - tr((omega_k I - W_k) D B_k D^T)``, whose
    second term is convex in D; its tangent majorizes the objective, and the tangent's
    minimum over orthogonal matrices is the polar factor ``U V^T`` of
    ``G = sum_k (omega_k I - W_k) D B_k`` (orthogonal Procrustes).
    """
    d = scatter.shape[-1]
    omega = np.linalg.eigvalsh(scatter)[:, -1]
    complement = omega[:, None, None] * np.eye(d) - scatter
    gradient = np.einsum("kij,jl,kl->il", complement, orientation, inverse_shapes)
    left, _, right_t = np.linalg.svd(gradient)
    return left @ right_t


# -- the M-steps ---------------------------------------------------------------------------
def _equal(covariance: np.ndarray, k: int) -> np.ndarray:
    return np.broadcast_to(covariance, (k, *covariance.shape)).copy()


def _eii(scatter, nk, warm):
    d = scatter.shape[-1]
    volume = np.trace(scatter.sum(axis=0)) / (nk.sum() * d)
    return _equal(volume * np.eye(d), len(nk)), warm


def _vii(scatter, nk, warm):
    d = scatter.shape[-1]
    volumes = np.einsum("kii->k", scatter) / (nk * d)
    return volumes[:, None, None] * np.eye(d), warm


def _eei(scatter, nk, warm):
    return _equal(np.diag(_diagonals(scatter.sum(axis=0)) / nk.sum()), len(nk)), warm


def _vvi(scatter, nk, warm):
    return _diagonal_matrices(_diagonals(scatter) / nk[:, None]), warm


def _evi(scatter, nk, warm):
    diagonals = _diagonals(scatter)
    roots = _geometric_mean(diagonals)
    volume = roots.sum() / nk.sum()
    return _diagonal_matrices(volume * diagonals / roots[:, None]), warm


def _vei(scatter, nk, warm):
    """Volumes given the shape, then the shape given the volumes (C & G 1995, VEI)."""
    diagonals = _diagonals(scatter)
    d = scatter.shape[-1]
    shape = np.ones(d) if warm is None else warm

    def step(shape):
        volumes = (diagonals / shape).sum(axis=1) / (nk * d)
        pooled = (diagonals / volumes[:, None]).sum(axis=0)
        return pooled / _geometric_mean(pooled)

    def covariances(shape):
        volumes = (diagonals / shape).sum(axis=1) / (nk * d)
        return _diagonal_matrices(volumes[:, None] * shape)

    shape = _iterate(step, shape,
                     lambda shape: q_objective(scatter, nk, covariances(shape)))
    return covariances(shape), shape


def _eee(scatter, nk, warm):
    return _equal(scatter.sum(axis=0) / nk.sum(), len(nk)), warm


def _vee(scatter, nk, warm):
    """Volumes given C = D A D^T, then C given the volumes (C & G 1995, VEE)."""
    d = scatter.shape[-1]
    shared = np.eye(d) if warm is None else warm

    def volumes_for(shared):
        return np.einsum("kii->k", np.linalg.solve(shared, scatter)) / (nk * d)

    def step(shared):
        pooled = (scatter / volumes_for(shared)[:, None, None]).sum(axis=0)
        return pooled / _det_root(pooled)

    def covariances(shared):
        return volumes_for(shared)[:, None, None] * shared

    shared = _iterate(step, shared,
                      lambda shared: q_objective(scatter, nk, covariances(shared)))
    return covariances(shared), shared


def _common_orientation(scatter, nk, warm, equal_volume: bool):
    """EVE and VVE: D shared, alternated with the per-component diagonal parts."""
    d = scatter.shape[-1]
    k = len(nk)
    if warm is None:
        warm = (np.eye(d), np.ones((k, d)))

    def diagonal_parts(orientation):
        """Per component ``lambda_k a_k`` given D (C & G 1995, EVE/VVE)."""
        rotated = np.einsum("ji,kjl,li->ki", orientation, scatter, orientation)
        if not equal_volume:
            return rotated / nk[:, None]
        shapes = rotated / _geometric_mean(rotated)[:, None]
        volume = (rotated / shapes).sum() / (nk.sum() * d)
        return volume * shapes

    def step(state):
        orientation, diagonals = state
        orientation = _common_orientation_step(scatter, orientation, 1.0 / diagonals)
        return orientation, diagonal_parts(orientation)

    def covariances(state):
        orientation, diagonals = state
        return _rotate(orientation, diagonals)

    state = _iterate(step, warm, lambda state: q_objective(scatter, nk, covariances(state)))
    return covariances(state), state


def _eve(scatter, nk, warm):
    return _common_orientation(scatter, nk, warm, equal_volume=True)


def _vve(scatter, nk, warm):
    return _common_orientation(scatter, nk, warm, equal_volume=False)


def _eev(scatter, nk, warm):
    """Closed form (C & G 1995, EEV): each D_k from W_k's eigenvectors, A and lambda
    from the sum of the eigenvalues, largest paired with largest."""
    eigenvalues, orientations = _decreasing_eigh(scatter)
    pooled = eigenvalues.sum(axis=0)
    root = _geometric_mean(pooled)
    shape = pooled / root
    volume = root / nk.sum()
    return _rotate(orientations, np.broadcast_to(volume * shape, eigenvalues.shape)), warm


def _vev(scatter, nk, warm):
    """D_k from W_k's eigenvectors; volumes and the shared shape alternate (C & G 1995)."""
    eigenvalues, orientations = _decreasing_eigh(scatter)
    d = scatter.shape[-1]
    shape = np.ones(d) if warm is None else warm

    def volumes_for(shape):
        return (eigenvalues / shape).sum(axis=1) / (nk * d)

    def step(shape):
        pooled = (eigenvalues / volumes_for(shape)[:, None]).sum(axis=0)
        return pooled / _geometric_mean(pooled)

    def covariances(shape):
        return _rotate(orientations, volumes_for(shape)[:, None] * shape)

    shape = _iterate(step, shape, lambda shape: q_objective(scatter, nk, covariances(shape)))
    return covariances(shape), shape


def _evv(scatter, nk, warm):
    roots = _det_root(scatter)
    volume = roots.sum() / nk.sum()
    return volume * scatter / roots[:, None, None], warm


def _vvv(scatter, nk, warm):
    return scatter / nk[:, None, None], warm


M_STEPS = {
    "EII": _eii, "VII": _vii, "EEI": _eei, "VEI": _vei, "EVI": _evi, "VVI": _vvi,
    "EEE": _eee, "VEE": _vee, "EVE": _eve, "VVE": _vve,
    "EEV": _eev, "VEV": _vev, "EVV": _evv, "VVV": _vvv,
    # One dimension: only the volume is left.
    "E": _eii, "V": _vii,
}


class ParsimoniousCovariance(FullCovariance):
    """One of mclust's models; covariances are full ``(k, d, d)`` matrices."""

    def __init__(self, model: str, n_components: int, n_features: int):
        if model in UNIVARIATE_NAMES and n_features != 1:
            raise ValueError(f"covariance_type {model!r} is mclust's univariate model: it "
                             f"needs one feature; got {n_features} (use "
                             f"{'EII' if model == 'E' else 'VII'} for several)")
        super().__init__(n_components, n_features)
        self.name = model
        self._m_step = M_STEPS[model]
        self._warm = None

    def start_run(self) -> None:
        self._warm = None

    def n_parameters(self):
        return n_variance_parameters(self.name, self.k, self.d)

    def constrained(self, scatter: np.ndarray, nk: np.ndarray) -> np.ndarray:
        """The model's covariances from scatter matrices ``W_k`` and weights ``n_k``."""
        scale = np.trace(scatter.sum(axis=0)) / (nk.sum() * self.d)
        floor = SCATTER_FLOOR * (scale if scale > 0 else 1.0)
        floored = scatter + (nk * floor)[:, None, None] * np.eye(self.d)
        covariances, self._warm = self._m_step(floored, nk, self._warm)
        return covariances

    def estimate(self, nk, means_c, quad, reg_covar):
        sample_covariances = super().estimate(nk, means_c, quad, reg_covar)
        return self.constrained(nk[:, None, None] * sample_covariances, nk)

    def from_full(self, full, weights):
        return self.constrained(weights[:, None, None] * np.asarray(full, dtype=float),
                                np.asarray(weights, dtype=float))
