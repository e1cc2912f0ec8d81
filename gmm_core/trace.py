"""The record of one EM run: parameters per iteration, events, and a display subsample.

Snapshot ``t`` holds the parameters after ``t`` M-steps (snapshot 0 is the initial
state) together with the log-likelihood of those parameters and the responsibilities
they give to the display subsample. Covariances are stored as full ``(k, d, d)``
matrices whatever the covariance type, so drawing code needs one shape only.

Responsibilities are the only part that grows with the data, so they are kept for a
reproducible subsample whose size is chosen up front to fit a memory cap.

Memory is bounded for any number of iterations: per-iteration numbers (log-likelihood,
mean shift, zero-density count) are kept for every iteration, but at most
``max_snapshots`` snapshots of parameters and responsibilities. Past the cap the kept
ones are thinned as the animated figure chooses its frames: the first half of the cap
keeps the first iterations one each, the rest are evenly spaced (their spacing doubles
each time they fill up), and the last iteration is always kept. ``iterations`` says
which iteration each snapshot is.
"""

from __future__ import annotations

import functools
from array import array
from dataclasses import dataclass, field

import numpy as np

RESPONSIBILITY_DTYPE = np.float32
# Snapshots a trace keeps at most: every iteration of the dashboard's longest fit (1,000).
MAX_SNAPSHOTS = 1001


@dataclass(frozen=True)
class Event:
    """Something noteworthy at one iteration (a degenerate component, a fix applied)."""

    iteration: int
    kind: str
    message: str
    component: int | None = None

    def to_dict(self) -> dict:
        return {
            "iteration": self.iteration,
            "kind": self.kind,
            "component": self.component,
            "message": self.message,
        }


# Event kinds, shared by the EM driver, the notebook replay and the dashboard.
IDENTICAL_COMPONENTS = "identical_components"
WEIGHT_COLLAPSE = "weight_collapse"
NOT_POSITIVE_DEFINITE = "not_positive_definite"
COVARIANCE_COLLAPSE = "covariance_collapse"  # still positive definite, but only just
REGULARIZED = "regularized"
REINITIALIZED = "reinitialized"
ZERO_DENSITY = "zero_density"
# Held up only by regularization: too little weight, or a flat covariance (gmm_core.singular).
SINGULAR = "singular"

STOP_CONVERGED = "converged"
STOP_MAX_ITERS = "max_iters"
# The notebook replay stops where its probability-space arithmetic breaks down.
STOP_NUMERICAL_FAILURE = "numerical_failure"


@dataclass
class FitTrace:
    """Per-iteration history of a Gaussian-mixture fit.

    Snapshot arrays are indexed by kept snapshot; ``iterations`` ``(T,)`` holds the
    iteration of each (``0 … n_iter`` when no more than ``MAX_SNAPSHOTS`` were recorded,
    so that snapshot and iteration then coincide):

    - ``weights``: ``(T, k)``; ``means``: ``(T, k, d)``; ``covariances``: ``(T, k, d, d)``
    - ``responsibilities``: ``(T, m, k)`` float32, for the rows ``sample_index`` (m rows);
      ``(T, m, k + 1)`` for a fit with a noise component, whose column is the last
    - ``noise_weights``: ``(T,)`` the noise component's weight (gmm_core.noise), None for
      a fit without one

    Per-iteration arrays have one entry per iteration ``t = 0 … n_iter``:

    - ``mean_log_likelihood``: mean per-sample log-likelihood of the parameters after t
      M-steps
    - ``mean_shift``: ``‖μ_t − μ_{t−1}‖₂`` over all means (NaN at t = 0)
    - ``zero_density``: rows with zero density under every component, or None (only the
      probability-space notebook replay can produce such rows)
    """

    covariance_type: str
    n_samples: int
    weights: np.ndarray
    means: np.ndarray
    covariances: np.ndarray
    mean_log_likelihood: np.ndarray
    mean_shift: np.ndarray
    sample_index: np.ndarray
    responsibilities: np.ndarray
    stop_reason: str
    events: list[Event] = field(default_factory=list)
    zero_density: np.ndarray | None = None
    algorithm: str = "em"
    iterations: np.ndarray | None = None
    noise_weights: np.ndarray | None = None

    def __post_init__(self):
        if self.iterations is None:  # every iteration kept
            self.iterations = np.arange(len(self.weights))

    @property
    def n_iter(self) -> int:
        return len(self.mean_log_likelihood) - 1

    @property
    def n_components(self) -> int:
        return self.weights.shape[1]

    @property
    def n_features(self) -> int:
        return self.means.shape[2]

    @property
    def converged(self) -> bool:
        return self.stop_reason == STOP_CONVERGED

    @property
    def log_likelihood(self) -> np.ndarray:
        """Total log-likelihood per snapshot (the notebook prints this one)."""
        return self.mean_log_likelihood * self.n_samples

    @property
    def has_noise(self) -> bool:
        return self.noise_weights is not None

    def labels(self, iteration: int = -1) -> np.ndarray:
        """Hard assignment of the display subsample at a kept snapshot (k for the noise
        component of a fit that has one)."""
        return np.argmax(self.responsibilities[iteration], axis=1)

    def events_at(self, iteration: int) -> list[Event]:
        return [event for event in self.events if event.iteration == iteration]

    @property
    def nbytes(self) -> int:
        arrays = (self.weights, self.means, self.covariances, self.mean_log_likelihood,
                  self.mean_shift, self.sample_index, self.responsibilities, self.iterations)
        return sum(a.nbytes for a in arrays)

    def to_dict(self) -> dict:
        """Plain lists and numbers, for JSON export."""
        return {
            "algorithm": self.algorithm,
            "covariance_type": self.covariance_type,
            "n_samples": self.n_samples,
            "n_iter": self.n_iter,
            "stop_reason": self.stop_reason,
            "iterations": self.iterations.tolist(),
            "weights": self.weights.tolist(),
            "means": self.means.tolist(),
            "covariances": self.covariances.tolist(),
            "mean_log_likelihood": self.mean_log_likelihood.tolist(),
            "mean_shift": np.nan_to_num(self.mean_shift, nan=0.0).tolist(),
            "zero_density": None if self.zero_density is None else self.zero_density.tolist(),
            "events": [event.to_dict() for event in self.events],
        } | ({} if self.noise_weights is None else
             {"noise_weights": self.noise_weights.tolist()})


def display_sample_size(n_samples: int, n_components: int, max_iters: int,
                        trace_points: int, memory_cap_bytes: int) -> int:
    """Rows whose responsibilities fit the cap for every snapshot a run of ``max_iters``
    iterations may keep."""
    snapshots = min(max_iters + 1, MAX_SNAPSHOTS)
    per_row = n_components * snapshots * np.dtype(RESPONSIBILITY_DTYPE).itemsize
    return int(max(1, min(n_samples, trace_points, memory_cap_bytes // per_row)))


def display_sample_index(n_samples: int, size: int, seed: int | None) -> np.ndarray:
    """A sorted, reproducible subsample of row indices (all rows when they fit)."""
    if size >= n_samples:
        return np.arange(n_samples)
    if seed is None:
        return _drawn_sample_index(n_samples, size, seed)
    return _kept_sample_index(n_samples, size, seed)


def _drawn_sample_index(n_samples: int, size: int, seed: int | None) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.sort(rng.choice(n_samples, size=size, replace=False))


@functools.lru_cache(maxsize=64)
def _kept_sample_index(n_samples: int, size: int, seed: int) -> np.ndarray:
    """Read-only, and kept for the next call: every fit of a model-selection sweep asks
    for the same subsample, and drawing it costs more than a small fit's EM iteration."""
    index = _drawn_sample_index(n_samples, size, seed)
    index.flags.writeable = False
    return index


class TraceRecorder:
    """Collects snapshots during a run, thinned past ``max_snapshots``, and freezes them
    into a FitTrace."""

    def __init__(self, covariance_type: str, n_samples: int, sample_index: np.ndarray,
                 algorithm: str = "em", track_zero_density: bool = False,
                 max_snapshots: int = MAX_SNAPSHOTS):
        if max_snapshots < 4:
            raise ValueError(f"max_snapshots must be at least 4; got {max_snapshots}")
        self.covariance_type = covariance_type
        self.n_samples = n_samples
        self.sample_index = sample_index
        self.algorithm = algorithm
        self.events: list[Event] = []
        self.max_snapshots = max_snapshots
        self._head = max_snapshots // 2  # iterations 0 … head - 1 are all kept
        self._stride = 1  # spacing of the kept iterations after the head
        # (iteration, weights, means, covariances, resp, noise weight)
        self._kept: list[tuple] = []
        self._latest: tuple | None = None  # the latest snapshot, kept or not
        self._mean_ll = array("d")
        self._mean_shift = array("d")
        self._previous_means: np.ndarray | None = None
        self._zero_density: array | None = array("q") if track_zero_density else None

    def record(self, weights, means, covariances_full, mean_log_likelihood,
               sample_responsibilities, zero_density: int | None = None,
               noise_weight: float | None = None) -> None:
        iteration = len(self._mean_ll)
        means = np.array(means, dtype=float)
        self._mean_ll.append(float(mean_log_likelihood))
        self._mean_shift.append(np.nan if self._previous_means is None else
                                float(np.sqrt(((means - self._previous_means) ** 2).sum())))
        self._previous_means = means
        if self._zero_density is not None:
            self._zero_density.append(int(zero_density or 0))
        self._latest = (iteration, np.array(weights, dtype=float), means,
                        np.array(covariances_full, dtype=float),
                        np.asarray(sample_responsibilities, dtype=RESPONSIBILITY_DTYPE),
                        noise_weight)
        if iteration >= self._head and (iteration - self._head) % self._stride:
            return
        if len(self._kept) == self.max_snapshots:
            self._kept = self._kept[:self._head] + self._kept[self._head::2]
            self._stride *= 2
            if (iteration - self._head) % self._stride:
                return
        self._kept.append(self._latest)

    def add_event(self, iteration: int, kind: str, message: str,
                  component: int | None = None) -> None:
        self.events.append(Event(iteration, kind, message, component))

    def finish(self, stop_reason: str) -> FitTrace:
        kept = self._kept
        if kept[-1] is not self._latest:  # the last iteration is always kept
            kept = [*kept[:self.max_snapshots - 1], self._latest]
        iterations, weights, means, covariances, resp, noise = zip(*kept, strict=True)
        return FitTrace(
            covariance_type=self.covariance_type,
            n_samples=self.n_samples,
            weights=np.stack(weights),
            means=np.stack(means),
            covariances=np.stack(covariances),
            mean_log_likelihood=np.array(self._mean_ll),
            mean_shift=np.array(self._mean_shift),
            sample_index=self.sample_index,
            responsibilities=np.stack(resp),
            stop_reason=stop_reason,
            events=list(self.events),
            zero_density=None if self._zero_density is None else np.array(self._zero_density),
            algorithm=self.algorithm,
            iterations=np.array(iterations),
            noise_weights=None if noise[-1] is None else np.array(noise, dtype=float),
        )
