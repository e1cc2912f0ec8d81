"""mclust's covariance models in words: their families, what each one keeps equal across
components and what it lets vary, and the scikit-learn names four of them go by.

A model's three letters say it (``gmm_core.parsimonious``): volume, shape and orientation,
each Equal across components, Varying, or the Identity. The descriptions are built from
the letters, so this table cannot disagree with the names. The project's scikit-learn
names (``full``, ``tied``, ``diag``, ``spherical``) stand for their mclust models here:
they are the same models, fitted by scikit-learn's own code path.
"""

from __future__ import annotations

from gmm_core.parsimonious import ALIASES
from gmm_core.request import MCLUST_MODELS, MCLUST_UNIVARIATE

SPHERICAL, DIAGONAL, ELLIPSOIDAL, UNIVARIATE = ("spherical", "diagonal", "ellipsoidal",
                                                "one feature")
_LETTERS = {"E": "equal", "V": "varying"}
_SCIKIT_LEARN_NAMES = {model: alias for alias, model in ALIASES.items()}  # VVV -> full


def mclust_name(covariance_type: str) -> str:
    """mclust's name of a covariance type: ``full`` is VVV; mclust's own names stay."""
    return ALIASES.get(covariance_type, covariance_type)


def covariance_type_of(model: str) -> str:
    """The covariance type the project fits ``model`` as: scikit-learn's name for the four
    it has (VVV is ``full``), else mclust's name."""
    return _SCIKIT_LEARN_NAMES.get(model, model)


def family(covariance_type: str) -> str:
    """Spherical (round), diagonal (along the axes), ellipsoidal, or one feature (E, V)."""
    model = mclust_name(covariance_type)
    if model in MCLUST_UNIVARIATE:
        return UNIVARIATE
    if model[1:] == "II":
        return SPHERICAL
    return DIAGONAL if model[2] == "I" else ELLIPSOIDAL


def description(covariance_type: str) -> str:
    """One line: what the components share and what varies, e.g. VEV's "varying volume,
    equal shape, varying orientation"."""
    model = mclust_name(covariance_type)
    volume = f"{_LETTERS[model[0]]} volume"
    if model in MCLUST_UNIVARIATE:
        return f"{_LETTERS[model[0]]} variance"
    if model[1:] == "II":
        return f"{volume}, round"
    orientation = ("along the axes" if model[2] == "I"
                   else f"{_LETTERS[model[2]]} orientation")
    return f"{volume}, {_LETTERS[model[1]]} shape, {orientation}"


def label(covariance_type: str) -> str:
    """The name a control shows: mclust's, with scikit-learn's beside it when it has one,
    as "VVV (full)"."""
    model = mclust_name(covariance_type)
    return model if model == covariance_type else f"{model} ({covariance_type})"


# The 14 models for data of several features, as mclust orders them (spherical, diagonal,
# ellipsoidal), under the names the project fits them by.
MODELS = tuple(covariance_type_of(model) for model in MCLUST_MODELS)
FAMILIES = {name: tuple(t for t in MODELS if family(t) == name)
            for name in (SPHERICAL, DIAGONAL, ELLIPSOIDAL)}


def models_for(n_features: int) -> tuple[str, ...]:
    """The models of data with ``n_features`` features: E and V for one, else the 14."""
    return MCLUST_UNIVARIATE if n_features == 1 else MODELS


def scikit_learn_type(covariance_type: str, n_features: int) -> str | None:
    """scikit-learn's covariance type that is the same model, or None when it has none.

    scikit-learn's own names are themselves. In one dimension every model is either one
    variance for all (E: ``tied``) or one per component (V: ``full``); in more, mclust's
    models have no scikit-learn counterpart but VVV, EEE, VVI and VII.
    """
    model = mclust_name(covariance_type)
    if covariance_type in ALIASES:
        return covariance_type
    if n_features == 1:
        return "tied" if model[0] == "E" else "full"
    return _SCIKIT_LEARN_NAMES.get(model)
