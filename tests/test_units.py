"""Units: the same data in other units give the same fit; values float64 cannot hold give
one ValueError; reg_covar that swamps a feature's variance is said, with the fix."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from gmm_core import GMM
from gmm_core.datasets.base import DatasetError
from gmm_core.datasets.preprocessing import preprocess
from gmm_core.request import COVARIANCE_TYPES
from gmm_core.scaling import SAFE_SPREAD, RegularizationWarning

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def blobs():
    rng = np.random.default_rng(0)
    return np.vstack([rng.normal(c, 1.0, (50, 2)) for c in [(0, 0), (6, 0), (0, 6)]])


def no_warnings(fit):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = fit()
    assert [str(w.message) for w in caught] == []
    return result


# Units far below and above 1, inside and outside the range fitted without scaling.
UNITS = [1e-150, 2.0**-80, 1e-17, 1e17, 2.0**80, 1e150]


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
@pytest.mark.parametrize("unit", UNITS)
def test_relative_regularization_gives_the_same_fit_in_any_units(blobs, covariance_type, unit):
    settings = dict(k=3, covariance_type=covariance_type, regularization="relative")
    reference = GMM(**settings).fit(blobs)
    scaled = no_warnings(lambda: GMM(**settings).fit(blobs * unit))
    np.testing.assert_array_equal(scaled.predict(blobs * unit), reference.predict(blobs))
    # Means scale by the unit, covariances by its square; the log-likelihood, a density
    # per unit area in 2-D, moves by -2 log(unit). The fits agree to the rounding of a
    # well-conditioned EM (condition numbers here are below 10).
    np.testing.assert_allclose(scaled.means_ / unit, reference.means_, rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(np.asarray(scaled.covariances_) / unit**2,
                               reference.covariances_, rtol=1e-9)
    np.testing.assert_allclose(np.asarray(scaled.precisions_cholesky_) * unit,
                               reference.precisions_cholesky_, rtol=1e-9)
    assert scaled.lower_bound_ == pytest.approx(reference.lower_bound_ - 2 * np.log(unit),
                                                abs=1e-9)
    assert scaled.score(blobs * unit) == pytest.approx(
        reference.score(blobs) - 2 * np.log(unit), abs=1e-9)
    np.testing.assert_allclose(scaled.trace_.mean_log_likelihood,
                               reference.trace_.mean_log_likelihood - 2 * np.log(unit),
                               atol=1e-9)


def test_scaling_by_a_power_of_two_outside_the_safe_range_maps_back_exactly(blobs):
    """Out of SAFE_SPREAD the fit runs on the data divided by a power of two: with that
    same power of two as the unit, every parameter is the unit fit's, scaled exactly."""
    unit = 2.0**-90
    internal = 2.0 ** np.round(np.log2(blobs.std(axis=0)))
    assert np.all(blobs.std(axis=0) * unit < SAFE_SPREAD[0])
    reference = GMM(k=3, regularization="relative").fit(blobs / internal)
    scaled = GMM(k=3, regularization="relative").fit(blobs * unit)
    np.testing.assert_array_equal(scaled.means_, reference.means_ * internal * unit)
    np.testing.assert_array_equal(scaled.covariances_, reference.covariances_
                                  * np.outer(internal * unit, internal * unit))
    assert scaled.lower_bound_ == reference.lower_bound_ - np.log(internal * unit).sum()


def test_absolute_reg_covar_that_swamps_a_feature_warns_with_the_fix(blobs):
    with pytest.warns(RegularizationWarning,
                      match=r"reg_covar=1e-06 is \S+ times the variance of feature \d .*"
                            r"regularization='relative'"):
        swamped = GMM(k=3).fit(blobs * 1e-17)
    # What the warning is about: the three blobs become one.
    assert len(np.unique(swamped.predict(blobs * 1e-17))) < 3
    relative = no_warnings(lambda: GMM(k=3, regularization="relative").fit(blobs * 1e-17))
    assert len(np.unique(relative.predict(blobs * 1e-17))) == 3


def test_ordinary_units_do_not_warn(blobs):
    no_warnings(lambda: GMM(k=3).fit(blobs))


@pytest.mark.parametrize(("X", "message"), [
    ("blobs_1e200", r"feature 0 spreads over 3.03e\+200 .* variance, about 1e\+401, is "
                    r"beyond float64's largest number"),
    ("two_rows_1e308", r"feature 0 spreads over 8.16e\+307 .* about 1e\+616"),
    ("blobs_1e-200", r"feature 0 spreads over only 3.03e-200 .* variance, about 1e-399, is "
                     r"below float64's smallest normal number"),
])
def test_values_float64_cannot_fit_give_one_value_error_and_no_warning(blobs, X, message):
    data = {"blobs_1e200": blobs * 1e200, "blobs_1e-200": blobs * 1e-200,
            "two_rows_1e308": np.array([[1e308, 1e308], [-1e308, -1e308], [0.0, 0.0]])}[X]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(ValueError, match=message):
            GMM(k=2, regularization="relative").fit(data)
    assert caught == []


def test_tiny_values_fit_when_reg_covar_holds_their_covariances(blobs):
    """With an absolute reg_covar the fitted variances are at least reg_covar: values near
    1e-200 fit (reg_covar swamps them, and the warning says so), with finite parameters."""
    with pytest.warns(RegularizationWarning, match=r"is 1e\+393 times the variance"):
        model = GMM(k=3).fit(blobs * 1e-200)
    for value in (model.weights_, model.means_, model.covariances_,
                  model.precisions_cholesky_, model.lower_bound_):
        assert np.all(np.isfinite(value))


@pytest.mark.parametrize("far", [1e308, -1e308])
def test_a_start_too_far_for_float64_names_the_argument(blobs, far):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(ValueError, match=r"the start's component 1 lies 1e\+308 from the "
                                             r"data's mean.*Check means_init\."):
            GMM(k=2, means_init=[[0.0, 0.0], [far, 0.0]]).fit(blobs)
    assert caught == []


def test_standardize_refuses_overflow_and_never_calls_tiny_values_constant():
    with pytest.raises(DatasetError, match=r"a spreads over 1e\+308"):
        preprocess(np.array([[1e308], [-1e308]]), "standardize", ["a"])
    tiny = np.array([[1e-200, 3.0], [3e-200, 3.0], [2e-200, 3.0]])
    standardized, record = preprocess(tiny, "standardize", ["a", "b"])
    assert record.notes == ("b is constant; it was centred but not scaled",)
    np.testing.assert_allclose(standardized[:, 0], [-np.sqrt(1.5), np.sqrt(1.5), 0.0])


def run_cli(tmp_path, frame, *args):
    path = tmp_path / "rows.csv"
    frame.to_csv(path, index=False)
    return subprocess.run([sys.executable, "-m", "gmm_core", "fit", "--csv", str(path), *args],
                          cwd=REPO, capture_output=True, text=True, timeout=120)


def test_cli_says_when_reg_covar_swamps_a_column(tmp_path, blobs):
    done = run_cli(tmp_path, pd.DataFrame(blobs * 1e-17, columns=["a", "b"]), "--k", "3")
    assert done.returncode == 0
    warning, = done.stderr.splitlines()
    assert warning.startswith("warning: reg_covar=1e-06 is ")
    assert warning.endswith("use --standardize, a smaller --reg, or --regularization relative")
    relative = run_cli(tmp_path, pd.DataFrame(blobs * 1e-17, columns=["a", "b"]), "--k", "3",
                       "--regularization", "relative", "--json")
    assert relative.returncode == 0 and relative.stderr == ""
    assert sorted(json.loads(relative.stdout)["counts"]) == [50, 50, 50]


@pytest.mark.parametrize(("values", "extra", "message"), [
    (1e200, [], r"error: a spreads over 3.03e\+200 .* Divide it by a power of ten"),
    (1e308, ["--standardize"], r"error: a spreads over 8.16e\+307"),
])
def test_cli_refuses_values_float64_cannot_fit_in_one_line(tmp_path, blobs, values, extra,
                                                           message):
    frame = (pd.DataFrame(blobs * values, columns=["a", "b"]) if values != 1e308
             else pd.DataFrame({"a": [1e308, -1e308, 0.0], "b": [1.0, 2.0, 3.0]}))
    done = run_cli(tmp_path, frame, *extra)
    assert done.returncode == 2
    line, = done.stderr.splitlines()
    assert re.match(message, line), line


def test_cli_standardizes_tiny_values_without_calling_them_constant(tmp_path, blobs):
    done = run_cli(tmp_path, pd.DataFrame(blobs * 1e-200, columns=["a", "b"]), "--k", "3",
                   "--standardize", "--json")
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert not [note for note in result["notes"] if "constant" in note]
    assert sorted(result["counts"]) == [50, 50, 50]
