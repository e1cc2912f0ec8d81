"""The Explore page's view in the URL's query string, so that a copied link reproduces it.

``?dataset=iris&x=petal_length&y=petal_width&k=3…``: ``view_to_query`` writes a view,
``view_from_query`` reads one back with a message for every value it cannot use. Pure
functions without Streamlit; ``dashboard.controls`` keeps the widgets in step with them.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from dashboard.figures import ASPECTS, COLOR_BY, EQUAL, PALETTES, FigureOptions, figure_options
from gmm_core import FitRequest
from gmm_core.datasets import Dataset
from gmm_core.datasets.sketch import SKETCH, sketch_params
from gmm_core.model_names import covariance_type_of
from gmm_core.request import (
    CONVERGENCE_RULES,
    COVARIANCE_CHOICES,
    INIT_METHODS,
    PLACED,
    STARTS,
)

K_RANGE = (1, 12)
TOLERANCES = (*(float(f"{m}e{e}") for e in range(-8, -1) for m in (1, 3)), 0.1)
REGULARIZATIONS = (0.0, *(float(f"1e{e}") for e in range(-10, 0)))
MAX_ITERS_RANGE = (1, 1000)
SEED_RANGE = (0, 2**32 - 1)
# Dimensions a fit may have, X and Y included: the trace keeps a d x d covariance per
# component and iteration, so d bounds a cached fit's size (README, "Hosting").
MAX_DIMENSIONS = 10
# The address's word for "no Y feature": the view of X alone (a histogram under the fitted
# densities). A column may have any name, this one too: see ``name_to_query``.
NO_Y = "none"
ESCAPE = "~"  # in front of a column's name that would otherwise read as something else
LINKED_SKETCH_POINTS = 300  # a link carries a sketch up to this many points
TRUE_WORDS, FALSE_WORDS = ("true", "1", "yes", "on"), ("false", "0", "no", "off")


@dataclass(frozen=True)
class ExploreView:
    """What the page shows: the fit request, how points are coloured, the component
    colours, whether it is presented to a room (larger text and markers, the sidebar
    closed when the page opens), and whether data-space figures are true to scale or
    fill their frame (``dashboard.figures.ASPECTS``)."""

    request: FitRequest
    color_by: str = "responsibility"
    palette: str = "plotly"
    present: bool = False
    aspect: str = EQUAL

    def figure_options(self) -> FigureOptions:
        return figure_options(self.color_by, self.palette, self.present, self.aspect)


def default_view(sdss_present: bool) -> ExploreView:
    """The notebook's own case when its data is here, else the astroML book's mixture."""
    if sdss_present:
        return ExploreView(FitRequest(dataset="sdss", k=2))
    return ExploreView(FitRequest(dataset="astroml_fig69", k=4))


def _number(value: float) -> str:
    return f"{value:g}"


def name_to_query(name: str) -> str:
    """A column's name as the address writes it (``x``, ``y``, an item of ``extra``): as it
    is, unless it is the word for no Y or begins with the escape, then with the escape in
    front, so that no name reads as anything but itself (``none`` -> ``~none``)."""
    return ESCAPE + name if name == NO_Y or name.startswith(ESCAPE) else name


def name_from_query(text: str) -> str:
    """The column's name ``name_to_query`` wrote (a link from before the escape names its
    columns as they are, and reads back the same unless a name begins with it)."""
    return text.removeprefix(ESCAPE)


def names_to_query(names: Sequence[str]) -> str:
    """Several columns' names as one value: a CSV row, so a name may hold a comma."""
    row = io.StringIO()
    csv.writer(row).writerow([name_to_query(name) for name in names])
    return row.getvalue().removesuffix("\r\n")


def names_from_query(text: str) -> list[str]:
    """The names ``names_to_query`` wrote, empty items left out."""
    rows = csv.reader(io.StringIO(text, newline=""))  # a bare line break parts names too
    return [name_from_query(item) for row in rows for item in row if item]


def view_to_query(view: ExploreView) -> dict[str, str]:
    r = view.request
    params = {"dataset": r.dataset}
    if r.features:
        params |= {"x": name_to_query(r.features[0]),
                   "y": name_to_query(r.features[1]) if len(r.features) > 1 else NO_Y}
    if len(r.features) > 2:
        params["extra"] = names_to_query(r.features[2:])
    if r.placed_means:
        params["means"] = points_to_text(r.placed_means)
    if r.noise:  # off by default: links without it stay as they were
        params["noise"] = "true"
    sketch = dict(r.dataset_params).get("points", ()) if r.dataset == SKETCH else ()
    if 0 < len(sketch) <= LINKED_SKETCH_POINTS:
        params["sketch"] = points_to_text(sketch, digits=6)
    return params | {
        "k": str(r.k), "tol": _number(r.tol), "seed": str(r.seed),
        "max_iters": str(r.max_iters), "covariance_type": r.covariance_type, "init": r.init,
        "convergence": r.convergence, "reg_covar": _number(r.reg_covar),
        "standardize": str(r.standardize).lower(),
        "replay": str(r.algorithm == "notebook").lower(), "color": view.color_by,
        "palette": view.palette, "present": str(view.present).lower(),
        "aspect": view.aspect,
    }


def _nearest_on_log_scale(value: float, options: Sequence[float]) -> float:
    if value == 0 and 0.0 in options:
        return 0.0
    positive = [option for option in options if option > 0]
    return min(positive, key=lambda option: abs(math.log10(option) - math.log10(value)))


def points_to_text(points, digits: int = 9) -> str:
    """``x1:y1;x2:y2``: points in a link (a start placed by hand, a sketch)."""
    return ";".join(f"{x:.{digits}g}:{y:.{digits}g}" for x, y in points)


def points_from_text(text: str) -> tuple[tuple[float, float], ...]:
    """The points ``points_to_text`` wrote; ValueError when it is not that."""
    pairs = []
    for item in filter(None, text.split(";")):
        x, y = (float(value) for value in item.split(":"))
        if not (math.isfinite(x) and math.isfinite(y)):
            raise ValueError(f"{item} is not a finite point")
        pairs.append((x, y))
    return tuple(pairs)


class _QueryReader:
    """Reads query parameters one by one, collecting a message for each bad one."""

    def __init__(self, params: Mapping[str, object]):
        # A repeated key arrives as a list; the last one wins, as in st.query_params.
        self.params = {key: value[-1] if isinstance(value, list) and value else value
                       for key, value in params.items()}
        self.problems: list[str] = []

    def text(self, key: str, default):
        value = self.params.get(key)
        return default if value in (None, "") else str(value)

    def choice(self, key: str, allowed: Sequence[str], default: str) -> str:
        value = self.text(key, default)
        if value not in allowed:
            self._bad(key, value, f"not one of {', '.join(allowed)}", default)
            return default
        return value

    def integer(self, key: str, bounds: tuple[int, int], default: int) -> int:
        value = self.text(key, None)
        if value is None:
            return default
        try:
            number = int(value)
        except ValueError:
            number = None
        if number is None or not bounds[0] <= number <= bounds[1]:
            self._bad(key, value, f"not a whole number from {bounds[0]} to {bounds[1]}",
                      default)
            return default
        return number

    def on_scale(self, key: str, options: Sequence[float], default: float) -> float:
        value = self.text(key, None)
        if value is None:
            return default
        try:
            number = float(value)
        except ValueError:
            number = math.nan
        if not (math.isfinite(number) and number >= 0) or (number == 0 and 0 not in options):
            self._bad(key, value, "not a number the slider offers", default)
            return default
        nearest = _nearest_on_log_scale(number, options)
        if nearest != number:
            self.problems.append(f"{key}={value} is not on the slider; using "
                                 f"{_number(nearest)}")
        return nearest

    def points(self, key: str, meaning: str) -> tuple[tuple[float, float], ...]:
        value = self.text(key, "")
        try:
            return points_from_text(value)
        except ValueError:
            self.problems.append(f"{key}={value} is not a list of points x:y;x:y; "
                                 f"{meaning}")
            return ()

    def flag(self, key: str, default: bool) -> bool:
        value = self.text(key, None)
        if value is None:
            return default
        if value.lower() in TRUE_WORDS + FALSE_WORDS:
            return value.lower() in TRUE_WORDS
        self._bad(key, value, "not true or false", default)
        return default

    def _bad(self, key, value, why, default) -> None:
        shown = _number(default) if isinstance(default, float) else default
        self.problems.append(f"{key}={value} is {why}; using {shown}")


def view_from_query(params: Mapping[str, object], default: ExploreView,
                    dataset_names: Sequence[str]) -> tuple[ExploreView, list[str]]:
    """The view a URL asks for, with defaults for what it leaves out and a message for
    every value it gets wrong. Feature names are checked later, against the data set."""
    read = _QueryReader(params)
    d = default.request
    dataset = read.choice("dataset", dataset_names, d.dataset)
    x, y, extra = read.text("x", None), read.text("y", None), read.text("extra", "")
    if y == NO_Y and extra:
        read.problems.append(f"extra={extra} is left out: with y={NO_Y} the fit has one "
                             "feature")
    features = (() if not (x and y) else (name_from_query(x),) if y == NO_Y else
                (name_from_query(x), name_from_query(y), *names_from_query(extra)))
    k = read.integer("k", K_RANGE, d.k)
    placed = read.points("means", "the start is not placed")
    init = read.choice("init", STARTS, d.init)
    if init == PLACED and len(placed) != k:
        read.problems.append(f"init=placed needs {k} placed means (means=x:y;…), one per "
                             f"component; got {len(placed)}: using {INIT_METHODS[0]}")
        init = INIT_METHODS[0]
    sketch = read.points("sketch", "the sketch starts from a preset")
    request = FitRequest(
        dataset=dataset, features=features, k=k,
        dataset_params=sketch_params(sketch) if dataset == SKETCH and sketch else (),
        placed_means=placed if init == PLACED else (),
        tol=read.on_scale("tol", TOLERANCES, d.tol),
        seed=read.integer("seed", SEED_RANGE, d.seed),
        max_iters=read.integer("max_iters", MAX_ITERS_RANGE, d.max_iters),
        # VVV, EEE, VVI and VII are fitted as full, tied, diag and spherical: the same models.
        covariance_type=covariance_type_of(read.choice("covariance_type", COVARIANCE_CHOICES,
                                                       d.covariance_type)),
        init=init,
        convergence=read.choice("convergence", CONVERGENCE_RULES, d.convergence),
        reg_covar=read.on_scale("reg_covar", REGULARIZATIONS, d.reg_covar),
        standardize=read.flag("standardize", d.standardize),
        algorithm="notebook" if read.flag("replay", d.algorithm == "notebook") else "em",
        noise=read.flag("noise", d.noise),
    )
    view = ExploreView(request, read.choice("color", COLOR_BY, default.color_by),
                       read.choice("palette", list(PALETTES), default.palette),
                       read.flag("present", default.present),
                       read.choice("aspect", ASPECTS, default.aspect))
    return view, read.problems


def resolve_features(wanted: Sequence[str], dataset: Dataset) -> tuple[tuple[str, ...],
                                                                       list[str]]:
    """``wanted`` with unknown names replaced by the data set's default view (X, Y) or
    dropped (extra dimensions), extra dimensions beyond ``MAX_DIMENSIONS`` dropped, and a
    message naming what was changed. One name (Y "none") is a view of that feature alone,
    as is an unknown Y on a data set whose default view has one feature.
    """
    default = tuple(dataset.default_view[:2])
    if not wanted:
        return default, []
    known = dataset.features
    unknown = [name for name in wanted if name not in known]
    x = wanted[0] if wanted[0] in known else default[0]
    if len(wanted) == 1 or (wanted[1] not in known and len(default) < 2):
        features = (x,)
    else:
        y = wanted[1] if wanted[1] in known else default[1]
        features = (x, y, *dict.fromkeys(name for name in wanted[2:]
                                         if name in known and name not in (x, y)))
    problems = ([f"{dataset.title} has no feature {', '.join(unknown)}; showing "
                 f"{' and '.join(features[:2])} instead"] if unknown else [])
    if len(features) > MAX_DIMENSIONS:
        problems.append(f"a fit has at most {MAX_DIMENSIONS} dimensions; left out "
                        f"{', '.join(features[MAX_DIMENSIONS:])}")
        features = features[:MAX_DIMENSIONS]
    return features, problems
