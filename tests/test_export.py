"""Exports: the CSV of labels and responsibilities, and JSON parameters that round-trip."""

from __future__ import annotations

import dataclasses
import io
import json

import numpy as np
import pandas as pd
import pytest
from scipy.stats import multivariate_normal

from gmm_core import GMM, FitRequest
from gmm_core.covariance import structure_for
from gmm_core.datasets.preprocessing import preprocess
from gmm_core.export import (
    FORMAT,
    csv_text,
    labels_csv,
    parameters_json,
    read_parameters_json,
)

COVARIANCE_TYPES = ["full", "tied", "diag", "spherical"]


@pytest.fixture(scope="module")
def X():
    rng = np.random.default_rng(3)
    return np.vstack([rng.normal(c, 1.0, size=(80, 2)) for c in [(0, 0), (5, 1), (2, 6)]])


@pytest.fixture(scope="module")
def fitted(X):
    return GMM(k=3, seed=1).fit(X)


def read_csv(text: str) -> pd.DataFrame:
    return pd.read_csv(io.StringIO(text))


def predictions_from_json(document: dict, X: np.ndarray) -> np.ndarray:
    """Labels rebuilt from the JSON alone, with scipy's densities."""
    k, d = document["n_components"], document["n_features"]
    structure = structure_for(document["covariance_type"], k, d)
    covariances = structure.to_full(np.array(document["covariances"]))
    log_weighted = np.column_stack([
        np.log(weight) + multivariate_normal(mean, cov).logpdf(X)
        for weight, mean, cov in zip(document["weights"], document["means"], covariances,
                                     strict=True)])
    return log_weighted.argmax(axis=1)


def test_labels_csv_from_a_frame_keeps_feature_names_and_values(X, fitted):
    frame = pd.DataFrame(X, columns=["u - g", "g - r"], index=np.arange(100, 100 + len(X)))
    resp, labels = fitted.predict_proba(X), fitted.predict(X)
    table = read_csv(labels_csv(frame, resp, labels))
    assert list(table.columns) == ["u - g", "g - r", "label", "responsibility_0",
                                   "responsibility_1", "responsibility_2"]
    np.testing.assert_array_equal(table[["u - g", "g - r"]].to_numpy(), X)
    np.testing.assert_array_equal(table["label"].to_numpy(), labels)
    np.testing.assert_array_equal(table.iloc[:, 3:].to_numpy(), resp)


def test_labels_csv_from_an_array_names_columns(X, fitted):
    table = read_csv(labels_csv(X, fitted.predict_proba(X), fitted.predict(X)))
    assert list(table.columns[:3]) == ["x0", "x1", "label"]


def test_labels_csv_prefixes_added_columns_that_clash_with_features(X, fitted):
    frame = pd.DataFrame(X, columns=["label", "y"])
    table = read_csv(labels_csv(frame, fitted.predict_proba(X), fitted.predict(X)))
    assert list(table.columns) == ["label", "y", "gmm_label", "gmm_responsibility_0",
                                   "gmm_responsibility_1", "gmm_responsibility_2"]


def test_labels_csv_numbers_the_rows_first_when_given_them(X, fitted):
    rows = np.arange(1, 2 * len(X) + 1, 2)
    table = read_csv(labels_csv(X, fitted.predict_proba(X), fitted.predict(X), rows=rows))
    assert list(table.columns[:4]) == ["row", "x0", "x1", "label"]
    np.testing.assert_array_equal(table["row"], rows)
    with pytest.raises(ValueError, match="rows must have shape"):
        labels_csv(X, fitted.predict_proba(X), fitted.predict(X), rows=rows[:-1])


def test_labels_csv_prefixes_the_row_number_too_when_a_feature_is_called_row(X, fitted):
    frame = pd.DataFrame(X, columns=["row", "y"])
    table = read_csv(labels_csv(frame, fitted.predict_proba(X), fitted.predict(X),
                                rows=np.arange(1, len(X) + 1)))
    assert list(table.columns[:4]) == ["gmm_row", "row", "y", "gmm_label"]


def test_csv_text_puts_a_quote_before_text_a_spreadsheet_would_run():
    frame = pd.DataFrame({"=1+2": [-1.5, 2.0, 3.0, 4.0, 5.0, 6.0],
                          "@SUM(A1)": [1, -2, 3, 4, 5, 6],
                          "note": ["=HYPERLINK(\"x\")", "+1", "-cmd", "@x", "\tab", "plain"],
                          "+": [True, False, True, True, False, True]})
    table = read_csv(csv_text(frame))
    assert list(table.columns) == ["'=1+2", "'@SUM(A1)", "note", "'+"]
    assert table["'=1+2"].tolist() == [-1.5, 2.0, 3.0, 4.0, 5.0, 6.0]  # numbers stay numbers
    assert table["'@SUM(A1)"].tolist() == [1, -2, 3, 4, 5, 6]
    assert table["note"].tolist() == ["'=HYPERLINK(\"x\")", "'+1", "'-cmd", "'@x", "'\tab",
                                      "plain"]
    assert (frame.columns[0], frame["note"][1]) == ("=1+2", "+1")  # the caller's, untouched
    assert csv_text(pd.DataFrame({"a": ["\rx"]})) == "a\n'\rx\n"


def test_labels_csv_refuses_mismatched_lengths(X, fitted):
    with pytest.raises(ValueError, match=r"responsibilities must have shape \(240, k\)"):
        labels_csv(X, fitted.predict_proba(X)[:10], fitted.predict(X))
    with pytest.raises(ValueError, match=r"labels must have shape \(240,\)"):
        labels_csv(X, fitted.predict_proba(X), fitted.predict(X)[:-1])


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_parameters_json_round_trips_to_the_same_predictions(X, covariance_type):
    model = GMM(k=3, covariance_type=covariance_type, seed=2).fit(X)
    document = json.loads(parameters_json(model, X=X))
    np.testing.assert_array_equal(predictions_from_json(document, X), model.predict(X))
    assert np.array(document["covariances"]).shape == np.shape(model.covariances_)
    assert document["covariance_type"] == covariance_type
    assert document["n_iter"] == model.n_iter_
    assert document["converged"] is True
    assert document["bic"] == model.bic(X) and document["aic"] == model.aic(X)
    assert document["mean_log_likelihood"] == pytest.approx(model.score(X), rel=1e-12)


def test_parameters_json_keeps_every_digit(X, fitted):
    document = json.loads(parameters_json(fitted))

    def one_step_from(weights, means, covariances):
        return GMM(k=3, weights_init=weights, means_init=means, covariances_init=covariances,
                   tol=0.0, max_iters=1).fit(X)

    from_json = one_step_from(document["weights"], document["means"], document["covariances"])
    from_model = one_step_from(fitted.weights_, fitted.means_, fitted.covariances_)
    np.testing.assert_array_equal(from_json.means_, from_model.means_)
    np.testing.assert_array_equal(from_json.covariances_, from_model.covariances_)


def test_parameters_json_reads_back_with_its_request_and_standardization(X):
    raw = X * [250.0, 0.02] + [4e3, -1.5]  # units far from the fitted ones
    standardized, preprocessing = preprocess(raw, "standardize", ["u", "v"])
    model = GMM(k=3, covariance_type="diag", seed=1).fit(standardized)
    request = FitRequest(dataset="upload", features=("u", "v"), k=3, seed=1,
                         covariance_type="diag", standardize=True,
                         dataset_params=(("digest", "0f1e"),))
    read = read_parameters_json(parameters_json(model, request, preprocessing,
                                                X=standardized))
    assert read.request == request
    assert read.preprocessing == preprocessing  # every digit of every mean and scale
    np.testing.assert_array_equal(read.preprocessing.apply(raw), standardized)
    np.testing.assert_array_equal(
        predictions_from_json(read.document, read.preprocessing.apply(raw)),
        model.predict(standardized))
    # Back in the data's units the mixture is the same density, rescaled: its mean
    # log-likelihood drops by the log-Jacobian, sum(log scale).
    full = structure_for("diag", 3, 2).to_full(read.covariances)
    in_data_units = [multivariate_normal(mean, cov).logpdf(raw) for mean, cov in zip(
        read.preprocessing.inverse_means(read.means),
        read.preprocessing.inverse_covariances(full), strict=True)]
    log_density = np.logaddexp.reduce(np.log(read.weights)[:, None] + in_data_units, axis=0)
    assert log_density.mean() == pytest.approx(
        model.score(standardized) - np.log(preprocessing.scale).sum(), rel=1e-12)


def test_gmm_starts_from_parameters_read_back(X, fitted):
    read = read_parameters_json(parameters_json(fitted))
    assert read.preprocessing is None and read.request is None
    restarted = GMM(**read.gmm_init(), tol=0.0, max_iters=1).fit(X)
    continued = GMM(k=3, weights_init=fitted.weights_, means_init=fitted.means_,
                    covariances_init=fitted.covariances_, tol=0.0, max_iters=1).fit(X)
    np.testing.assert_array_equal(restarted.means_, continued.means_)


@pytest.mark.parametrize(("text", "message"), [
    ("{", "not JSON"),
    ('{"format": "something else"}', f"not a {FORMAT} file"),
    (f'{{"format": "{FORMAT}", "version": 99}}', "version 99; this reads version 1"),
])
def test_read_parameters_json_refuses_other_files(text, message):
    with pytest.raises(ValueError, match=message):
        read_parameters_json(text)


@pytest.mark.parametrize("covariance_type", ["tied", "spherical"])
def test_parameters_json_from_a_trace_matches_the_model(X, covariance_type):
    model = GMM(k=3, covariance_type=covariance_type, seed=2).fit(X)
    from_trace = json.loads(parameters_json(model.trace_))
    from_model = json.loads(parameters_json(model))
    for key in ("weights", "means", "covariances"):
        np.testing.assert_allclose(from_trace[key], from_model[key], rtol=1e-12)
    np.testing.assert_array_equal(predictions_from_json(from_trace, X), model.predict(X))


def test_parameters_json_writes_an_infinite_log_likelihood_as_null(fitted):
    broken = dataclasses.replace(fitted.trace_, mean_log_likelihood=np.full(
        len(fitted.trace_.weights), -np.inf))
    assert json.loads(parameters_json(broken))["log_likelihood"] is None


def test_parameters_json_refuses_other_objects(X, fitted):
    with pytest.raises(TypeError, match="expected a fitted GMM or a FitTrace"):
        parameters_json({"weights": [1.0]})
    with pytest.raises(RuntimeError, match="not fitted yet"):
        parameters_json(GMM(k=2))
    with pytest.raises(ValueError, match="a trace cannot score data"):
        parameters_json(fitted.trace_, X=X)
