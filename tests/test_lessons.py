"""Every lesson's claim, checked on the fit its link opens.

Each view's request is built as the page builds it: the lesson's query read by
``view_from_query`` and the features resolved against the data set by
``resolve_features`` (``dashboard.controls``), then fitted by the dashboard's own
pipeline. A lesson whose claim stops being true fails here. The pages themselves are
opened by ``tests/test_app_lessons.py``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import cache
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import numpy as np
import pytest
from sklearn.metrics import adjusted_rand_score, confusion_matrix
from spec4000_fixture import write_spec4000
from streamlit.source_util import page_icon_and_name

from dashboard import selection_view
from dashboard.lessons import EXPLORE_PAGE, LESSONS, MODEL_SELECTION_PAGE, LessonView
from dashboard.navigation import EXPLORE_PAGE as NAVIGATION_EXPLORE_PAGE
from dashboard.pipeline import (
    ComparisonOutcome,
    FitOutcome,
    PreparedData,
    prepare_data,
    run_comparison,
    run_fit,
)
from dashboard.query_state import default_view, resolve_features, view_from_query
from gmm_core import GMM, FitRequest
from gmm_core.compare import LOCAL_OPTIMUM, SAME_PARTITION_ARI
from gmm_core.datasets import Dataset, list_datasets, load_dataset, sdss_available
from gmm_core.trace import (
    COVARIANCE_COLLAPSE,
    IDENTICAL_COMPONENTS,
    NOT_POSITIVE_DEFINITE,
    SINGULAR,
)

LESSON = {lesson.slug: lesson for lesson in LESSONS}


def page_request(view: LessonView) -> tuple[FitRequest, Dataset]:
    """The request the page fits for ``view``, and its data set; the query must be one
    the page takes without a warning."""
    explore_view, problems = view_from_query(view.params, default_view(sdss_available()),
                                             [info.name for info in list_datasets()])
    assert not problems, problems
    request = explore_view.request
    dataset = load_dataset(request.dataset)
    features, problems = resolve_features(request.features, dataset)
    assert not problems, problems
    return replace(request, features=features), dataset


@dataclass(frozen=True)
class Fitted:
    request: FitRequest
    dataset: Dataset
    prepared: PreparedData
    outcome: FitOutcome
    compared: ComparisonOutcome

    @property
    def labels(self) -> np.ndarray:
        """Every fitted row's component (the trace labels only the drawn rows)."""
        return self.outcome.model.predict(self.prepared.X)


def fit_view(view: LessonView) -> Fitted:
    request, dataset = page_request(view)
    prepared = prepare_data(dataset, request)
    outcome = run_fit(prepared, request)
    return Fitted(request, dataset, prepared, outcome, run_comparison(prepared, request,
                                                                       outcome))


fitted = cache(fit_view)  # views without SDSS data only: they do not depend on the test


def views(slug: str) -> tuple[LessonView, ...]:
    return LESSON[slug].views


# ------------------------------------------------------------------ the records
def test_every_lesson_explains_itself_and_opens_known_pages():
    assert len(LESSONS) == len(LESSON) == 8
    for lesson in LESSONS:
        assert lesson.title and lesson.claim and lesson.views
        assert 2 <= lesson.explanation.count(". ") + 1 <= 3, lesson.slug  # sentences
        for view in lesson.views:
            assert view.page in (EXPLORE_PAGE, MODEL_SELECTION_PAGE)
            assert "dataset" in view.params


def test_the_explore_page_is_the_one_the_app_registers():
    assert EXPLORE_PAGE == NAVIGATION_EXPLORE_PAGE


@pytest.mark.parametrize("page", [EXPLORE_PAGE, MODEL_SELECTION_PAGE])
def test_links_use_the_url_path_streamlit_gives_the_page(page):
    view = LessonView("a view", (("dataset", "iris"), ("k", "3")), page)
    path, query = urlsplit(view.url)[2:4]
    # the name Streamlit infers from the file (st.Page needs a running app to say)
    expected = "" if page == EXPLORE_PAGE else page_icon_and_name(Path(page))[1]
    assert path == f"./{expected}"
    assert dict(parse_qsl(query)) == {"dataset": "iris", "k": "3"}


@pytest.mark.parametrize("view", [v for lesson in LESSONS for v in lesson.views
                                  if v.params["dataset"] != "sdss"],
                         ids=lambda view: view.label)
def test_every_query_is_taken_without_a_warning(view):
    request, dataset = page_request(view)
    assert request.dataset == view.params["dataset"] == dataset.name
    assert request.k == int(view.params["k"])


# ------------------------------------------------------------------ the claims
def assert_replay_collapses(fit: Fitted) -> None:
    trace = fit.outcome.trace
    assert trace.algorithm == "notebook"
    assert IDENTICAL_COMPONENTS in {event.kind for event in trace.events_at(0)}
    assert {e.component for e in trace.events if e.kind == COVARIANCE_COLLAPSE} == {0, 1}
    X = fit.prepared.X
    spread = X[(X != 0).any(axis=1)]
    # Rows away from the spike have zero density under the collapsed components, so
    # both means are the spike's (0, 0) up to what rounding leaves of the spread rows.
    np.testing.assert_allclose(trace.means[-1], 0, atol=1e-9 * np.abs(X).max())
    on_spike, on_spread = sorted(fit.compared.theirs.means, key=np.linalg.norm)
    np.testing.assert_allclose(on_spike, 0, atol=1e-6 * np.abs(X).max())
    np.testing.assert_allclose(on_spread, spread.mean(axis=0), rtol=1e-3)


def test_notebook_collapse_on_the_zero_spike():
    replay, _ = views("notebook-collapse")
    assert_replay_collapses(fitted(replay))


def test_notebook_collapse_on_sdss_format_data(data_home):
    write_spec4000(data_home, n=200)
    _, sdss = views("notebook-collapse")
    assert_replay_collapses(fit_view(sdss))


def test_identical_starts_never_separate():
    stuck, apart = views("identical-starts")
    trace = fitted(stuck).outcome.trace
    (event,) = [e for e in trace.events if e.kind == IDENTICAL_COMPONENTS]
    assert event.iteration == 0
    start = trace.means[0]
    (i, j), = [(i, j) for i in range(len(start)) for j in range(i + 1, len(start))
               if np.array_equal(start[i], start[j])]  # two equal rows drawn
    # "identical" as the EM core detects it: equal to 1e-10 relative
    for values in (trace.weights, trace.means, trace.covariances):
        np.testing.assert_allclose(values[-1][i], values[-1][j], rtol=1e-10, atol=0)
    other = fitted(apart)
    assert not [e for e in other.outcome.trace.events if e.kind == IDENTICAL_COMPONENTS]
    assert other.outcome.mean_log_likelihood > fitted(stuck).outcome.mean_log_likelihood


def test_a_component_collapses_onto_repeated_values_without_regularization():
    bare, regularized = views("collapse-no-regularization")
    fit = fitted(bare)
    assert fit.request.reg_covar == 0
    X = fit.prepared.X
    assert np.count_nonzero(X[:, 1] == 0.2) == 29  # the explanation's flowers
    trace = fit.outcome.trace
    collapses = [e for e in trace.events if e.kind == NOT_POSITIVE_DEFINITE]
    assert collapses
    component = collapses[0].component
    assert (SINGULAR, component) in {(e.kind, e.component) for e in trace.events}
    assert fit.outcome.model.singular_.keys() == {component}
    assert trace.means[-1][component][1] == pytest.approx(0.2, abs=1e-9)
    smallest, largest = np.linalg.eigvalsh(trace.covariances[-1][component])
    # Zero but for the repair EM added (1e-12 of a unit scale), up to rounding: the
    # core estimates covariances from moments about the data mean, so the rounding is a
    # few epsilon of the largest squared distance from it.
    moment_scale = np.max((X - X.mean(axis=0)) ** 2)
    assert smallest <= 1e-12 + 4 * np.finfo(float).eps * moment_scale
    assert smallest < 1e-9 * largest
    regularized_fit = fitted(regularized)
    regularized_trace = regularized_fit.outcome.trace
    assert [(e.kind, e.component) for e in regularized_trace.events] == [(SINGULAR, component)]
    smallest = np.linalg.eigvalsh(regularized_trace.covariances[-1])[:, 0]
    # 1e-6 plus what the flowers' widths add: their spread is exactly 0, up to rounding
    assert smallest.min() == pytest.approx(1e-6, rel=1e-6)
    assert (fit.outcome.mean_log_likelihood
            > regularized_fit.outcome.mean_log_likelihood + 1.0)


def test_a_local_optimum_below_scikit_learn_and_another_seed():
    stuck, good = views("local-optimum")
    fit, other = fitted(stuck), fitted(good)
    assert fit.outcome.trace.converged
    comparison = fit.compared.comparison
    assert comparison.verdict == LOCAL_OPTIMUM
    ours = fit.outcome.mean_log_likelihood
    assert comparison.theirs_mean_log_likelihood - ours > 0.5
    assert other.outcome.mean_log_likelihood - ours > 0.5


def test_bic_picks_fewer_components_than_the_view_opens_with():
    sweep_view, explore_view = views("too-many-components")
    assert sweep_view.page == MODEL_SELECTION_PAGE
    request, dataset = page_request(sweep_view)
    assert page_request(explore_view)[0] == request
    result = selection_view.run_sweep(request, dataset.fingerprint,
                                      selection_view.SweepRequest())
    best_k, _ = result.best("bic")
    assert best_k == 3 < request.k


def test_tied_and_full_fits_differ_and_bic_prefers_full():
    tied, full = (fitted(view) for view in views("tied-or-full"))
    truth = tied.dataset.known_labels["group"]
    assert adjusted_rand_score(tied.labels, full.labels) < 0.8
    assert tied.outcome.bic - full.outcome.bic > 100
    assert adjusted_rand_score(truth, full.labels) > 0.9
    assert adjusted_rand_score(truth, tied.labels) < 0.6


def test_standardizing_changes_the_fit_to_a_better_one():
    raw, standardized = (fitted(view) for view in views("units"))
    assert (raw.request.standardize, standardized.request.standardize) == (False, True)
    assert adjusted_rand_score(raw.labels, standardized.labels) < 0.6
    # The density of the data's units is the standardized one divided by the scales.
    scales = np.asarray(standardized.prepared.preprocessing.scale)
    in_data_units = standardized.outcome.mean_log_likelihood - np.log(scales).sum()
    # per row, a hundred times the stopping tolerance: not a matter of when EM stopped
    assert in_data_units - raw.outcome.mean_log_likelihood > 100 * raw.request.tol
    cultivars = raw.dataset.known_labels["cultivar"]
    assert (adjusted_rand_score(cultivars, standardized.labels)
            > adjusted_rand_score(cultivars, raw.labels) + 0.1)


def test_units_from_the_same_start_the_fit_is_the_same_in_either_units():
    raw, standardized = (fitted(view) for view in views("units"))
    start, scaling = standardized.outcome.trace, standardized.prepared.preprocessing
    same_start = GMM(**raw.request.model_params(), weights_init=start.weights[0],
                     means_init=scaling.inverse_means(start.means[0]),
                     covariances_init=scaling.inverse_covariances(start.covariances[0]))
    labels = same_start.fit(raw.prepared.X).predict(raw.prepared.X)
    assert adjusted_rand_score(labels, standardized.labels) >= SAME_PARTITION_ARI


def test_label_switching_same_partition_other_numbers():
    first, second = (fitted(view) for view in views("label-switching"))
    assert adjusted_rand_score(first.labels, second.labels) >= SAME_PARTITION_ARI
    assert (abs(first.outcome.mean_log_likelihood - second.outcome.mean_log_likelihood)
            < first.request.tol)
    # each component of the first run, and the one of the second that holds its rows
    matched = confusion_matrix(first.labels, second.labels).argmax(axis=1)
    assert sorted(matched) == list(range(first.request.k))
    assert np.all(matched != np.arange(first.request.k))


def test_a_link_carries_the_display_options_of_the_page_it_is_on():
    view = LessonView("a view", (("dataset", "iris"), ("k", "3")))
    query = dict(parse_qsl(urlsplit(view.link({"present": "true",
                                               "palette": "okabe_ito"})).query))
    assert query == {"present": "true", "palette": "okabe_ito", "dataset": "iris", "k": "3"}
    assert view.link() == view.url
