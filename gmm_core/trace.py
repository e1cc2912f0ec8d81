"""The record of one EM run: parameters per iteration, events, and a display subsample.

Snapshot ``t`` holds the parameters after ``t`` M-steps (snapshot 0 is the initial
state) together with the log-likelihood of those parameters and the responsibilities
they give to the display subsample. Covariances are stored as full ``(k, d, d)``
matrices whatever the covariance type, so drawing code needs one shape only.

Responsibilities are the only part that grows with the data, so they are kept for a
reproducible subsample whose size is chosen up front to fit a memory cap.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

RESPONSIBILITY_DTYPE = np.float32


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

    Arrays are indexed by snapshot ``t = 0 … n_iter``:

    - ``weights``: ``(T, k)``; ``means``: ``(T, k, d)``; ``covariances``: ``(T, k, d, d)``
    - ``mean_log_likelihood``: ``(T,)`` mean per-sample log-likelihood of snapshot t
    - ``mean_shift``: ``(T,)`` ``‖μ_t − μ_{t−1}‖₂`` over all means (NaN at t = 0)
    - ``responsibilities``: ``(T, m, k)`` float32, for the rows ``sample_index`` (m rows)
    - ``zero_density``: ``(T,)`` rows with zero density under every component, or None
      (only the probability-space notebook replay can produce such rows)
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

    @property
    def n_iter(self) -> int:
        return len(self.weights) - 1

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

    def labels(self, iteration: int = -1) -> np.ndarray:
        """Hard assignment of the display subsample at a snapshot."""
        return np.argmax(self.responsibilities[iteration], axis=1)

    def events_at(self, iteration: int) -> list[Event]:
        return [event for event in self.events if event.iteration == iteration]

    @property
    def nbytes(self) -> int:
        arrays = (self.weights, self.means, self.covariances, self.mean_log_likelihood,
                  self.mean_shift, self.sample_index, self.responsibilities)
        return sum(a.nbytes for a in arrays)

    def to_dict(self) -> dict:
        """Plain lists and numbers, for JSON export."""
        return {
            "algorithm": self.algorithm,
            "covariance_type": self.covariance_type,
            "n_samples": self.n_samples,
            "n_iter": self.n_iter,
            "stop_reason": self.stop_reason,
            "weights": self.weights.tolist(),
            "means": self.means.tolist(),
            "covariances": self.covariances.tolist(),
            "mean_log_likelihood": self.mean_log_likelihood.tolist(),
            "mean_shift": np.nan_to_num(self.mean_shift, nan=0.0).tolist(),
            "zero_density": None if self.zero_density is None else self.zero_density.tolist(),
            "events": [event.to_dict() for event in self.events],
        }


def display_sample_size(n_samples: int, n_components: int, max_snapshots: int,
                        trace_points: int, memory_cap_bytes: int) -> int:
    """Rows whose responsibilities fit the cap for every snapshot the run may record."""
    per_row = n_components * max_snapshots * np.dtype(RESPONSIBILITY_DTYPE).itemsize
    return int(max(1, min(n_samples, trace_points, memory_cap_bytes // per_row)))


def display_sample_index(n_samples: int, size: int, seed: int) -> np.ndarray:
    """A sorted, reproducible subsample of row indices (all rows when they fit)."""
    if size >= n_samples:
        return np.arange(n_samples)
    rng = np.random.default_rng(seed)
    return np.sort(rng.choice(n_samples, size=size, replace=False))


class TraceRecorder:
    """Collects snapshots during a run and freezes them into a FitTrace."""

    def __init__(self, covariance_type: str, n_samples: int, sample_index: np.ndarray,
                 algorithm: str = "em", track_zero_density: bool = False):
        self.covariance_type = covariance_type
        self.n_samples = n_samples
        self.sample_index = sample_index
        self.algorithm = algorithm
        self.events: list[Event] = []
        self._weights: list[np.ndarray] = []
        self._means: list[np.ndarray] = []
        self._covariances: list[np.ndarray] = []
        self._mean_ll: list[float] = []
        self._resp: list[np.ndarray] = []
        self._zero_density: list[int] | None = [] if track_zero_density else None

    def record(self, weights, means, covariances_full, mean_log_likelihood,
               sample_responsibilities, zero_density: int | None = None) -> None:
        self._weights.append(np.array(weights, dtype=float))
        self._means.append(np.array(means, dtype=float))
        self._covariances.append(np.array(covariances_full, dtype=float))
        self._mean_ll.append(float(mean_log_likelihood))
        self._resp.append(np.asarray(sample_responsibilities, dtype=RESPONSIBILITY_DTYPE))
        if self._zero_density is not None:
            self._zero_density.append(int(zero_density or 0))

    def add_event(self, iteration: int, kind: str, message: str,
                  component: int | None = None) -> None:
        self.events.append(Event(iteration, kind, message, component))

    def finish(self, stop_reason: str) -> FitTrace:
        means = np.stack(self._means)
        shift = np.full(len(means), np.nan)
        shift[1:] = np.sqrt(((means[1:] - means[:-1]) ** 2).sum(axis=(1, 2)))
        return FitTrace(
            covariance_type=self.covariance_type,
            n_samples=self.n_samples,
            weights=np.stack(self._weights),
            means=means,
            covariances=np.stack(self._covariances),
            mean_log_likelihood=np.array(self._mean_ll),
            mean_shift=shift,
            sample_index=self.sample_index,
            responsibilities=np.stack(self._resp),
            stop_reason=stop_reason,
            events=list(self.events),
            zero_density=None if self._zero_density is None else np.array(self._zero_density),
            algorithm=self.algorithm,
        )
