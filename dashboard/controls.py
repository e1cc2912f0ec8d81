"""Sidebar controls, mirrored in the URL so that a copied link reproduces the view.

Each widget's key is also its query parameter (``?dataset=iris&x=petal_length&k=3…``).
``view_to_query`` and ``view_from_query`` are pure (tested without a server); the rest
keeps st.session_state, the widgets and st.query_params in step: the URL is read once,
when a session starts, and rewritten after every change.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import streamlit as st

from dashboard.download import PENDING_DATASET, sdss_download_button
from dashboard.figures import COLOR_BY
from gmm_core import FitRequest
from gmm_core.datasets import Dataset, DatasetError, list_datasets
from gmm_core.request import CONVERGENCE_RULES, COVARIANCE_TYPES, INIT_METHODS

K_RANGE = (1, 12)
TOLERANCES = (*(float(f"{m}e{e}") for e in range(-8, -1) for m in (1, 3)), 0.1)
REGULARIZATIONS = (0.0, *(float(f"1e{e}") for e in range(-10, 0)))
MAX_ITERS_RANGE = (1, 1000)
SEED_RANGE = (0, 2**32 - 1)
# gmm_core.datasets.sdss names the family of its wavelength bins "flux"; a data set
# with such a family and its wavelengths gets wavelength sliders.
SPECTRAL_FAMILY = "flux"
SPECTRUM = "spectrum"  # the axis choice "flux at a wavelength", then a slider

COVARIANCE_LABELS = {"full": "full", "tied": "tied (one shared by all)",
                     "diag": "diagonal", "spherical": "spherical"}
INIT_LABELS = {"kmeans++": "k-means++ centres", "kmeans": "k-means clusters",
               "random_from_data": "random data rows as centres",
               "random": "random responsibilities",
               "notebook": "the notebook's (random rows, Cov(X) for all)"}
CONVERGENCE_LABELS = {"loglik": "log-likelihood changes < tol (scikit-learn)",
                      "means": "means move < tol (the notebook)"}
COLOR_LABELS = {"responsibility": "responsibility (blend of component colours)",
                "uncertainty": "uncertainty (1 − largest responsibility)"}
TRUE_WORDS, FALSE_WORDS = ("true", "1", "yes", "on"), ("false", "0", "no", "off")

_URL_READ = "_url_read"
_WANTED_FEATURES = "_wanted_features"


@dataclass(frozen=True)
class ExploreView:
    """What the page shows: the fit request and how points are coloured."""

    request: FitRequest
    color_by: str = "responsibility"


def default_view(sdss_present: bool) -> ExploreView:
    """The notebook's own case when its data is here, else the astroML book's mixture."""
    if sdss_present:
        return ExploreView(FitRequest(dataset="sdss", k=2))
    return ExploreView(FitRequest(dataset="astroml_fig69", k=4))


def _number(value: float) -> str:
    return f"{value:g}"


def view_to_query(view: ExploreView) -> dict[str, str]:
    r = view.request
    params = {"dataset": r.dataset}
    if len(r.features) >= 2:
        params |= {"x": r.features[0], "y": r.features[1]}
    if len(r.features) > 2:
        params["extra"] = ",".join(r.features[2:])
    return params | {
        "k": str(r.k), "tol": _number(r.tol), "seed": str(r.seed),
        "max_iters": str(r.max_iters), "covariance_type": r.covariance_type, "init": r.init,
        "convergence": r.convergence, "reg_covar": _number(r.reg_covar),
        "standardize": str(r.standardize).lower(),
        "replay": str(r.algorithm == "notebook").lower(), "color": view.color_by,
    }


def _nearest_on_log_scale(value: float, options: Sequence[float]) -> float:
    if value == 0 and 0.0 in options:
        return 0.0
    positive = [option for option in options if option > 0]
    return min(positive, key=lambda option: abs(math.log10(option) - math.log10(value)))


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
    x, y = read.text("x", None), read.text("y", None)
    extra = [name for name in read.text("extra", "").split(",") if name]
    features = (x, y, *extra) if x and y else ()
    request = FitRequest(
        dataset=dataset, features=features,
        k=read.integer("k", K_RANGE, d.k),
        tol=read.on_scale("tol", TOLERANCES, d.tol),
        seed=read.integer("seed", SEED_RANGE, d.seed),
        max_iters=read.integer("max_iters", MAX_ITERS_RANGE, d.max_iters),
        covariance_type=read.choice("covariance_type", COVARIANCE_TYPES, d.covariance_type),
        init=read.choice("init", INIT_METHODS, d.init),
        convergence=read.choice("convergence", CONVERGENCE_RULES, d.convergence),
        reg_covar=read.on_scale("reg_covar", REGULARIZATIONS, d.reg_covar),
        standardize=read.flag("standardize", d.standardize),
        algorithm="notebook" if read.flag("replay", d.algorithm == "notebook") else "em",
    )
    color_by = read.choice("color", COLOR_BY, default.color_by)
    return ExploreView(request, color_by), read.problems


def spectral_features(dataset: Dataset) -> list[str]:
    """The flux bins in wavelength order, or [] for a data set without spectra."""
    if "wavelengths" not in dataset.extras:
        return []
    return dataset.families().get(SPECTRAL_FAMILY, [])


def resolve_features(wanted: Sequence[str], dataset: Dataset) -> tuple[tuple[str, ...],
                                                                       list[str]]:
    """``wanted`` with unknown names replaced by the data set's default view (X, Y) or
    dropped (extra dimensions), and a message naming them."""
    default = tuple(dataset.default_view[:2])
    if len(wanted) < 2:
        return default, []
    unknown = [name for name in wanted if name not in dataset.features]
    x, y = (name if name in dataset.features else fallback
            for name, fallback in zip(wanted[:2], default, strict=True))
    extra = tuple(dict.fromkeys(name for name in wanted[2:]
                                if name in dataset.features and name not in (x, y)))
    problems = ([f"{dataset.title} has no feature {', '.join(unknown)}; showing "
                 f"{x} and {y} instead"] if unknown else [])
    return (x, y, *extra), problems


# ---------------------------------------------------------------- widgets and state
@dataclass
class Selection:
    """The sidebar's outcome. ``dataset`` and ``view`` are None when the data set could
    not be loaded; ``error`` then says why."""

    view: ExploreView | None
    dataset: Dataset | None
    messages: list[str] = field(default_factory=list)
    error: str | None = None


def _state_for_view(view: ExploreView) -> dict:
    r = view.request
    return {"dataset": r.dataset, "k": int(r.k), "tol": float(r.tol), "seed": int(r.seed),
            "max_iters": int(r.max_iters), "covariance_type": r.covariance_type,
            "init": r.init, "convergence": r.convergence, "reg_covar": float(r.reg_covar),
            "standardize": bool(r.standardize), "replay": r.algorithm == "notebook",
            "color": view.color_by, _WANTED_FEATURES: tuple(r.features)}


def _read_url_once(default: ExploreView, dataset_names: Sequence[str]) -> list[str]:
    """At a session's first run, put the URL's view into the widgets' state."""
    if st.session_state.get(_URL_READ):
        return []
    view, problems = view_from_query(st.query_params.to_dict(), default, dataset_names)
    st.session_state.update(_state_for_view(view))
    st.session_state[_URL_READ] = True
    return problems


def _dataset_control(infos) -> str:
    if PENDING_DATASET in st.session_state:  # a download just finished
        st.session_state["dataset"] = st.session_state.pop(PENDING_DATASET)
    titles = {info.name: info.title + ("" if info.available else " (not downloaded)")
              for info in infos}
    return st.selectbox("Dataset", list(titles), key="dataset", format_func=titles.get)


def _fit_controls() -> None:
    replay = bool(st.session_state.get("replay", False))
    not_in_replay = "The notebook's algorithm has its own: full covariance, random rows."
    st.subheader("Model")
    st.slider("Components (k)", *K_RANGE, key="k")
    st.selectbox("Covariance type", COVARIANCE_TYPES, key="covariance_type",
                 format_func=COVARIANCE_LABELS.get, disabled=replay,
                 help=not_in_replay if replay else None)
    st.selectbox("Initialization", INIT_METHODS, key="init", format_func=INIT_LABELS.get,
                 disabled=replay, help=not_in_replay if replay else None)
    st.number_input("Seed", *SEED_RANGE, step=1, key="seed",
                    help="Seeds the start, and the sample of points drawn.")
    st.subheader("Stopping")
    st.select_slider("Tolerance", TOLERANCES, key="tol", format_func="{:.0e}".format)
    st.selectbox("Convergence rule", CONVERGENCE_RULES, key="convergence",
                 format_func=CONVERGENCE_LABELS.get, disabled=replay,
                 help="The notebook's algorithm stops on its log-likelihood." if replay
                 else None)
    st.number_input("Max iterations", *MAX_ITERS_RANGE, step=1, key="max_iters")
    st.subheader("Numerics")
    st.select_slider("Regularization", REGULARIZATIONS, key="reg_covar",
                     format_func=lambda v: "0" if v == 0 else f"{v:.0e}", disabled=replay,
                     help="Added to every variance in the M-step (scikit-learn's reg_covar)."
                     + (" The notebook's algorithm adds its own ε = 1e-8." if replay else ""))
    st.checkbox("Standardize", key="standardize",
                help="Scale each feature to mean 0 and standard deviation 1 before fitting.")
    st.toggle("Replay the notebook's algorithm", key="replay",
              help="Run the seed notebook's EM as written (probability space, ε, random "
                   "rows) and watch where it goes wrong.")
    st.subheader("Display")
    st.radio("Colour points by", COLOR_BY, key="color", format_func=COLOR_LABELS.get)


def _features_in_state(dataset: Dataset) -> tuple[str, ...]:
    """The features the widgets hold; () when they were not drawn on the last run (the
    data set failed to load), which resolves to the data set's default view."""
    spectral = spectral_features(dataset)
    axes = []
    for axis in ("x", "y"):
        choice = st.session_state.get(axis)
        if choice is None:
            return ()
        if choice == SPECTRUM and spectral:
            choice = st.session_state.get(f"{axis}_wavelength", spectral[0])
        axes.append(choice)
    return (*axes, *st.session_state.get("extra", ()))


def _state_for_features(features: Sequence[str], dataset: Dataset) -> dict:
    spectral = set(spectral_features(dataset))
    state = {"extra": list(features[2:])}
    for axis, name in zip(("x", "y"), features[:2], strict=True):
        state[axis] = SPECTRUM if name in spectral else name
        if name in spectral:
            state[f"{axis}_wavelength"] = name
    return state


def _axis_control(axis: str, dataset: Dataset) -> str:
    spectral = spectral_features(dataset)
    skip = set(spectral)
    options = [SPECTRUM] * bool(spectral) + [n for n in dataset.columns if n not in skip]
    label = axis.upper()
    choice = st.selectbox(
        f"{label} feature", options, key=axis,
        format_func=lambda n: "flux at a wavelength" if n == SPECTRUM
        else dataset.features[n].label)
    if choice != SPECTRUM:
        return choice
    return st.select_slider(f"{label} wavelength", spectral, key=f"{axis}_wavelength",
                            format_func=lambda n: dataset.features[n].label)


def _feature_controls(dataset: Dataset) -> tuple[tuple[str, ...], list[str]]:
    wanted = st.session_state.pop(_WANTED_FEATURES, None)
    from_url = wanted is not None
    if not from_url:  # after a change of data set, unknown names quietly become its default
        wanted = _features_in_state(dataset)
    features, problems = resolve_features(wanted, dataset)
    st.session_state.update(_state_for_features(features, dataset))
    x = _axis_control("x", dataset)
    y = _axis_control("y", dataset)
    spare = [name for name in dataset.columns if name not in (x, y)]
    st.session_state["extra"] = [name for name in st.session_state["extra"] if name in spare]
    extra = st.multiselect("Extra dimensions", spare, key="extra",
                           format_func=lambda n: dataset.features[n].label,
                           help="Fit in more dimensions; the plot shows the X-Y projection.")
    return (x, y, *extra), problems if from_url else []


def _view_in_state(dataset_name: str, features: tuple[str, ...]) -> ExploreView:
    s = st.session_state
    request = FitRequest(
        dataset=dataset_name, features=features, k=int(s["k"]), tol=float(s["tol"]),
        seed=int(s["seed"]), covariance_type=s["covariance_type"], init=s["init"],
        convergence=s["convergence"], max_iters=int(s["max_iters"]),
        reg_covar=float(s["reg_covar"]), standardize=bool(s["standardize"]),
        algorithm="notebook" if s["replay"] else "em")
    return ExploreView(request, s["color"])


def _publish(view: ExploreView) -> None:
    params = view_to_query(view)
    if st.query_params.to_dict() != params:
        st.query_params.from_dict(params)


def sidebar(load: Callable[[str], Dataset], sdss_present: bool) -> Selection:
    """Draw the controls, load the chosen data set with ``load``, and keep the URL in step.
    """
    infos = list_datasets()
    messages = _read_url_once(default_view(sdss_present), [info.name for info in infos])
    with st.sidebar:
        data_box, settings_box = st.container(), st.container()
    with data_box:
        name = _dataset_control(infos)
        if not sdss_present:
            sdss_download_button()
    with settings_box:
        _fit_controls()
    try:
        dataset = load(name)
    except DatasetError as exc:
        return Selection(None, None, messages, str(exc))
    with data_box:
        features, problems = _feature_controls(dataset)
    view = _view_in_state(name, features)
    _publish(view)
    return Selection(view, dataset, messages + problems)
