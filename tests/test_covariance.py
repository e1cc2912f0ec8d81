"""Parameter counts per covariance type (gmm_core.covariance.n_parameters), as BIC uses."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.mixture import GaussianMixture

from gmm_core.covariance import n_parameters
from gmm_core.model import GMM
from gmm_core.request import COVARIANCE_TYPES


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
@pytest.mark.parametrize(("k", "d"), [(1, 1), (3, 2), (4, 5)])
def test_counts_agree_with_scikit_learn_and_the_fitted_model(covariance_type, k, d):
    X = np.random.default_rng(0).normal(size=(60, d))
    theirs = GaussianMixture(k, covariance_type=covariance_type, random_state=0).fit(X)
    ours = GMM(k=k, covariance_type=covariance_type).fit(X)
    assert n_parameters(covariance_type, k, d) == theirs._n_parameters()
    assert ours.n_parameters() == n_parameters(covariance_type, k, d)


def test_an_unknown_type_is_refused():
    with pytest.raises(ValueError, match="covariance_type must be one of"):
        n_parameters("round", 2, 2)
