"""The seed notebook's EM, replayed as written but without its loops over rows.

Everything that makes the notebook fail is kept on purpose, so a class can watch it
happen: the means start at ``k`` random data rows (``np.random.choice`` under the seed,
which is the notebook's ``np.random.seed(42)``), every covariance starts at the same
hand-written ``Cov(X) + εI``, densities are evaluated in probability space with
``np.linalg.inv`` and ``np.linalg.det`` (so they underflow to exactly 0), ε is added to
the covariances in the M-step *and again* inside the density, responsibilities are
``π·pdf / (Σ π·pdf + ε)``, the log-likelihood is ``Σ log(Σ π·pdf + ε)`` computed after
the M-step, and the loop stops when it changes by less than ``tol`` between two
evaluations. Means keep the dtype of X, as the notebook's ``X[idx]`` does.

The replay records the same ``FitTrace`` as the EM core, plus per snapshot the number
of rows with zero density under every component, and events that say in plain English
what went wrong: identical components, rows starved of responsibility, collapse.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from gmm_core.trace import (
    COVARIANCE_COLLAPSE,
    IDENTICAL_COMPONENTS,
    NOT_POSITIVE_DEFINITE,
    STOP_CONVERGED,
    STOP_MAX_ITERS,
    STOP_NUMERICAL_FAILURE,
    WEIGHT_COLLAPSE,
    ZERO_DENSITY,
    FitTrace,
    TraceRecorder,
    display_sample_index,
    display_sample_size,
)
from gmm_core.validation import validate_data
from gmm_core.wording import counted

EPSILON = 1e-8  # the notebook's self.epsilon
# A covariance whose smallest variance is this close to ε is "only the regularizer":
# the component has shrunk onto (nearly) repeated points.
COLLAPSE_EPSILON_FACTOR = 100.0
# ... or is this ill-conditioned relative to its own largest variance.
COLLAPSE_CONDITION = 1e12
# Rows within this Mahalanobis radius of a collapsed mean are the ones it sits on.
SPIKE_RADIUS = 3.0


@dataclass
class NotebookParameters:
    """The notebook's ``self.pi``, ``self.means`` and ``self.covariances``."""

    weights: np.ndarray  # (k,)
    means: np.ndarray  # (k, d), dtype of X
    covariances: np.ndarray  # (k, d, d) float64, ε already added


@dataclass
class Densities:
    """One evaluation of the notebook's densities at fixed parameters."""

    pdf: np.ndarray  # (n, k) N(x | μ_j, Σ_j + εI), in probability space
    weighted: np.ndarray  # (n, k) π_j · pdf
    total: np.ndarray  # (n,) Σ_j π_j · pdf
    log_likelihood: float  # Σ log(total + ε), the notebook's _compute_log_likelihood

    def responsibilities(self, epsilon: float) -> np.ndarray:
        return self.weighted / (self.total[:, None] + epsilon)


def validate_notebook_input(X, k: int, tol: float, max_iters: int, epsilon: float) -> np.ndarray:
    """X as the notebook uses it (float32 stays float32); one-line errors otherwise."""
    if isinstance(k, bool) or not isinstance(k, int | np.integer) or k < 1:
        raise ValueError(f"k must be a positive integer; got {k!r}")
    if isinstance(max_iters, bool) or not isinstance(max_iters, int | np.integer) or max_iters < 1:
        raise ValueError(f"max_iters must be a positive integer; got {max_iters!r}")
    if not (np.isscalar(tol) and tol >= 0):
        raise ValueError(f"tol must be a number >= 0; got {tol!r}")
    if not (np.isscalar(epsilon) and np.isfinite(epsilon) and epsilon > 0):
        raise ValueError(f"epsilon must be a positive number (the notebook uses 1e-8); "
                         f"got {epsilon!r}")
    # Cov(X) divides by n - 1, so the notebook needs two rows even for k = 1.
    return validate_data(X, min_rows=max(int(k), 2))


def notebook_covariance(X: np.ndarray, epsilon: float) -> np.ndarray:
    """The notebook's hand-written ``_covariance``: Cov(X) with n - 1, plus εI.

    Written out rather than ``np.cov`` so float32 data is averaged in float32, as the
    notebook's arithmetic was (np.cov would promote to float64 first).
    """
    n, d = X.shape
    centred = X - np.sum(X, axis=0) / n
    return (centred.T @ centred) / (n - 1) + np.eye(d) * epsilon


def initial_parameters(X: np.ndarray, k: int, seed: int,
                       epsilon: float) -> tuple[NotebookParameters, np.ndarray]:
    """The notebook's ``_initialize_params`` and the row indices it drew."""
    # The global np.random.seed(seed); np.random.choice(...) is this same RandomState.
    rows = np.random.RandomState(seed).choice(X.shape[0], k, replace=False)
    covariance = notebook_covariance(X, epsilon)
    params = NotebookParameters(
        weights=1 / k * np.ones(k),
        means=X[rows],
        covariances=np.repeat(covariance[None], k, axis=0),
    )
    return params, rows


def evaluate_densities(X: np.ndarray, params: NotebookParameters, epsilon: float) -> Densities:
    """``_gaussian_pdf`` for every component, then the log-likelihood (probability space)."""
    n, d = X.shape
    k = len(params.weights)
    pdf = np.empty((n, k))
    for j in range(k):
        regularized = params.covariances[j] + epsilon * np.eye(d)
        inverse = np.linalg.inv(regularized)
        diff = X - params.means[j]
        mahalanobis = np.sum((diff @ inverse) * diff, axis=1)
        determinant = np.linalg.det(regularized)
        pdf[:, j] = (1 / np.sqrt((2 * np.pi) ** d * determinant)) * np.exp(-0.5 * mahalanobis)
    weighted = params.weights * pdf
    total = np.sum(weighted, axis=1)
    log_likelihood = float(np.sum(np.log(total + epsilon)))
    return Densities(pdf, weighted, total, log_likelihood)


def m_step(X: np.ndarray, responsibilities: np.ndarray, params: NotebookParameters,
           epsilon: float) -> NotebookParameters:
    """The notebook's ``_m_step``: weighted means and covariances, plus εI."""
    n, d = X.shape
    sums = np.sum(responsibilities, axis=0)
    weights = sums / n
    means = np.empty_like(params.means)
    means[...] = (responsibilities.T @ X) / sums[:, None]
    covariances = np.empty_like(params.covariances)
    for j in range(len(sums)):
        # Uses the stored (dtype of X) mean, as the notebook's diff = X - self.means[i].
        diff = X - means[j]
        scatter = (responsibilities[:, j, None] * diff).T @ diff
        covariances[j] = scatter / sums[j] + epsilon * np.eye(d)
    return NotebookParameters(weights, means, covariances)


def identical_pairs(means: np.ndarray, covariances: np.ndarray) -> list[tuple[int, int]]:
    """Pairs ``(i, j)``, ``i < j``, with exactly equal means and covariances."""
    k = len(means)
    return [(i, j) for i in range(k) for j in range(i + 1, k)
            if np.array_equal(means[i], means[j])
            and np.array_equal(covariances[i], covariances[j])]


def _rows(indices) -> str:
    return " and ".join(f"{int(i):,}" for i in indices)


def _point(vector) -> str:
    return "(" + ", ".join(f"{float(v):.4g}" for v in vector) + ")"


@dataclass
class _DegeneracyWatch:
    """Looks at each snapshot and records what newly went wrong as events."""

    X: np.ndarray
    epsilon: float
    recorder: TraceRecorder
    identical_pairs: set[tuple[int, int]] = field(default_factory=set)
    collapsed_weight: set[int] = field(default_factory=set)
    collapsed_covariance: set[int] = field(default_factory=set)
    previous_zero: int = 0
    previous_below_epsilon: int = 0

    def inspect(self, t: int, params: NotebookParameters, densities: Densities,
                drawn_rows: np.ndarray | None = None) -> int:
        """Record events for snapshot t; return its zero-density count."""
        self._identical(t, params, drawn_rows)
        self._weights(t, params)
        self._covariances(t, params)
        return self._starved_rows(t, densities)

    def _identical(self, t, params, drawn_rows):
        for i, j in identical_pairs(params.means, params.covariances):
            if (i, j) in self.identical_pairs:
                continue
            self.identical_pairs.add((i, j))
            if drawn_rows is not None:
                message = (
                    f"The random start drew rows {_rows(drawn_rows[[i, j]])}, which hold "
                    f"the same values {_point(params.means[i])}: components {i} and {j} "
                    "start with the same mean and covariance, get identical "
                    "responsibilities, and so can never separate."
                )
            else:
                message = (
                    f"Components {i} and {j} have become identical (same mean "
                    f"{_point(params.means[i])} and covariance): from now on EM moves "
                    "them together and they can never separate."
                )
            self.recorder.add_event(t, IDENTICAL_COMPONENTS, message, i)

    def _weights(self, t, params):
        n = self.X.shape[0]
        for j in np.flatnonzero(params.weights < 1 / n):
            if j in self.collapsed_weight:
                continue
            self.collapsed_weight.add(int(j))
            self.recorder.add_event(
                t, WEIGHT_COLLAPSE,
                f"Component {j}'s weight fell to {params.weights[j]:.3g}, under 1/N = "
                f"{1 / n:.3g}: it now explains less than one row.",
                int(j),
            )

    def _covariances(self, t, params):
        variances = np.linalg.eigvalsh(params.covariances)
        smallest, largest = variances[:, 0], variances[:, -1]
        near_singular = ((smallest < COLLAPSE_EPSILON_FACTOR * self.epsilon)
                         | (smallest < largest / COLLAPSE_CONDITION))
        for j in np.flatnonzero(near_singular):
            if j in self.collapsed_covariance:
                continue
            self.collapsed_covariance.add(int(j))
            self.recorder.add_event(
                t, COVARIANCE_COLLAPSE,
                f"Component {j}'s covariance has collapsed (smallest variance "
                f"{smallest[j]:.2g}, ε = {self.epsilon:.2g}): it has shrunk onto "
                f"{self._what_it_sits_on(params, int(j))}, where its density grows without "
                "bound, so the log-likelihood climbs while the fit gets worse.",
                int(j),
            )

    def _what_it_sits_on(self, params, j) -> str:
        regularized = params.covariances[j] + self.epsilon * np.eye(self.X.shape[1])
        diff = self.X - params.means[j]
        mahalanobis = np.sum((diff @ np.linalg.inv(regularized)) * diff, axis=1)
        inside = self.X[mahalanobis < SPIKE_RADIUS**2]
        where = _point(params.means[j])
        if len(inside) > 1 and np.all(inside == inside[0]):
            return f"a spike of {len(inside):,} identical rows at {_point(inside[0])}"
        if len(inside) == 1:
            return f"a single row at {_point(inside[0])}"
        return f"{counted(len(inside), 'row')} around {where}"

    def _starved_rows(self, t, densities) -> int:
        n = len(densities.total)
        zero = int(np.count_nonzero(np.all(densities.pdf == 0, axis=1)))
        below_epsilon = int(np.count_nonzero(densities.total < self.epsilon))
        first_starved = below_epsilon and not self.previous_below_epsilon
        if (zero and zero != self.previous_zero) or first_starved:
            sentences = []
            if zero:
                sentences.append(
                    f"{zero:,} of {counted(n, 'row')} "
                    + ("has zero density under every component: its responsibilities are "
                       "0/ε, it no longer pulls any mean." if zero == 1 else
                       "have zero density under every component: their responsibilities "
                       "are 0/ε, they no longer pull any mean.")
                )
            if below_epsilon > zero:
                one = below_epsilon == 1
                sentences.append(
                    f"{below_epsilon:,} of {counted(n, 'row')} {'has' if one else 'have'} a "
                    f"total density below ε = {self.epsilon:.2g}, so "
                    f"{'its' if one else 'their'} responsibilities π·pdf/(Σ π·pdf + ε) sum "
                    f"to less than 1/2 and {'it barely pulls' if one else 'they barely pull'} "
                    "any mean."
                )
            self.recorder.add_event(t, ZERO_DENSITY, " ".join(sentences))
        self.previous_zero, self.previous_below_epsilon = zero, below_epsilon
        return zero


def _densities_or_failure(X: np.ndarray, params: NotebookParameters,
                          epsilon: float) -> tuple[Densities | None, str]:
    """The densities, or why the notebook's arithmetic cannot produce finite ones."""
    try:
        with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
            densities = evaluate_densities(X, params, epsilon)
    except np.linalg.LinAlgError as error:
        return None, (f"np.linalg.inv fails ({error}): a covariance plus εI is singular at "
                      "this data scale, so the notebook would stop with an error")
    if not (np.all(np.isfinite(densities.pdf)) and np.isfinite(densities.log_likelihood)):
        return None, ("a density is NaN or infinite (a covariance determinant is zero or "
                      "negative), so the notebook would carry on with NaN")
    return densities, ""


def fit_notebook(X, k: int = 2, tol: float = 1e-4, max_iters: int = 100, seed: int = 42,
                 epsilon: float = EPSILON, trace_points: int = 5000,
                 trace_memory_mb: float = 256) -> FitTrace:
    """Replay the notebook's ``GMM(k).fit(X)`` and return its trace.

    Snapshot 0 holds the initial parameters, snapshot t the parameters after t M-steps,
    each with its log-likelihood (total: ``trace.log_likelihood``, as the notebook
    prints it), the responsibilities the next E-step gives the display subsample, and
    the number of rows with zero density under every component.
    """
    X = validate_notebook_input(X, k, tol, max_iters, epsilon)
    n = X.shape[0]
    size = display_sample_size(n, k, max_iters, trace_points,
                               int(trace_memory_mb * 2**20))
    sample = display_sample_index(n, size, seed)
    recorder = TraceRecorder("full", n, sample, algorithm="notebook", track_zero_density=True)
    watch = _DegeneracyWatch(X, epsilon, recorder)

    def record(t, params, densities, drawn_rows=None):
        zero = watch.inspect(t, params, densities, drawn_rows)
        recorder.record(params.weights, params.means, params.covariances,
                        densities.log_likelihood / n,
                        densities.responsibilities(epsilon)[sample], zero)

    params, drawn_rows = initial_parameters(X, k, seed, epsilon)
    densities, failure = _densities_or_failure(X, params, epsilon)
    if densities is None:
        raise ValueError(f"the notebook's algorithm cannot start on this data: {failure}; "
                         "standardize the features first")
    record(0, params, densities, drawn_rows)
    previous_log_likelihood = None
    for iteration in range(1, max_iters + 1):
        with np.errstate(invalid="ignore", divide="ignore"):
            params = m_step(X, densities.responsibilities(epsilon), params, epsilon)
        empty = np.flatnonzero(~(params.weights > 0))
        if len(empty) or not np.all(np.isfinite(params.means)):
            densities, kind = None, WEIGHT_COLLAPSE
            failure = (f"component(s) {', '.join(map(str, empty))} received no "
                       "responsibility at all, so the notebook divides 0 by 0 and the mean "
                       "becomes NaN")
        else:
            densities, failure = _densities_or_failure(X, params, epsilon)
            kind = NOT_POSITIVE_DEFINITE
        if densities is None:
            # The broken parameters cannot be drawn: say so at the last recorded snapshot.
            recorder.add_event(
                iteration - 1, kind,
                f"The replay stops here: after the M-step of iteration {iteration}, {failure}.",
                int(empty[0]) if len(empty) else None,
            )
            return recorder.finish(STOP_NUMERICAL_FAILURE)
        record(iteration, params, densities)
        if (previous_log_likelihood is not None
                and abs(densities.log_likelihood - previous_log_likelihood) < tol):
            return recorder.finish(STOP_CONVERGED)
        previous_log_likelihood = densities.log_likelihood
    return recorder.finish(STOP_MAX_ITERS)


def notebook_responsibilities(X, trace: FitTrace, epsilon: float = EPSILON) -> np.ndarray:
    """Every row's responsibilities ``(n, k)`` under a replay's final parameters, by the
    notebook's own rule: its ``predict`` runs ``_e_step``, π·pdf / (Σ π·pdf + ε) in
    probability space, and takes the argmax. A row whose density underflows to 0 under
    every component gets all zeros there (so ``argmax`` gives it component 0, as the
    notebook's ``predict`` does); rows sum to a little under 1 otherwise. ``epsilon``
    must be the replay's (``fit_notebook``'s default is the notebook's).
    """
    X = validate_data(X, n_features=trace.n_features)
    # The replay kept its means in X's dtype; the trace stores them as float64, exactly.
    params = NotebookParameters(trace.weights[-1], trace.means[-1].astype(X.dtype),
                                trace.covariances[-1])
    densities, failure = _densities_or_failure(X, params, epsilon)
    if densities is None:
        raise ValueError(f"the replay's final mixture cannot be evaluated: {failure}")
    return densities.responsibilities(epsilon)


def explain_notebook_failure(trace: FitTrace) -> list[str]:
    """What a teacher would say about a notebook replay, one sentence per cause."""
    sentences = []
    identical = [e for e in trace.events if e.kind == IDENTICAL_COMPONENTS]
    if identical:
        t = identical[0].iteration
        pairs = identical_pairs(trace.means[t], trace.covariances[t])
        names = ", ".join(f"{i} and {j}" for i, j in pairs)
        when = ("Identical start: the random draw picked identical rows, so components "
                if t == 0 else f"Identical components from iteration {t}: components ")
        final = _point(trace.means[-1, pairs[0][0]])
        sentences.append(
            f"{when}{names} had the same mean and covariance; identical components get "
            "identical responsibilities and identical updates, so they moved together to "
            f"the end, at {final}."
        )
    breakdown = trace.events[-1] if trace.stop_reason == STOP_NUMERICAL_FAILURE else None
    collapse = [e for e in trace.events
                if e.kind in (COVARIANCE_COLLAPSE, NOT_POSITIVE_DEFINITE, WEIGHT_COLLAPSE)
                and e is not breakdown]
    if collapse:
        ll = trace.log_likelihood
        rise = (f" The log-likelihood rose from {ll[0]:,.1f} to {ll[-1]:,.1f} along the way."
                if ll[-1] > ll[0] else "")
        sentences.append(f"Collapse at iteration {collapse[0].iteration}: "
                         f"{collapse[0].message}{rise}")
    zero = trace.zero_density if trace.zero_density is not None else np.zeros(1, dtype=int)
    if zero.max() > 0:
        first = int(np.argmax(zero > 0))
        worst = int(np.argmax(zero))
        sentences.append(
            f"Zero-density rows: from iteration {first}, rows had zero density under every "
            f"component (up to {zero[worst]:,} of {trace.n_samples:,} at iteration {worst}); "
            "in probability space their densities underflow to 0, their responsibilities "
            "are 0/ε = 0, and they stop pulling any mean, which is why no component can "
            "move towards them."
        )
    if breakdown is not None:
        sentences.append(f"Breakdown at iteration {trace.n_iter}: {breakdown.message}")
    if not sentences:
        sentences.append(
            "Nothing went wrong in this replay: the components started apart, none "
            "collapsed, and every row kept a non-zero density."
        )
    return sentences
