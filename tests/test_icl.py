"""ICL: BIC plus twice the entropy of the hard classification (mclust's icl())."""

from __future__ import annotations

import numpy as np
import pytest

from gmm_core import GMM
from gmm_core.selection import sweep


def two_groups(gap: float, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.vstack([rng.normal(size=(150, 2)), rng.normal(size=(150, 2)) + np.array([gap, 0.0])])


def test_icl_is_bic_plus_twice_the_map_entropy():
    X = two_groups(2.0)
    model = GMM(k=2, covariance_type="VVV", seed=0).fit(X)
    map_probability = model.predict_proba(X).max(axis=1)
    assert model.icl(X) == pytest.approx(model.bic(X) - 2 * np.log(map_probability).sum(),
                                         rel=1e-12)


def test_icl_penalizes_overlap():
    apart = GMM(k=2, seed=0).fit(two_groups(30.0))
    overlapping = GMM(k=2, seed=0).fit(X := two_groups(1.5))
    assert apart.icl(two_groups(30.0)) == pytest.approx(apart.bic(two_groups(30.0)), abs=1e-6)
    assert overlapping.icl(X) - overlapping.bic(X) > 10


def test_sweep_tables_icl_beside_bic():
    X = two_groups(1.5)
    result = sweep(X, k_values=range(1, 4), covariance_types=("full", "EII", "VEV"),
                   n_jobs=1)
    row = result.table.query("k == 2 and covariance_type == 'VEV'").iloc[0]
    model = GMM(k=2, covariance_type="VEV", tol=1e-3, init="kmeans", seed=42,
                trace_points=1).fit(X)
    assert row["icl"] == pytest.approx(model.icl(X), rel=1e-9)
    assert row["bic"] == pytest.approx(model.bic(X), rel=1e-9)
    # ICL asks for well-separated clusters: on two overlapping groups it stops at one.
    assert result.best("icl")[0] == 1
    assert list(result.by_type("icl").columns) == ["full", "EII", "VEV"]
