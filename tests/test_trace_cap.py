"""The trace's memory is bounded for any max_iters: at most MAX_SNAPSHOTS snapshots, the
last iteration always among them, every iteration's log-likelihood kept."""

from __future__ import annotations

import numpy as np
import pytest

from gmm_core import GMM
from gmm_core.trace import MAX_SNAPSHOTS, TraceRecorder


def recorded(n_records: int, max_snapshots: int):
    recorder = TraceRecorder("full", 5, np.arange(5), max_snapshots=max_snapshots)
    for t in range(n_records):
        recorder.record([1.0], [[float(t)]], [[[1.0]]], -float(t), np.ones((5, 1)))
    return recorder.finish("max_iters")


@pytest.mark.parametrize("n_records", [1, 9, 10, 11, 12, 37, 1000, 4097])
def test_thinned_snapshots_are_the_head_then_evenly_spaced_then_the_last(n_records):
    trace = recorded(n_records, max_snapshots=10)
    last = n_records - 1
    assert len(trace.iterations) <= 10 and trace.iterations[-1] == last == trace.n_iter
    np.testing.assert_array_equal(trace.iterations[:min(5, n_records)],
                                  np.arange(min(5, n_records)))
    # Each snapshot is the one recorded at its iteration.
    np.testing.assert_array_equal(trace.means[:, 0, 0], trace.iterations)
    later = trace.iterations[5:-1]
    if len(later) > 1:
        assert len(set(np.diff(later))) == 1  # evenly spaced
    # Per-iteration numbers are all there.
    np.testing.assert_array_equal(trace.mean_log_likelihood, -np.arange(n_records))
    np.testing.assert_array_equal(trace.mean_shift[1:], np.ones(last))


def test_up_to_the_cap_every_iteration_is_a_snapshot():
    trace = recorded(MAX_SNAPSHOTS, max_snapshots=MAX_SNAPSHOTS)
    np.testing.assert_array_equal(trace.iterations, np.arange(MAX_SNAPSHOTS))


@pytest.mark.slow
def test_two_hundred_thousand_iterations_keep_a_bounded_trace():
    X = np.random.default_rng(0).normal(size=(20, 2))
    model = GMM(k=2, max_iters=200_000, tol=0).fit(X)
    trace = model.trace_
    assert len(trace.iterations) <= MAX_SNAPSHOTS and trace.iterations[-1] == 200_000
    assert trace.n_iter == model.n_iter_ == 200_000
    assert trace.mean_log_likelihood.shape == (200_001,)
    assert np.all(np.isfinite(trace.mean_log_likelihood))
    np.testing.assert_array_equal(trace.means[-1], model.means_)
    # Snapshots: ~1,000 × (k + k·d + k·d² + k·m) numbers; scalars: 2 × 200,001 float64.
    assert trace.nbytes < 4_000_000
