"""Singular fits (gmm_core.singular): flagged, never chosen by a sweep, not kept by restarts."""

from __future__ import annotations

import numpy as np
import pytest

from gmm_core import GMM
from gmm_core import model as model_module
from gmm_core.datasets.builtin import load_astroml_fig69
from gmm_core.selection import sweep
from gmm_core.singular import singular_components
from gmm_core.trace import SINGULAR

SEEDS = range(4)
INITS = ("kmeans++", "kmeans", "random_from_data")


def figure_6_9_sample(seed: int) -> np.ndarray:
    """100 points of the Figure 6.9 mixture: few enough that large k over-fits."""
    return load_astroml_fig69(n_samples=100, seed=seed).frame.to_numpy()[:, :2]


@pytest.fixture(scope="module")
def small_sample_sweeps():
    return {(seed, init): sweep(figure_6_9_sample(seed), range(1, 8), ["full"], n_init=3,
                                seed=0, max_iters=500, init=init)
            for seed in SEEDS for init in INITS}


def test_the_best_model_of_a_small_sample_is_never_singular(small_sample_sweeps):
    singular_cells = 0
    for result in small_sample_sweeps.values():
        table = result.table.set_index(["k", "covariance_type"])
        for criterion in ("bic", "aic"):
            assert table.loc[result.best(criterion), "singular"] == ""
        singular_cells += int((table["singular"] != "").sum())
    # Large k on 100 points does produce singular fits: the rule above was exercised.
    assert singular_cells > 0


def test_a_singular_cell_is_a_fit_with_a_singular_component(small_sample_sweeps):
    (seed, _), result = next((key, result) for key, result in small_sample_sweeps.items()
                                if (result.table["singular"] != "").any())
    row = result.table[result.table["singular"] != ""].iloc[0]
    model = result.settings.model(int(row["k"]), row["covariance_type"])
    model.fit(figure_6_9_sample(seed))
    assert model.singular_
    assert row["singular"].startswith(f"component {min(model.singular_)}: ")
    events = {(e.kind, e.component) for e in model.trace_.events}
    assert {(SINGULAR, component) for component in model.singular_} <= events


def test_a_component_on_one_point_is_singular_and_the_fit_says_why():
    rng = np.random.default_rng(0)
    X = np.vstack([rng.normal(0, 1, (60, 2)), rng.normal(8, 1, (60, 2)), [[30.0, -30.0]]])
    means = np.array([[0.0, 0.0], [8.0, 8.0], [30.0, -30.0]])
    model = GMM(k=3, means_init=means, max_iters=50).fit(X)
    assert set(model.singular_) == {2}
    assert "points' worth of weight" in model.singular_[2]
    assert [e.component for e in model.trace_.events if e.kind == SINGULAR] == [2]
    sound = GMM(k=2, means_init=means[:2], max_iters=50).fit(X[:-1])
    assert sound.singular_ == {}


def test_a_flat_covariance_is_singular_however_many_points_it_holds():
    spread = np.array([1.0, 2.0])
    line = np.array([[[1.0, 2.0], [2.0, 4.0]]])  # all its points on a line
    plane = np.array([[[1.0, 0.5], [0.5, 4.0]]])
    for covariances, expected in ((line, {0}), (plane, set())):
        regularized = covariances + 1e-6 * np.eye(2)
        found = singular_components("full", np.ones(1), regularized, np.array([1e-6]),
                                    100, spread)
        assert set(found) == expected
    assert "flat" in singular_components("full", np.ones(1), line, np.zeros(1), 100,
                                         spread)[0]


def test_a_feature_of_vanishing_spread_is_read_without_overflow():
    """A spread of 3.6e-161 (Hypothesis found it) made the scaled covariance overflow."""
    spread = np.array([3.0, 3.6e-161])
    wide = np.array([[[9.0, 0.0], [0.0, 9.0]]])  # a spherical component: not flat
    thin = np.array([[[9.0, 0.0], [0.0, 1e-321]]])  # nothing along the second feature
    with np.errstate(all="raise"):
        assert singular_components("EII", np.ones(1), wide, np.zeros(1), 100, spread) == {}
        assert set(singular_components("VVV", np.ones(1), thin, np.zeros(1), 100,
                                       spread)) == {0}
    scaled = singular_components("full", np.ones(1), thin * 1e-300, np.zeros(1), 100,
                                 spread * 1e-150)  # both spreads small, one measurable
    assert set(scaled) == {0}


def test_a_covariance_wide_along_a_feature_the_data_hardly_spread_is_not_flat():
    # A constant column's standard deviation is rounding (1e-162 here): in its units an
    # EII covariance as wide as along the other feature overflows float64 (Hypothesis
    # found this; RuntimeWarnings from gmm_core are errors in the tests).
    value = 1.2974997817770777e-146
    X = np.array([[1.0, value]] + [[value, value]] * 5)
    assert 0 < X.std(axis=0)[1] < 1e-160
    spread = X.std(axis=0)
    wide = np.array([[[0.07, 0.0], [0.0, 0.07]]])
    assert singular_components("EII", np.ones(1), wide, np.array([1e-6]), 6, spread) == {}
    assert singular_components("EII", np.ones(1), wide - 0.07 * np.eye(2), np.zeros(1), 6,
                               spread) != {}


def test_restarts_keep_a_sound_fit_over_a_singular_one_of_higher_likelihood(monkeypatch):
    runs = []
    run = model_module.EMRun.run

    def recorded(self, *args, **kwargs):
        runs.append(run(self, *args, **kwargs))
        return runs[-1]

    monkeypatch.setattr(model_module.EMRun, "run", recorded)
    model = GMM(k=5, tol=1e-3, max_iters=500, init="kmeans++", seed=0, n_init=3,
                trace_points=1).fit(figure_6_9_sample(0))
    assert model.singular_ == {}
    sound = [r.lower_bound for r in runs if not r.singular]
    assert model.lower_bound_ == max(sound)
    assert any(r.singular and r.lower_bound > model.lower_bound_ for r in runs)
