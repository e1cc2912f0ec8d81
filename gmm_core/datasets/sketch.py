"""Sketch presets: the point sets a teacher reaches for, each showing one thing.

``sketch_points(preset, n_samples, seed)`` is the pure function a sketch starts from (an
``(n_samples, 2)`` array); ``load_sketch`` wraps it as a data set, with the group each
point was drawn from as its known labels. Every preset lives in the same frame, roughly
-10 to 10 on both axes, so points added by hand land on the same scale.

Group sizes are fixed fractions of ``n_samples`` (not drawn at random), so a preset keeps
its stated shape, a small outlier group say, at every size and seed.

One preset has a single feature (``load_bumps``): two bumps on a line, the classic first
lesson in mixtures, which the Explore page draws as a histogram under the fitted densities.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.datasets import make_moons

from gmm_core.datasets.base import Dataset, DatasetError
from gmm_core.datasets.builtin import XY_FEATURES
from gmm_core.wording import counted

SAMPLES_RANGE = (20, 100_000)
DEFAULT_SAMPLES = 300


@dataclass(frozen=True)
class GaussianGroup:
    """One group of a preset: its share of the points, centre and covariance."""

    weight: float
    mean: tuple[float, float]
    covariance: tuple[tuple[float, float], tuple[float, float]]


def _round(sd: float) -> tuple[tuple[float, float], tuple[float, float]]:
    return ((sd**2, 0.0), (0.0, sd**2))


def _cigar(length_sd: float, width_sd: float, degrees: float):
    """A covariance ``length_sd`` along the direction ``degrees`` from the x axis."""
    angle = np.radians(degrees)
    rotation = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    covariance = rotation @ np.diag([length_sd**2, width_sd**2]) @ rotation.T
    return tuple(map(tuple, covariance.tolist()))


ELONGATED_ANGLE = 30.0  # degrees: the cigars' common direction
ELONGATED_SPACING = 3.0  # between neighbouring cigars, across their length
ELONGATED_COVARIANCE = _cigar(3.5, 0.5, ELONGATED_ANGLE)
_ACROSS = np.array([-np.sin(np.radians(ELONGATED_ANGLE)), np.cos(np.radians(ELONGATED_ANGLE))])

GAUSSIAN_PRESETS: dict[str, tuple[GaussianGroup, ...]] = {
    "separated": tuple(GaussianGroup(1 / 3, centre, _round(1.0))
                       for centre in ((0.0, 6.0), (-5.2, -3.0), (5.2, -3.0))),
    "overlapping": (GaussianGroup(0.5, (-1.25, 0.0), _round(1.0)),
                    GaussianGroup(0.5, (1.25, 0.0), _round(1.0))),
    "elongated": tuple(
        GaussianGroup(1 / 3, tuple((offset * ELONGATED_SPACING * _ACROSS).tolist()),
                      ELONGATED_COVARIANCE)
        for offset in (-1, 0, 1)),
    "unequal": (GaussianGroup(0.6, (-3.0, -1.0), _round(2.5)),
                GaussianGroup(0.3, (4.0, 4.0), _round(1.0)),
                GaussianGroup(0.1, (5.0, -3.0), _round(0.4))),
    "outlier": (GaussianGroup(0.95, (-1.0, -1.0), _round(1.0)),
                GaussianGroup(0.05, (8.0, 8.0), _round(0.5))),
    "nested": (GaussianGroup(0.7, (0.0, 0.0), _round(4.0)),
               GaussianGroup(0.3, (1.0, 0.5), _round(0.5))),
}

MOONS_NOISE = 0.1
MOONS_SCALE = 4.0  # make_moons spans about 3 x 1.5; this brings it to the common frame


def group_sizes(weights, n_samples: int) -> np.ndarray:
    """Points per group: the weights' shares of ``n_samples``, rounded, any remainder
    given to the largest group."""
    sizes = np.round(np.asarray(weights) * n_samples).astype(int)
    sizes[np.argmax(weights)] += n_samples - sizes.sum()
    return sizes


def _gaussian_sample(groups: tuple[GaussianGroup, ...], n_samples: int,
                     rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    sizes = group_sizes([group.weight for group in groups], n_samples)
    points = np.concatenate([rng.multivariate_normal(group.mean, group.covariance, size)
                             for group, size in zip(groups, sizes, strict=True)])
    return points, np.repeat(np.arange(len(groups)), sizes)


def _moons_sample(n_samples: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    points, labels = make_moons(n_samples, noise=MOONS_NOISE,
                                random_state=int(rng.integers(2**31)))
    return (points - (0.5, 0.25)) * MOONS_SCALE, labels


@dataclass(frozen=True)
class SketchPreset:
    name: str
    title: str
    description: str  # one line: what it shows
    sample: Callable[[int, np.random.Generator], tuple[np.ndarray, np.ndarray]]


def _gaussian_preset(name: str, title: str, description: str) -> SketchPreset:
    groups = GAUSSIAN_PRESETS[name]
    return SketchPreset(name, title, description,
                        lambda n, rng: _gaussian_sample(groups, n, rng))


SKETCH_PRESETS: dict[str, SketchPreset] = {preset.name: preset for preset in (
    _gaussian_preset("separated", "well separated",
                     "three round groups far apart: the easy case"),
    _gaussian_preset("overlapping", "overlapping",
                     "two round groups 2.5 σ apart: about one point in ten sits on the "
                     "other group's side"),
    _gaussian_preset("elongated", "elongated",
                     "three parallel cigars, 7 times longer than wide: round components "
                     "cut across them, full ones follow them from a good start"),
    _gaussian_preset("unequal", "unequal sizes and spreads",
                     "a wide group with 60% of the points, a medium one with 30%, a tight "
                     "one with 10%"),
    _gaussian_preset("outlier", "a far outlier group",
                     "a main group and 5% of the points far away, in a component of "
                     "their own at k = 2"),
    _gaussian_preset("nested", "nested",
                     "a tight group inside a wide one: two Gaussians with nearly the same "
                     "centre"),
    SketchPreset("moons", "two moons",
                 "two interleaved half circles (scikit-learn's make_moons): no mixture of "
                 "two Gaussians fits them", _moons_sample),
)}


def _check(preset: str, n_samples: int) -> SketchPreset:
    if preset not in SKETCH_PRESETS:
        raise DatasetError(f"unknown sketch preset {preset!r}; choose one of "
                           f"{', '.join(SKETCH_PRESETS)}")
    low, high = SAMPLES_RANGE
    if not low <= n_samples <= high:
        raise DatasetError(f"n_samples must be {low} to {high:,}; got {n_samples}")
    return SKETCH_PRESETS[preset]


def sketch_sample(preset: str, n_samples: int = DEFAULT_SAMPLES,
                  seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """The preset's points ``(n_samples, 2)`` and the group each was drawn from."""
    return _check(preset, n_samples).sample(n_samples, np.random.default_rng(seed))


def sketch_points(preset: str, n_samples: int = DEFAULT_SAMPLES, seed: int = 0) -> np.ndarray:
    """The preset's points, ``(n_samples, 2)``: the same for the same arguments."""
    return sketch_sample(preset, n_samples, seed)[0]


def load_sketch(preset: str, n_samples: int = DEFAULT_SAMPLES, seed: int = 0) -> Dataset:
    points, groups = sketch_sample(preset, n_samples, seed)
    info = SKETCH_PRESETS[preset]
    return Dataset(
        name=f"sketch_{preset}",
        title=f"Sketch preset: {info.title}",
        frame=pd.DataFrame(points, columns=list(XY_FEATURES)),
        features=dict(XY_FEATURES),
        default_view=("x", "y"),
        citation=f"synthetic sketch preset: {info.description}",
        known_labels={"group": pd.Series([f"group {group + 1}" for group in groups])},
    )


# ---------------------------------------------------------------- one feature
BUMPS = "bumps"  # the one-feature preset; its data set is "sketch_bumps"
# (weight, mean, standard deviation): a tall narrow bump and a low wide one that overlap.
BUMP_GROUPS = ((0.6, -2.5, 1.0), (0.4, 3.0, 1.5))
BUMPS_TITLE = "two bumps (one feature)"
BUMPS_DESCRIPTION = ("one feature: a narrow bump with 60% of the points and a wide one with "
                     "40%, overlapping: a histogram and two Gaussians, the classic first "
                     "lesson")


def bumps_sample(n_samples: int = DEFAULT_SAMPLES,
                 seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """The two bumps' values ``(n_samples,)`` and the bump each was drawn from."""
    low, high = SAMPLES_RANGE
    if not low <= n_samples <= high:
        raise DatasetError(f"n_samples must be {low} to {high:,}; got {n_samples}")
    rng = np.random.default_rng(seed)
    sizes = group_sizes([weight for weight, _, _ in BUMP_GROUPS], n_samples)
    values = np.concatenate([rng.normal(mean, sd, size)
                             for (_, mean, sd), size in zip(BUMP_GROUPS, sizes, strict=True)])
    return values, np.repeat(np.arange(len(BUMP_GROUPS)), sizes)


def load_bumps(n_samples: int = DEFAULT_SAMPLES, seed: int = 0) -> Dataset:
    values, groups = bumps_sample(n_samples, seed)
    return Dataset(
        name=f"sketch_{BUMPS}",
        title=f"Sketch preset: {BUMPS_TITLE}",
        frame=pd.DataFrame({"x": values}),
        features={"x": XY_FEATURES["x"]},
        default_view=("x",),
        citation=f"synthetic sketch preset: {BUMPS_DESCRIPTION}",
        known_labels={"group": pd.Series([f"group {group + 1}" for group in groups])},
    )


# ---------------------------------------------------------------- a sketch drawn by hand
SKETCH = "sketch"  # the data set drawn by hand, named in a request and the URL
SKETCH_LIMIT = 5_000  # points one sketch may hold: it travels with every fit request


def sketch_params(points) -> tuple:
    """The ``dataset_params`` that name a sketch: its points, as plain tuples."""
    return (("points", tuple((float(x), float(y)) for x, y in points)),)


def sketch_dataset(points) -> Dataset:
    """Points drawn by hand (``(n, 2)``) as a data set with features x and y."""
    points = np.asarray(points, dtype=float).reshape(-1, 2)
    if len(points) > SKETCH_LIMIT:
        raise DatasetError(f"a sketch holds at most {SKETCH_LIMIT:,} points; this one has "
                           f"{len(points):,}")
    return Dataset(
        name=SKETCH,
        title=f"Sketch ({counted(len(points), 'point')})",
        frame=pd.DataFrame(points, columns=list(XY_FEATURES)),
        features=dict(XY_FEATURES),
        default_view=("x", "y"),
        citation="points drawn by hand on the Explore page",
    )


def points_around(centre, count: int, spread: float, rng: np.random.Generator) -> np.ndarray:
    """``count`` points from a round Gaussian of standard deviation ``spread``."""
    return rng.normal(np.asarray(centre, dtype=float), float(spread), size=(int(count), 2))


def points_in_box(x_range, y_range, count: int, rng: np.random.Generator) -> np.ndarray:
    """``count`` points spread evenly over a rectangle."""
    low = np.array([min(x_range), min(y_range)], dtype=float)
    high = np.array([max(x_range), max(y_range)], dtype=float)
    return rng.uniform(low, high, size=(int(count), 2))


def inside_polygon(points: np.ndarray, vertices: np.ndarray) -> np.ndarray:
    """Which points lie inside the polygon ``vertices`` ``(m, 2)`` (even-odd rule)."""
    x, y = points[:, :1], points[:, 1:]
    x0, y0 = vertices[:, 0], vertices[:, 1]
    x1, y1 = np.roll(x0, -1), np.roll(y0, -1)
    crosses = (y0 > y) != (y1 > y)
    with np.errstate(divide="ignore", invalid="ignore"):
        at = x0 + (y - y0) * (x1 - x0) / (y1 - y0)
    return np.count_nonzero(crosses & (x < at), axis=1) % 2 == 1


def points_in_polygon(vertices, count: int, rng: np.random.Generator) -> np.ndarray:
    """``count`` points spread evenly over a polygon (a lasso), by rejection from its
    bounding box; a polygon too thin to hit gets its vertices' mean."""
    vertices = np.asarray(vertices, dtype=float).reshape(-1, 2)
    kept = np.empty((0, 2))
    for _ in range(20):
        box = points_in_box(vertices[:, 0], vertices[:, 1], 4 * int(count), rng)
        kept = np.vstack([kept, box[inside_polygon(box, vertices)]])
        if len(kept) >= count:
            return kept[: int(count)]
    return np.vstack([kept, np.repeat(vertices.mean(axis=0)[None], int(count) - len(kept),
                                      axis=0)])
