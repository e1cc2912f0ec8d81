"""Property-based: any data, k, start and covariance type gives a finite fit, no crash."""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from gmm_core import GMM
from gmm_core.request import COVARIANCE_TYPES, INIT_METHODS

finite_values = st.floats(min_value=-1e4, max_value=1e4, allow_nan=False, allow_subnormal=False)


@st.composite
def fits(draw):
    n_features = draw(st.integers(1, 4))
    n_rows = draw(st.integers(2, 60))
    X = draw(arrays(np.float64, (n_rows, n_features), elements=finite_values))
    if draw(st.booleans()):
        # Many repeated rows, as in the SDSS blue bins.
        X[: n_rows // 2] = X[0]
    k = draw(st.integers(1, min(5, n_rows)))
    params = {
        "k": k,
        "covariance_type": draw(st.sampled_from(COVARIANCE_TYPES)),
        "init": draw(st.sampled_from(INIT_METHODS)),
        "convergence": draw(st.sampled_from(["loglik", "means"])),
        "on_degenerate": draw(st.sampled_from(["regularize", "reinit"])),
        "seed": draw(st.integers(0, 2**31 - 1)),
        "max_iters": draw(st.integers(1, 30)),
    }
    return X, params


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(fits())
def test_any_fit_is_finite(case):
    X, params = case
    model = GMM(**params).fit(X)
    for value in (model.weights_, model.means_, model.covariances_,
                  model.trace_.mean_log_likelihood, model.trace_.responsibilities):
        assert np.all(np.isfinite(value))
    assert np.isclose(model.weights_.sum(), 1.0)
    proba = model.predict_proba(X)
    assert np.all(np.isfinite(proba))
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-9)
    assert np.isfinite(model.bic(X))
