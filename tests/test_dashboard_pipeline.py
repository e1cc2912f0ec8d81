"""From a FitRequest to the page's numbers, without Streamlit (dashboard.pipeline, .status)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from spec4000_fixture import write_spec4000

import dashboard.pipeline
from dashboard.binary_payload import unpack
from dashboard.figures import MAX_POINTS, FigureOptions
from dashboard.pipeline import (
    animation_bytes,
    drawn_points,
    panels_bytes,
    prepare_data,
    run_comparison,
    run_fit,
)
from dashboard.status import event_lines, fits_side_by_side, status_line
from gmm_core import GMM, FitRequest
from gmm_core.datasets import Dataset, DatasetError, FeatureInfo, load_dataset


def small_dataset(values) -> Dataset:
    frame = pd.DataFrame(values, columns=["a", "b", "c"])
    return Dataset("small", "Small", frame, {n: FeatureInfo(n, n.upper(), "cm") for n in "abc"},
                   ("a", "b"))


def test_prepare_keeps_finite_rows_of_the_chosen_columns_and_says_so():
    dataset = small_dataset([[1.0, 2.0, np.nan], [np.nan, 1.0, 0.0], [3.0, 4.0, 5.0]])
    prepared = prepare_data(dataset, FitRequest(dataset="small", features=("a", "b")))
    np.testing.assert_array_equal(prepared.X, [[1.0, 2.0], [3.0, 4.0]])
    assert prepared.axis_titles == ("A [cm]", "B [cm]")
    assert prepared.notes == ("dropped 1 of 3 rows with NaN or infinite values in a, b",)


def test_prepare_standardizes_when_asked_and_labels_the_axes():
    dataset = small_dataset(np.random.default_rng(0).normal(5.0, 3.0, size=(50, 3)))
    prepared = prepare_data(dataset, FitRequest(features=("c", "a"), standardize=True))
    np.testing.assert_allclose(prepared.X.mean(axis=0), 0.0, atol=1e-12)
    np.testing.assert_allclose(prepared.X.std(axis=0), 1.0)
    assert prepared.axis_titles == ("C [cm] (standardized)", "A [cm] (standardized)")


@pytest.mark.parametrize(("features", "message"), [
    ((), "choose a feature"),
    (("a", "a"), "listed twice"),
    (("a", "zz"), "unknown column"),
])
def test_prepare_refuses_bad_feature_choices_with_one_line(features, message):
    with pytest.raises(DatasetError, match=message):
        prepare_data(small_dataset(np.ones((3, 3))), FitRequest(features=features))


def test_the_notebook_keeps_the_data_sets_float32_as_the_notebook_did(tmp_path, monkeypatch):
    monkeypatch.setenv("ASTROML_DATA", str(tmp_path))
    write_spec4000(tmp_path, n=60, n_bins=20)
    request = FitRequest(dataset="sdss", features=("flux_0", "flux_1"), algorithm="notebook")
    prepared = prepare_data(load_dataset("sdss"), request)
    assert prepared.X.dtype == np.float32
    outcome = run_fit(prepared, request)
    assert outcome.model is None
    assert outcome.trace.algorithm == "notebook"
    assert outcome.trace.zero_density is not None
    assert outcome.explanation  # sentences about what happened


def test_the_notebook_replay_is_scored_exactly_and_compared_like_a_fit(tmp_path, monkeypatch):
    monkeypatch.setenv("ASTROML_DATA", str(tmp_path))
    write_spec4000(tmp_path, n=200)
    request = FitRequest(dataset="sdss", features=("flux_0", "flux_1"), algorithm="notebook")
    prepared = prepare_data(load_dataset("sdss"), request)
    outcome = run_fit(prepared, request)
    trace = outcome.trace
    # The final mixture scored in log space, as scikit-learn scores: with both components
    # collapsed on the zero spike, far rows cost far more than the notebook's log ε.
    assert outcome.mean_log_likelihood < trace.mean_log_likelihood[-1] - 100
    n_parameters = 2 * 3 + 2 * 2 + 1
    assert outcome.bic == pytest.approx(-2 * outcome.mean_log_likelihood * 200
                                        + n_parameters * np.log(200))
    line = status_line(outcome)
    assert f"BIC {outcome.bic:,.1f} (from the exact log-likelihood of the final mixture" \
        in line.text
    # Two log-likelihoods, each saying which it is.
    assert f"as the notebook computes it (its ε added to every density) " \
           f"{trace.log_likelihood[-1]:,.1f}" in line.text
    assert ": without ε, as scikit-learn scores it)" in line.text
    compared = run_comparison(prepared, request, outcome)
    assert compared.theirs.covariance_type == "full"
    assert compared.comparison.verdict == "degenerate"
    assert compared.comparison.explanation.startswith(
        "They differ because the notebook's fit had a degenerate component (The random start")
    assert "weight (notebook)" in compared.comparison.table.columns
    assert sorted(compared.permutation.tolist()) == [0, 1]
    table = fits_side_by_side(outcome, compared)
    assert table.loc["the notebook's algorithm", "BIC"] == outcome.bic
    # Only the drawn rows' scikit-learn labels are kept with a cached comparison.
    assert len(compared.theirs.labels) == len(trace.sample_index)
    meta, arrays = unpack(panels_bytes(prepared, outcome, compared, FigureOptions()))
    assert meta["panels"][0]["title"] == "The notebook's algorithm"
    assert len(arrays["labels_1"]) == len(drawn_points(prepared, trace).rows)


def test_a_replay_that_cannot_be_scored_says_why_and_is_matched_by_means(monkeypatch):
    def singular(X, trace):
        raise ValueError("the final covariance of component(s) [0] is singular")

    monkeypatch.setattr(dashboard.pipeline, "score_final_mixture", singular)
    dataset = load_dataset("blobs")
    request = FitRequest(dataset="blobs", features=("x", "y"), k=2, algorithm="notebook")
    prepared = prepare_data(dataset, request)
    outcome = run_fit(prepared, request)
    assert outcome.bic is None and outcome.mean_log_likelihood is None
    assert "BIC not defined: the final covariance of component(s) [0] is singular" in \
        status_line(outcome).text
    compared = run_comparison(prepared, request, outcome)
    assert compared.comparison is None
    assert sorted(compared.permutation.tolist()) == [0, 1]


def test_em_fit_matches_a_direct_gmm_and_compares_with_scikit_learn():
    dataset = load_dataset("blobs")
    request = FitRequest(dataset="blobs", features=("x", "y"), k=3, seed=7,
                         covariance_type="diag")
    prepared = prepare_data(dataset, request)
    outcome = run_fit(prepared, request)
    direct = GMM(k=3, seed=7, covariance_type="diag").fit(dataset.matrix(["x", "y"]))
    np.testing.assert_allclose(outcome.model.means_, direct.means_)
    assert outcome.bic == pytest.approx(direct.bic(prepared.X))
    assert len(outcome.trace.sample_index) == min(MAX_POINTS, len(prepared.X))
    compared = run_comparison(prepared, request, outcome)
    assert compared.theirs.covariance_type == "diag"
    assert compared.comparison.explanation
    table = fits_side_by_side(outcome, compared)
    assert list(table.index) == ["ours (gmm_core)", "scikit-learn"]
    assert table.loc["ours (gmm_core)", "BIC"] == pytest.approx(outcome.bic)
    animation, _ = unpack(animation_bytes(prepared, request, outcome, FigureOptions(), True))
    panels, _ = unpack(panels_bytes(prepared, outcome, compared, FigureOptions()))
    # One set of drawn points on the same axes in every figure.
    assert panels["x_range"] == animation["x_range"]
    assert panels["points_id"] == animation["points_id"]


def test_status_line_says_converged_or_capped_with_log_likelihood_and_bic():
    dataset = load_dataset("astroml_fig69")
    for max_iters, head, level in ((500, "Converged after", "success"),
                                   (2, "Stopped at the iteration cap (2)", "warning")):
        request = FitRequest(dataset="astroml_fig69", features=("x", "y"), k=4,
                             max_iters=max_iters)
        outcome = run_fit(prepare_data(dataset, request), request)
        line = status_line(outcome)
        assert line.text.startswith(head)
        assert line.level == level
        assert f"log-likelihood {outcome.trace.log_likelihood[-1]:,.1f}" in line.text
        assert f"BIC {outcome.bic:,.1f}" in line.text


def test_events_are_listed_with_iteration_and_component():
    X = np.r_[np.zeros((30, 2)), np.random.default_rng(0).normal(size=(30, 2))]
    dataset = small_dataset(np.c_[X, np.zeros(60)])
    request = FitRequest(features=("a", "b"), k=3, init="random_from_data")
    outcome = run_fit(prepare_data(dataset, request), request)
    lines = event_lines(outcome)
    assert len(lines) == len(outcome.trace.events) > 0
    first = outcome.trace.events[0]
    assert lines[0].startswith(f"Iteration {first.iteration}")
    assert status_line(outcome).level == "warning"
