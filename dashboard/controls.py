"""Sidebar controls, kept in step with the URL so that a copied link reproduces the view.

Each widget's key is also its query parameter (see ``dashboard.query_state``). The URL
is read once, when a session starts, into st.session_state, which the widgets read; the
URL is rewritten after every change.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from enum import Enum

import streamlit as st

from dashboard import sketch
from dashboard.cache import UPLOAD_DATASET
from dashboard.download import PENDING_DATASET, SDSS, sdss_download_button, sdss_problem
from dashboard.figures import COLOR_BY, EQUAL, FILL, PALETTES
from dashboard.query_state import (
    K_RANGE,
    MAX_DIMENSIONS,
    MAX_ITERS_RANGE,
    REGULARIZATIONS,
    SEED_RANGE,
    TOLERANCES,
    TRUE_WORDS,
    ExploreView,
    default_view,
    resolve_features,
    view_from_query,
    view_to_query,
)
from dashboard.upload import csv_upload_control, no_file_yet
from gmm_core import FitRequest, model_names
from gmm_core.datasets import Dataset, DatasetError, list_datasets
from gmm_core.datasets.sketch import SKETCH
from gmm_core.request import CONVERGENCE_RULES, INIT_METHODS, MCLUST_UNIVARIATE, PLACED
from gmm_core.wording import counted

# gmm_core.datasets.sdss names the family of its wavelength bins "flux"; a data set
# with such a family and its wavelengths gets wavelength sliders.
SPECTRAL_FAMILY = "flux"


class AxisChoice(Enum):
    """A choice of the X or Y selector that is not a column: a value of its own, never a
    string, so that no column's name (a CSV may well have one called "none" or
    "spectrum") is taken for it. Its value is its label."""

    SPECTRUM = "flux at a wavelength"  # then a wavelength slider
    NO_Y = "none: one feature, a histogram"


UPLOAD_TITLE = "Upload a CSV…"
SKETCH_TITLE = "Sketch: draw your own points…"
# The sidebar's widget keys whose values can be set by code (not buttons or uploaders).
SIDEBAR_KEYS = ("dataset", "x", "y", "x_wavelength", "y_wavelength", "extra", "k", "tol",
                "seed", "max_iters", "covariance_type", "init", "convergence", "reg_covar",
                "noise", "standardize", "replay", "color", "palette", "present", "aspect",
                sketch.START, sketch.COUNT, sketch.SPREAD)
# mclust's models grouped as mclust lists them, scikit-learn's four under its own names.
COVARIANCE_OPTIONS = (*model_names.MODELS, *MCLUST_UNIVARIATE)
MODELS_HELP = ("mclust's models: volume, shape and orientation, each Equal across "
               "components, Varying, or the Identity (round, or along the axes).")
MULTIVARIATE_MODEL = {"E": "EII", "V": "spherical"}  # E and V in several dimensions
INIT_LABELS = {"kmeans++": "k-means++ centres", "kmeans": "k-means clusters",
               "random_from_data": "random data rows as centres",
               "random": "random responsibilities",
               "notebook": "the notebook's (random rows, Cov(X) for all)",
               "hierarchical": "mclust's hierarchical start (no seed)",
               PLACED: "placed by hand on the figure"}
CONVERGENCE_LABELS = {"loglik": "log-likelihood changes < tol (scikit-learn)",
                      "means": "means move < tol (the notebook)"}
PALETTE_LABELS = {"plotly": "Plotly's", "okabe_ito": "colour-blind safe (Okabe–Ito)"}
COLOR_LABELS = {"responsibility": "responsibility (blend of component colours)",
                "uncertainty": "uncertainty (1 − largest responsibility)"}

_URL_READ = "_url_read"
_FIRST_QUERY = "_first_query"  # the address the session opened with
_PUBLISHED = "_published_query"  # the view the sidebar last wrote into the address
# What a view looks like rather than what it fits: links to other views carry these.
DISPLAY_PARAMS = ("color", "palette", "present", "aspect")
PLACED_MEANS = "placed_means"  # the start placed by hand on the figure: [(x, y), …]
_WANTED_FEATURES = "_wanted_features"


def spectral_features(dataset: Dataset) -> list[str]:
    """The flux bins in wavelength order, or [] for a data set without spectra."""
    if "wavelengths" not in dataset.extras:
        return []
    return dataset.families().get(SPECTRAL_FAMILY, [])


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
            "noise": bool(r.noise),
            "color": view.color_by, "palette": view.palette, "present": view.present,
            "aspect": view.aspect == FILL,
            PLACED_MEANS: list(r.placed_means), _WANTED_FEATURES: tuple(r.features)} | (
            {sketch.POINTS: [list(p) for p in dict(r.dataset_params)["points"]]}
            if r.dataset == SKETCH and r.dataset_params else {})


def _read_url_once(default: ExploreView, dataset_names: Sequence[str]) -> list[str]:
    """At a session's first run, put the URL's view into the widgets' state."""
    if st.session_state.get(_URL_READ):
        return []
    opened_with = st.session_state.get(_FIRST_QUERY, st.query_params.to_dict())
    view, problems = view_from_query(opened_with, default, dataset_names)
    st.session_state.update(_state_for_view(view))
    st.session_state[_URL_READ] = True
    return problems


def _dataset_control(infos) -> str:
    if PENDING_DATASET in st.session_state:  # a download just finished
        st.session_state["dataset"] = st.session_state.pop(PENDING_DATASET)
    titles = {info.name: info.title + ("" if info.available else " (not downloaded)")
              for info in infos} | {SKETCH: SKETCH_TITLE, UPLOAD_DATASET: UPLOAD_TITLE}
    return st.selectbox("Dataset", list(titles), key="dataset", format_func=titles.get)


def _fit_controls() -> None:
    replay = bool(st.session_state.get("replay", False))
    not_in_replay = "The notebook's algorithm has its own: full covariance, random rows."
    st.subheader("Model")
    st.slider("Components (k)", *K_RANGE, key="k")
    covariance_control(COVARIANCE_OPTIONS, "covariance_type",
                       disabled_why=not_in_replay if replay else None,
                       help=f"{MODELS_HELP} E and V are the models of one feature.")
    placed = bool(st.session_state.get(PLACED_MEANS)) or st.session_state.get("init") == PLACED
    st.selectbox("Initialization", INIT_METHODS + (PLACED,) * placed, key="init",
                 format_func=INIT_LABELS.get, disabled=replay,
                 help=not_in_replay if replay else
                 "Or place the start yourself: “Place start” under the figure, then click "
                 "one point per component. Its covariances and weights are then taken "
                 "as a k-means++ start takes them: from the rows nearest each point.")
    st.checkbox("Noise component (outliers)", key="noise", disabled=replay,
                help=not_in_replay if replay else
                "Add mclust's noise component: a uniform density over the data's volume "
                "(mclust's hypvol) that takes the points no Gaussian explains, drawn as "
                "open grey circles. Its weight is estimated with the others and counts as "
                "one more parameter in BIC.")
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
    st.radio("Component colours", list(PALETTES), key="palette",
             format_func=PALETTE_LABELS.get,
             help="Okabe and Ito's colours, ordered so the first six stay apart for "
                  "every kind of colour vision.")
    st.checkbox("Fill the frame (distorts shapes)", key="aspect",
                help="Stretch each data-space plot to fill its frame. Off, one unit is the "
                     "same length on both axes, so round clusters look round.")
    st.toggle("Presentation mode", key="present",
              help="Larger text and markers for a projector; with ?present=true in the "
                   "address the page opens with the sidebar closed.")


def _features_in_state(dataset: Dataset) -> tuple[str, ...]:
    """The features the widgets hold; () when they were not drawn on the last run (the
    data set failed to load), which resolves to the data set's default view."""
    axes = []
    for axis in ("x", "y"):
        choice = st.session_state.get(axis)
        if choice is AxisChoice.NO_Y:
            return (axes[0],)
        if choice is AxisChoice.SPECTRUM:
            choice = st.session_state.get(f"{axis}_wavelength")
        if choice is None:
            return ()
        axes.append(choice)
    return (*axes, *st.session_state.get("extra", ()))


def _state_for_features(features: Sequence[str], dataset: Dataset) -> dict:
    spectral = set(spectral_features(dataset))
    state = {"extra": list(features[2:]), "y": AxisChoice.NO_Y}
    for axis, name in zip(("x", "y"), features[:2], strict=False):
        state[axis] = AxisChoice.SPECTRUM if name in spectral else name
        if name in spectral:
            state[f"{axis}_wavelength"] = name
    return state


def _axis_labels(options: Sequence[str | AxisChoice], dataset: Dataset) -> dict:
    """Each option's label, no two alike: Streamlit tells a selector's options apart by
    their labels, and a column may be labelled like a choice that is not a column (which
    keeps its label; the column's gets a suffix)."""
    labels, taken = {}, set()
    for option in sorted(options, key=lambda option: not isinstance(option, AxisChoice)):
        label = option.value if isinstance(option, AxisChoice) else dataset.features[option].label
        while label in taken:
            label += " (a column)"
        labels[option] = label
        taken.add(label)
    return labels


def _axis_control(axis: str, dataset: Dataset) -> str | AxisChoice:
    spectral = spectral_features(dataset)
    skip = set(spectral)
    options = ([AxisChoice.SPECTRUM] * bool(spectral)
               + [n for n in dataset.columns if n not in skip] + [AxisChoice.NO_Y] * (axis == "y"))
    label = axis.upper()
    choice = st.selectbox(
        f"{label} feature", options, key=axis, format_func=_axis_labels(options, dataset).get,
        help=f"“{AxisChoice.NO_Y.value}” fits the X feature alone and draws its histogram "
             "under the fitted densities." if axis == "y" else None)
    if choice is not AxisChoice.SPECTRUM:
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
    one_feature = y is AxisChoice.NO_Y
    spare = [] if one_feature else [name for name in dataset.columns if name not in (x, y)]
    st.session_state["extra"] = [name for name in st.session_state["extra"] if name in spare]
    extra = st.multiselect("Extra dimensions", spare, key="extra",
                           format_func=lambda n: dataset.features[n].label,
                           max_selections=MAX_DIMENSIONS - 2, disabled=one_feature,
                           help="With Y “none” the fit has one feature." if one_feature else
                           f"Fit in more dimensions (up to {MAX_DIMENSIONS} in all); the "
                           "plot shows the X-Y projection.")
    return ((x,) if one_feature else (x, y, *extra)), problems if from_url else []


def _view_in_state(dataset_name: str, dataset_params: tuple,
                   features: tuple[str, ...]) -> tuple[ExploreView, list[str]]:
    s = st.session_state
    k, init, placed = int(s["k"]), s["init"], tuple(map(tuple, s.get(PLACED_MEANS, ())))
    messages, covariance_type = [], s["covariance_type"]
    if model_names.family(covariance_type) == model_names.UNIVARIATE and len(features) > 1:
        covariance_type = MULTIVARIATE_MODEL[covariance_type]
        messages.append(f"{covariance_type_words(s['covariance_type'])} is a model of one "
                        f"feature: fitting its counterpart in {len(features)} dimensions, "
                        f"{covariance_type_words(covariance_type)}.")
    if init == PLACED and len(placed) != k:
        messages.append(f"The start placed by hand has {counted(len(placed), 'point')} for "
                        f"k = {k}: fitting from {INIT_LABELS[INIT_METHODS[0]]} until you "
                        "place one point per component (“Place start” under the figure).")
        init = INIT_METHODS[0]
    request = FitRequest(
        dataset=dataset_name, dataset_params=dataset_params, features=features, k=k,
        tol=float(s["tol"]), seed=int(s["seed"]), covariance_type=covariance_type,
        init=init, placed_means=placed if init == PLACED else (),
        convergence=s["convergence"], max_iters=int(s["max_iters"]),
        reg_covar=float(s["reg_covar"]), standardize=bool(s["standardize"]),
        algorithm="notebook" if s["replay"] else "em",
        noise=bool(s["noise"]) and not s["replay"])
    return ExploreView(request, s["color"], s["palette"], bool(s["present"]),
                       FILL if s["aspect"] else EQUAL), messages


def covariance_control(options: Sequence[str], key: str, default: str | None = None,
                       disabled_why: str | None = None, help: str = MODELS_HELP) -> str:
    """The covariance-model selector (Explore's, the Large catalog's): each model with its
    name and family, and under it, in words, what the chosen one keeps equal and lets
    vary. ``default`` is chosen when ``key`` holds no choice yet (else the first);
    ``disabled_why`` disables it, saying why."""
    covariance_type = st.selectbox(
        "Covariance type", options, key=key, format_func=covariance_choice,
        index=0 if default is None else list(options).index(default),
        disabled=disabled_why is not None, help=disabled_why or help)
    if disabled_why is None:
        st.caption(f"{covariance_type_words(covariance_type)}.")
    return covariance_type


def covariance_choice(covariance_type: str) -> str:
    """"VVV (full) · ellipsoidal": a model's name and family, as a control lists it."""
    return f"{model_names.label(covariance_type)} · {model_names.family(covariance_type)}"


def covariance_type_words(covariance_type: str) -> str:
    """"VEV (varying volume, equal shape, varying orientation)"."""
    return (f"{model_names.label(covariance_type)} "
            f"({model_names.description(covariance_type)})")


def place_start(placed) -> None:
    """A callback: start from ``placed`` (k points clicked on the figure), or, given no
    points, go back to the default start."""
    points = [tuple(map(float, point)) for point in placed or ()]
    st.session_state[PLACED_MEANS] = points
    if points:
        st.session_state["init"] = PLACED
    elif st.session_state.get("init") == PLACED:
        st.session_state["init"] = INIT_METHODS[0]


def remember_url() -> None:
    """Keep the address a session opened with, for the first page that draws the
    sidebar: a link to a page without it (Lessons) still sets the view. Call it at the
    top of every run."""
    st.session_state.setdefault(_FIRST_QUERY, st.query_params.to_dict())


def display_params() -> dict[str, str]:
    """This session's display options (``DISPLAY_PARAMS``) as query parameters: the
    sidebar's last view, or, before any page drew the sidebar, the address's."""
    source = st.session_state.get(_PUBLISHED)
    if source is None:
        source = st.session_state.get(_FIRST_QUERY, st.query_params.to_dict())
    return {key: str(source[key]) for key in DISPLAY_PARAMS if key in source}


def presenting() -> bool:
    """Whether this run is presented: the sidebar's switch (this run's value, when it was
    drawn), else the display options above."""
    if "present" in st.session_state:
        return bool(st.session_state["present"])
    return display_params().get("present", "").lower() in TRUE_WORDS


def _publish(view: ExploreView) -> None:
    params = view_to_query(view)
    st.session_state[_PUBLISHED] = params
    if st.query_params.to_dict() != params:
        st.query_params.from_dict(params)


def _load(name: str, load: Callable[[str], Dataset]) -> tuple[tuple, Dataset | None]:
    """The chosen data set and its ``dataset_params``; None while no file is uploaded."""
    if name == SKETCH:
        return sketch.sketch_control()
    if name != UPLOAD_DATASET:
        return (), load(name)
    uploaded = csv_upload_control()
    return uploaded if uploaded is not None else ((), None)


def keep_across_pages(keys: Iterable[str]) -> None:
    """Carry the widgets ``keys`` over to whichever page runs next.

    Streamlit forgets a widget's value when the user changes page (the widget gets a new
    identity there and starts from its default); re-assigning the value at the top of
    every run makes it a value set by code, which the widget takes on any page.
    """
    for key in keys:
        if key in st.session_state:
            st.session_state[key] = st.session_state[key]


def sidebar(load: Callable[[str], Dataset], sdss_present: bool) -> Selection:
    """Draw the controls, load the chosen data set with ``load`` (or the uploaded file),
    and keep the URL in step."""
    keep_across_pages(SIDEBAR_KEYS)
    infos = list_datasets()
    messages = _read_url_once(default_view(sdss_present),
                              [info.name for info in infos] + [SKETCH, UPLOAD_DATASET])
    with st.sidebar:
        data_box, settings_box = st.container(), st.container()
    with data_box:
        name = _dataset_control(infos)
        if not sdss_present:
            sdss_download_button()
    with settings_box:
        _fit_controls()
    try:
        with data_box:
            params, dataset = _load(name, load)
    except DatasetError as exc:
        return Selection(None, None, messages, sdss_problem(exc) if name == SDSS else str(exc))
    if dataset is None:
        return Selection(None, None, messages, no_file_yet())
    with data_box:
        features, problems = _feature_controls(dataset)
    view, placing = _view_in_state(name, params, features)
    _publish(view)
    return Selection(view, dataset, messages + problems + placing)
