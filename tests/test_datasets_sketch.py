"""Sketch presets: shapes, reproducibility, and the property each one states."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import adjusted_rand_score

from gmm_core import GMM
from gmm_core.datasets import DatasetError, load_dataset
from gmm_core.datasets.sketch import (
    ELONGATED_ANGLE,
    SKETCH_PRESETS,
    group_sizes,
    sketch_points,
    sketch_sample,
)
from gmm_core.selection import sweep

PRESETS = list(SKETCH_PRESETS)


def groups_of(preset: str, n_samples: int = 300, seed: int = 0) -> list[np.ndarray]:
    points, groups = sketch_sample(preset, n_samples, seed)
    return [points[groups == g] for g in np.unique(groups)]


@pytest.mark.parametrize("preset", PRESETS)
@pytest.mark.parametrize("n_samples", [20, 301])
def test_a_preset_is_n_points_in_two_dimensions(preset, n_samples):
    points = sketch_points(preset, n_samples)
    assert points.shape == (n_samples, 2) and points.dtype == np.float64
    assert np.isfinite(points).all()
    assert all(len(group) for group in groups_of(preset, n_samples))


@pytest.mark.parametrize("preset", PRESETS)
def test_a_preset_is_reproducible_per_seed_and_lies_in_the_common_frame(preset):
    first = sketch_points(preset, seed=3)
    np.testing.assert_array_equal(first, sketch_points(preset, seed=3))
    assert not np.array_equal(first, sketch_points(preset, seed=4))
    assert np.mean(np.abs(first).max(axis=1) <= 10) >= 0.95


@pytest.mark.parametrize("preset", PRESETS)
def test_a_preset_is_a_data_set_with_its_groups_as_known_labels(preset):
    dataset = load_dataset(f"sketch_{preset}", n_samples="120", seed="5")
    np.testing.assert_array_equal(dataset.matrix(["x", "y"]), sketch_points(preset, 120, 5))
    assert dataset.title == f"Sketch preset: {SKETCH_PRESETS[preset].title}"
    labels = dataset.known_labels["group"]
    assert labels.nunique() == len(groups_of(preset, 120, 5))


def test_group_sizes_are_the_shares_of_n_rounded():
    assert group_sizes([0.6, 0.3, 0.1], 300).tolist() == [180, 90, 30]
    assert group_sizes([1 / 3] * 3, 301).tolist() == [101, 100, 100]
    assert group_sizes([0.95, 0.05], 20).tolist() == [19, 1]


@pytest.mark.parametrize(("call", "message"), [
    (lambda: sketch_points("spiral"), "unknown sketch preset 'spiral'; choose one of separated"),
    (lambda: sketch_points("moons", 19), "n_samples must be 20 to 100,000; got 19"),
])
def test_bad_requests_are_refused_in_one_line(call, message):
    with pytest.raises(DatasetError, match=message):
        call()


# ------------------------------------------------------------------ stated properties
def test_separated_groups_are_ten_sds_apart_and_any_fit_finds_them():
    groups = groups_of("separated")
    centres = np.array([group.mean(axis=0) for group in groups])
    gaps = np.linalg.norm(centres[:, None] - centres[None], axis=-1)[np.triu_indices(3, 1)]
    assert gaps.min() > 9  # unit standard deviations, up to the sample means' error
    points, truth = sketch_sample("separated")
    assert adjusted_rand_score(truth, GMM(k=3).fit(points).predict(points)) == 1


def test_about_one_overlapping_point_in_ten_is_on_the_other_side():
    points, groups = sketch_sample("overlapping", 3000)
    other_side = (points[:, 0] > 0) != (groups == 1)
    # Φ(-1.25) = 0.106 per point; 3000 points put the fraction within ±0.017 (3 sd)
    assert 0.085 < other_side.mean() < 0.125


def test_elongated_cigars_are_parallel_and_round_components_cut_across():
    direction = np.array([np.cos(np.radians(ELONGATED_ANGLE)),
                          np.sin(np.radians(ELONGATED_ANGLE))])
    for group in groups_of("elongated"):
        variances, axes = np.linalg.eigh(np.cov(group, rowvar=False))
        assert np.sqrt(variances[1] / variances[0]) > 5  # 7 in the generating model
        assert abs(axes[:, 1] @ direction) > np.cos(np.radians(5))
    points, truth = sketch_sample("elongated")
    for seed in (0, 42):
        spherical = GMM(k=3, covariance_type="spherical", seed=seed).fit(points)
        assert adjusted_rand_score(truth, spherical.predict(points)) < 0.2
    started = np.array([group.mean(axis=0) for group in groups_of("elongated")])
    full = GMM(k=3, means_init=started).fit(points)
    assert adjusted_rand_score(truth, full.predict(points)) > 0.95


def test_unequal_groups_differ_in_size_and_spread():
    groups = groups_of("unequal")
    assert [len(group) for group in groups] == [180, 90, 30]
    spreads = [group.std(axis=0).mean() for group in groups]
    assert spreads[0] > 2 * spreads[1] > 4 * spreads[2]  # 2.5, 1 and 0.4 when drawn


def test_the_outlier_group_is_small_far_and_gets_its_own_component():
    main, far = groups_of("outlier")
    assert len(far) == 15
    distance = np.linalg.norm(far.mean(axis=0) - main.mean(axis=0))
    assert distance > 10 * main.std(axis=0).max()
    points, truth = sketch_sample("outlier")
    assert adjusted_rand_score(truth, GMM(k=2).fit(points).predict(points)) == 1


def test_the_nested_group_sits_inside_the_wide_one():
    wide, tight = groups_of("nested")
    wide_sd = wide.std(axis=0).mean()
    assert np.linalg.norm(tight.mean(axis=0) - wide.mean(axis=0)) < wide_sd
    assert wide_sd > 5 * tight.std(axis=0).mean()


def test_two_gaussians_do_not_fit_the_moons_and_bic_asks_for_more():
    points, moons = sketch_sample("moons")
    for seed in (0, 42):
        two = GMM(k=2, seed=seed).fit(points)
        assert adjusted_rand_score(moons, two.predict(points)) < 0.6
    best_k, _ = sweep(points, k_values=range(1, 9), covariance_types=("full",)).best("bic")
    assert best_k > 2
