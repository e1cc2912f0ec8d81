"""Lessons: prepared views that each show one thing EM does, or one way it fails.

A lesson is a few sentences and the links that open its views: a page and a query
string, so a teacher can bookmark each view and a student's click reproduces it exactly
(the page reads its whole view from the URL, ``dashboard.query_state``). Parameters a
query leaves out take the page's defaults. ``claim`` says what the views show; the test
suite (tests/test_lessons.py) fits each view as the page would and checks that it still
happens.

Pure data, without Streamlit; ``pages/lessons.py`` lays the lessons out.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import PurePosixPath
from urllib.parse import urlencode

EXPLORE_PAGE = "pages/explore.py"
MODEL_SELECTION_PAGE = "pages/model_selection.py"


def page_url_path(page: str) -> str:
    """The URL path Streamlit gives a page file: its name without ``.py``; the Explore
    page is the app's default, at its root."""
    return "" if page == EXPLORE_PAGE else PurePosixPath(page).stem


@dataclass(frozen=True)
class LessonView:
    """One link of a lesson: ``query`` opened on ``page``."""

    label: str
    query: tuple[tuple[str, str], ...]
    page: str = EXPLORE_PAGE

    @property
    def params(self) -> dict[str, str]:
        return dict(self.query)

    @property
    def url(self) -> str:
        """Relative to any page of the app (they share one folder in the URL), so it
        works wherever the app is served."""
        return self.link()

    def link(self, display: Mapping[str, str] | None = None) -> str:
        """``url`` carrying ``display`` too: the display options of the page it is on
        (presentation, colours), which the lesson's own query leaves to the user."""
        query = {**(display or {}), **self.params}
        return f"./{page_url_path(self.page)}?{urlencode(query)}"


def view(label: str, page: str = EXPLORE_PAGE, **params) -> LessonView:
    return LessonView(label, tuple((key, str(value)) for key, value in params.items()), page)


@dataclass(frozen=True)
class Lesson:
    slug: str
    title: str
    explanation: str  # two or three sentences, shown on the page
    claim: str  # what the views show, checked by the tests
    views: tuple[LessonView, ...]


LESSONS: tuple[Lesson, ...] = (
    Lesson(
        "notebook-collapse",
        "The seed notebook's collapse",
        "The notebook fitted two flux bins of the SDSS spectra, where most rows are exactly "
        "zero. Its random start drew two such rows, so both components began identical, "
        "moved together and shrank onto the spike of zeros, while scikit-learn put one "
        "component on the spike and one on the rest. This replays the notebook's own "
        "algorithm on data of that shape.",
        "The replay starts with two identical components (an identical-components event "
        "at iteration 0), both collapse onto the rows at (0, 0) (covariance-collapse "
        "events) and end there; scikit-learn's fit keeps one mean at (0, 0) and one on "
        "the spread rows.",
        (view("Replay the notebook", dataset="zero_spike", replay="true", k=2, seed=0),
         view("The same on the SDSS spectra (once downloaded)", dataset="sdss",
              replay="true", k=2, seed=0)),
    ),
    Lesson(
        "identical-starts",
        "Two identical starts never separate",
        "Iris petals are measured to 0.1 cm, so many flowers share the same length and "
        "width. The notebook's start (random rows as means, one shared covariance) can "
        "draw two of them: two components that start identical get identical "
        "responsibilities and identical updates, so EM can never tell them apart, and "
        "three species are fitted with two distinct components.",
        "Seed 108 draws two rows with equal petal length and width; an "
        "identical-components event is recorded at iteration 0, and the two components "
        "still have the same weight, mean and covariance when EM stops. Seed 42 starts "
        "apart and finds a higher likelihood.",
        (view("Seed 108: two starts on the same flower", dataset="iris", k=3,
              init="notebook", seed=108),
         view("Seed 42: three different starts", dataset="iris", k=3, init="notebook",
              seed=42)),
    ),
    Lesson(
        "collapse-no-regularization",
        "A component collapses onto repeated values",
        "29 of the setosa flowers have a petal width of exactly 0.2 cm. Without "
        "regularization (reg_covar = 0) one component gathers them and its variance "
        "across that line falls to zero: its density grows without bound and EM repairs "
        "its covariance with a tiny regularization. With the default 1e-6 the component "
        "shrinks just as far but stays invertible, and both fits are flagged singular: "
        "that component's likelihood is set by the regularization, not by the data.",
        "With reg_covar = 0 a not-positive-definite and a singular event fire for a "
        "component whose mean sits on petal width 0.2 with (next to) zero variance "
        "across it; with the default reg_covar = 1e-6 that component's singular event is "
        "the only one, its variance across the line is the regularization's 1e-6 and "
        "nothing more, and the fit's likelihood is lower than without regularization.",
        (view("reg_covar = 0", dataset="iris", k=5, seed=55, reg_covar=0),
         view("reg_covar = 1e-6 (the default)", dataset="iris", k=5, seed=55,
              reg_covar="1e-06")),
    ),
    Lesson(
        "local-optimum",
        "A local optimum",
        "EM only climbs: it ends at the best fit near its start. Here two of the random "
        "starting rows fall in the same group, so one component covers two groups while "
        "two share the third, and EM converges there. scikit-learn's k-means start, or "
        "another seed, finds a clearly better likelihood; restarts (n_init) exist for "
        "this.",
        "Seed 1 converges to a mean log-likelihood more than 0.5 below both "
        "scikit-learn's fit of the same data and the same settings with seed 0, and the "
        "comparison calls it a local optimum.",
        (view("Seed 1: stuck", dataset="sketch_separated", k=3, init="random_from_data",
              seed=1),
         view("Seed 0: the three groups", dataset="sketch_separated", k=3,
              init="random_from_data", seed=0)),
    ),
    Lesson(
        "too-many-components",
        "Too many components: what BIC says",
        "A mixture with more components always fits at least as well, so the likelihood "
        "alone would always ask for more. BIC charges each parameter log N: run the "
        "sweep on these three groups and BIC picks three components, whatever k the "
        "sidebar holds.",
        "On the three well-separated groups, the sweep of k = 1…8 over mclust's 14 "
        "models (the page's default) gives its lowest BIC at k = 3, fewer than the "
        "k = 8 the view opens with.",
        (view("Run the sweep (Model selection)", MODEL_SELECTION_PAGE,
              dataset="sketch_separated", k=8),
         view("k = 8 on the Explore page", dataset="sketch_separated", k=8)),
    ),
    Lesson(
        "tied-or-full",
        "Tied or full covariance",
        "A tied model gives every component the same covariance, one shape for all; a "
        "full model gives each its own. These groups differ in size and spread, so the "
        "tied fit cuts through them, and BIC, which charges full covariances for their "
        "extra parameters, still prefers the full fit by far.",
        "The tied and full fits partition the points differently (adjusted Rand index "
        "below 0.8), the full fit has the lower BIC by more than 100, and it recovers "
        "the drawn groups (adjusted Rand index above 0.9) where the tied one does not.",
        (view("Tied", dataset="sketch_unequal", k=3, covariance_type="tied"),
         view("Full", dataset="sketch_unequal", k=3, covariance_type="full")),
    ),
    Lesson(
        "units",
        "Units, and why standardizing changes the fit",
        "Proline is measured in the hundreds, hue near 1. A full-covariance mixture does "
        "not care about units, but its k-means++ start measures plain distances, where "
        "proline swamps hue, and EM stays near where it starts. Standardized, the start "
        "sees both features and EM finds a better fit, closer to the three cultivars.",
        "The fits with and without standardizing partition the wines differently "
        "(adjusted Rand index below 0.6); the standardized fit, taken back to the data's "
        "units, has the higher likelihood and matches the cultivars better; and EM in the "
        "data's units, started where the standardized fit started, ends at the "
        "standardized fit's partition.",
        (view("In the data's units", dataset="wine", x="proline", y="hue", k=3,
              standardize="false"),
         view("Standardized", dataset="wine", x="proline", y="hue", k=3,
              standardize="true")),
    ),
    Lesson(
        "label-switching",
        "Label switching between runs",
        "A mixture's components have no natural order: relabel them and it is the same "
        "model with the same likelihood. Two seeds can therefore find the same clusters "
        "with the colours shuffled, which is why runs are compared by the adjusted Rand "
        "index or by matching means, never by component number.",
        "Seeds 42 and 0 give the same partition (adjusted Rand index 1) and the same "
        "log-likelihood to 1e-4, but no component keeps its number from one to the "
        "other.",
        (view("Seed 42", dataset="blobs", k=3, seed=42),
         view("Seed 0", dataset="blobs", k=3, seed=0)),
    ),
)
