"""Given starts (weights_init, means_init, covariances_init) are checked as scikit-learn
checks them, before anything is computed from them, with messages saying what is wrong."""

from __future__ import annotations

import numpy as np
import pytest

from gmm_core import GMM


@pytest.fixture(scope="module")
def two_blobs():
    rng = np.random.default_rng(3)
    return np.vstack([rng.normal((0, 0), 1.0, size=(60, 2)),
                      rng.normal((6, 6), 1.0, size=(60, 2))])


GOOD = {"weights_init": [0.5, 0.5], "means_init": [[0.0, 0.0], [6.0, 6.0]]}
INDEFINITE = [[[1.0, 2.0], [2.0, 1.0]], np.eye(2)]  # eigenvalues 3 and -1


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ({"weights_init": [1.5, -0.5]}, r"weights_init must lie in \[0, 1\]; weight 0 is 1\.5"),
        ({"weights_init": [0.5, -0.5]}, r"weight 1 is -0\.5"),
        ({"weights_init": [0.5, 0.4]}, r"weights_init must sum to 1; got sum 0\.9 "),
        ({"weights_init": [[0.5], [0.5]]}, r"weights_init must have shape \(2,\)"),
        ({"weights_init": [np.nan, 0.5]}, "weights_init contains NaN or infinite values"),
        ({"means_init": [[0.0, np.inf], [1.0, 1.0]]},
         r"means_init contains NaN or infinite values \(first at index \(0, 1\)\)"),
        ({"means_init": [[0.0, 0.0]]}, r"means_init must have shape \(2, 2\)"),
        ({"means_init": [["a", "b"], ["c", "d"]]}, "means_init must be numeric"),
        ({"covariances_init": INDEFINITE},
         r"covariances_init\[0\] must be positive definite; its smallest eigenvalue is -1"),
        ({"covariances_init": [[[1.0, 0.5], [0.0, 1.0]], np.eye(2)]},
         r"covariances_init\[0\] must be symmetric"),
        ({"covariances_init": [[[1e308, 0.0], [0.0, -1e308]], np.eye(2)]},
         r"smallest eigenvalue is -1e\+308"),
        ({"covariances_init": np.zeros((2, 2, 2))}, "smallest eigenvalue is 0"),
    ],
)
def test_a_bad_given_start_is_refused_naming_what_is_wrong(two_blobs, given, message):
    with pytest.raises(ValueError, match=message):
        GMM(k=2, **given).fit(two_blobs)


@pytest.mark.parametrize(
    ("covariance_type", "covariances", "message"),
    [
        ("tied", [[1.0, 2.0], [2.0, 1.0]], "covariances_init must be positive definite"),
        ("diag", [[1.0, 1.0], [1.0, 0.0]], r"covariances_init must be positive; "
                                            r"covariances_init\[1, 1\] is 0"),
        ("spherical", [1.0, -2.0], r"covariances_init\[1\] is -2"),
        ("spherical", np.ones((2, 2)), r"covariances_init must have shape \(2,\) "
                                       r"\(one variance per component\)"),
    ],
)
def test_each_covariance_type_checks_its_own_shape_and_sign(two_blobs, covariance_type,
                                                             covariances, message):
    with pytest.raises(ValueError, match=message):
        GMM(k=2, covariance_type=covariance_type, covariances_init=covariances).fit(two_blobs)


def test_a_zero_weight_is_allowed_as_scikit_learn_allows_it(two_blobs):
    model = GMM(k=2, weights_init=[1.0, 0.0], means_init=GOOD["means_init"],
                covariances_init=[np.eye(2), np.eye(2)], max_iters=5).fit(two_blobs)
    assert np.all(np.isfinite(model.weights_)) and np.isfinite(model.lower_bound_)


def test_given_values_are_used_exactly(two_blobs):
    covariances = [np.eye(2) * 2.0, np.eye(2) * 3.0]
    model = GMM(k=2, covariances_init=covariances, max_iters=1, tol=0.0, **GOOD).fit(two_blobs)
    start = model.trace_
    np.testing.assert_array_equal(start.weights[0], GOOD["weights_init"])
    np.testing.assert_array_equal(start.means[0], GOOD["means_init"])
    np.testing.assert_array_equal(start.covariances[0], covariances)
