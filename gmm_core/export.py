"""Downloads: labels and responsibilities as CSV, fitted parameters as JSON.

Every CSV file the project writes goes through ``csv_text``, which keeps a spreadsheet
from running what a user's data or column names hold.

The JSON holds the parameters in scikit-learn's shapes for the covariance type, in the
units the model was fitted in, with the preprocessing that leads there from the data's
units; ``read_parameters_json`` reads it back, ready for ``GMM(**parameters.gmm_init())``
or scikit-learn's ``GaussianMixture`` attributes.
"""

from __future__ import annotations

import json
from dataclasses import MISSING, dataclass, fields

import numpy as np
import pandas as pd

from gmm_core.covariance import structure_for
from gmm_core.datasets.preprocessing import PREPROCESSING_METHODS, Preprocessing
from gmm_core.model import GMM
from gmm_core.request import COVARIANCE_CHOICES, FitRequest, check_choice
from gmm_core.trace import FitTrace
from gmm_core.validation import (
    check_initial_covariances,
    check_initial_means,
    check_initial_weights,
)
from gmm_core.wording import counted

FORMAT = "gmm-explorer/parameters"
FORMAT_VERSION = 1
ROW_COLUMN = "row"
LABEL_COLUMN = "label"
RESPONSIBILITY_PREFIX = "responsibility_"
# Added columns get this prefix when a feature already uses their name.
CLASH_PREFIX = "gmm_"
# What a spreadsheet takes for the start of a formula (OWASP, "CSV Injection").
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _inert(value):
    """A text that starts like a formula behind a single quote, which a spreadsheet
    shows as text; anything else as it is."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def csv_text(frame: pd.DataFrame) -> str:
    """``frame`` (without its index) as CSV text a spreadsheet opens without running
    anything: text cells and column names that start with =, +, -, @, a tab or a
    carriage return get a leading ``'``, as OWASP advises against CSV injection.

    Only text is touched: a number such as -1.5 is a value to a spreadsheet, not a
    formula, and a quote would turn it into text nobody can compute with.
    """
    safe = frame.copy(deep=False)
    safe.columns = [_inert(name) for name in frame.columns]
    for position in range(safe.shape[1]):
        if not pd.api.types.is_numeric_dtype(safe.iloc[:, position]):
            safe.isetitem(position, safe.iloc[:, position].map(_inert))
    return safe.to_csv(index=False)


def labels_csv(dataset_frame_or_X, responsibilities, labels, rows=None,
               noise: bool = False) -> str:
    """CSV text: ``row`` (given ``rows``, each row's number in the data set, so that rows
    left out of the fit show as gaps), the feature columns, ``label`` and
    ``responsibility_j`` per component; with ``noise`` the last column of
    ``responsibilities`` is a noise component's, ``responsibility_noise``."""
    if isinstance(dataset_frame_or_X, pd.DataFrame):
        features = dataset_frame_or_X.reset_index(drop=True)
    else:
        X = np.asarray(dataset_frame_or_X)
        if X.ndim != 2:
            raise ValueError(f"the data must be 2-D (rows, features); got shape {X.shape}")
        features = pd.DataFrame(X, columns=[f"x{i}" for i in range(X.shape[1])])
    responsibilities = np.asarray(responsibilities)
    labels = np.asarray(labels)
    n = len(features)
    if responsibilities.ndim != 2 or len(responsibilities) != n:
        raise ValueError(f"responsibilities must have shape ({n}, k) for {counted(n, 'row')}; "
                         f"got {responsibilities.shape}")
    if labels.shape != (n,):
        raise ValueError(f"labels must have shape ({n},) for {counted(n, 'row')}; got "
                         f"{labels.shape}")
    if rows is not None and np.shape(rows) != (n,):
        raise ValueError(f"rows must have shape ({n},) for {counted(n, 'row')}; got "
                         f"{np.shape(rows)}")
    names = [*range(responsibilities.shape[1] - noise), *["noise"] * noise]
    row, *added = [ROW_COLUMN, LABEL_COLUMN, *(f"{RESPONSIBILITY_PREFIX}{j}" for j in names)]
    written = added if rows is None else [row, *added]
    if set(written) & {str(name) for name in features.columns}:
        row, *added = [CLASH_PREFIX + name for name in (row, *added)]
    columns = dict(zip(added, [labels, *responsibilities.T], strict=True))
    table = pd.concat([features, pd.DataFrame(columns)], axis=1)
    if rows is not None:
        table.insert(0, row, np.asarray(rows))
    return csv_text(table)


def parameters_json(model_or_trace: GMM | FitTrace, request: FitRequest | None = None,
                    preprocessing=None, X=None) -> str:
    """The fitted mixture as JSON text.

    From a fitted ``GMM`` or a ``FitTrace`` (its last snapshot). ``bic`` and ``aic``
    are included when ``X`` (the fitted data) is given with a ``GMM``; ``request`` is a
    ``FitRequest``; ``preprocessing`` anything with ``to_dict()`` (the data sets'
    ``Preprocessing``) or a dict. Means and covariances are in the units the model was
    fitted in, i.e. after preprocessing.
    """
    if isinstance(model_or_trace, GMM):
        document = _from_model(model_or_trace, X)
    elif isinstance(model_or_trace, FitTrace):
        if X is not None:
            raise ValueError("BIC and AIC need a fitted GMM; a trace cannot score data")
        document = _from_trace(model_or_trace)
    else:
        raise TypeError(f"expected a fitted GMM or a FitTrace; got {type(model_or_trace)!r}")
    document["request"] = None if request is None else request.to_dict()
    if preprocessing is not None and not isinstance(preprocessing, dict):
        preprocessing = preprocessing.to_dict()
    document["preprocessing"] = preprocessing
    return json.dumps(document, indent=2, allow_nan=False)


def _header(trace: FitTrace) -> dict:
    return {"format": FORMAT, "version": FORMAT_VERSION,
            "covariance_type": trace.covariance_type, "n_components": trace.n_components,
            "n_features": trace.n_features, "n_samples": trace.n_samples,
            "algorithm": trace.algorithm}


def _fit_summary(trace: FitTrace) -> dict:
    return {"n_iter": trace.n_iter, "converged": trace.converged,
            "stop_reason": trace.stop_reason,
            "mean_log_likelihood": _finite_or_none(trace.mean_log_likelihood[-1]),
            "log_likelihood": _finite_or_none(trace.log_likelihood[-1]),
            "events": [event.to_dict() for event in trace.events]}


def _finite_or_none(value) -> float | None:
    # The notebook replay's log-likelihood is -inf when a row has zero density under
    # every component; JSON has no infinity, and null says "not a number" plainly.
    value = float(value)
    return value if np.isfinite(value) else None


def _from_model(model: GMM, X) -> dict:
    model._check_fitted()
    trace = model.trace_
    return {
        **_header(trace),
        "weights": model.weights_.tolist(),
        "means": model.means_.tolist(),
        "covariances": np.asarray(model.covariances_).tolist(),
        **_fit_summary(trace),
        "bic": None if X is None else float(model.bic(X)),
        "aic": None if X is None else float(model.aic(X)),
    } | ({} if model.noise_weight_ is None else
         {"noise_weight": float(model.noise_weight_), "vinv": float(model.vinv_)})


def _from_trace(trace: FitTrace) -> dict:
    structure = structure_for(trace.covariance_type, trace.n_components, trace.n_features)
    weights = trace.weights[-1]
    return {
        **_header(trace),
        "weights": weights.tolist(),
        "means": trace.means[-1].tolist(),
        "covariances": structure.from_full(trace.covariances[-1], weights).tolist(),
        **_fit_summary(trace),
        "bic": None,
        "aic": None,
    }


@dataclass(frozen=True)
class FittedParameters:
    """A parameters file read back. ``means`` and ``covariances`` (scikit-learn's shape
    for ``covariance_type``) are in the fitted units: ``preprocessing.apply(X)`` takes
    data in the data set's units there, and ``inverse_means``/``inverse_covariances``
    bring full matrices back. ``document`` is everything the file holds."""

    covariance_type: str
    weights: np.ndarray
    means: np.ndarray
    covariances: np.ndarray
    preprocessing: Preprocessing | None
    request: FitRequest | None
    document: dict
    # A fit with a noise component (gmm_core.noise): its weight and density; ``weights``
    # then sum to 1 minus ``noise_weight``.
    noise_weight: float | None = None
    vinv: float | None = None

    def gmm_init(self) -> dict:
        """Keyword arguments that start a ``GMM`` at these parameters."""
        init = {"k": len(self.weights), "covariance_type": self.covariance_type,
                "weights_init": self.weights, "means_init": self.means,
                "covariances_init": self.covariances}
        if self.noise_weight is None:
            return init
        # The noise start scales the given weights by 1 - noise_init.
        return init | {"weights_init": self.weights / (1 - self.noise_weight), "noise": True,
                       "vinv": self.vinv, "noise_init": self.noise_weight}


def read_parameters_json(text: str) -> FittedParameters:
    """What ``parameters_json`` wrote, checked whole.

    Every malformed file raises ValueError naming the field that is wrong: not JSON, the
    wrong format or version, a missing key, a value of the wrong type or shape, NaN or
    Infinity anywhere, weights outside [0, 1] or not summing to 1, covariances that are
    not positive definite, an unknown covariance type, a preprocessing or request that
    does not describe this fit.
    """
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"not JSON: {exc}") from None
    except RecursionError:
        raise ValueError("not a parameters file: nested too deeply to read") from None
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise ValueError(f"not a {FORMAT} file (its \"format\" field is not {FORMAT!r})")
    if document.get("version") != FORMAT_VERSION:
        raise ValueError(f"{FORMAT} version {document.get('version')!r}; this reads version "
                         f"{FORMAT_VERSION}")
    _refuse_non_finite(document, "")
    covariance_type = _field(document, "covariance_type", str)
    check_choice("covariance_type", covariance_type, COVARIANCE_CHOICES)
    k, d = _count(document, "n_components"), _count(document, "n_features")
    noise_weight, vinv = _noise(document)
    weights = _numbers(document, "weights")
    if noise_weight is None:
        weights = check_initial_weights(weights, k, name="weights")
    else:
        weights = check_initial_weights(np.append(weights, noise_weight), k + 1,
                                        name="weights and noise_weight")[:k]
    means = check_initial_means(_numbers(document, "means"), k, d, name="means")
    covariances = check_initial_covariances(_numbers(document, "covariances"),
                                            covariance_type, k, d, name="covariances")
    return FittedParameters(
        covariance_type=covariance_type, weights=weights, means=means,
        covariances=covariances,
        preprocessing=_preprocessing(document, d),
        request=_request(document, k, covariance_type),
        document=document,
        noise_weight=noise_weight, vinv=vinv,
    )


def _noise(document: dict) -> tuple[float | None, float | None]:
    """The noise component's weight and density, both or neither."""
    if "noise_weight" not in document and "vinv" not in document:
        return None, None
    noise_weight = _field(document, "noise_weight", (int, float))
    vinv = _field(document, "vinv", (int, float))
    if not 0 < noise_weight < 1:
        raise ValueError(f"noise_weight must lie strictly between 0 and 1; got {noise_weight}")
    if not vinv > 0:
        raise ValueError(f"vinv must be a number > 0 (1 / the data's volume); got {vinv}")
    return float(noise_weight), float(vinv)


def _refuse_non_finite(value, path: str) -> None:
    """ValueError naming the first NaN or Infinity (JSON has neither; Python writes them)."""
    if isinstance(value, float) and not np.isfinite(value):
        raise ValueError(f"{path or 'the file'} holds {value}, which is not a number "
                         "a parameters file can hold")
    items = (value.items() if isinstance(value, dict)
             else enumerate(value) if isinstance(value, list) else ())
    for key, item in items:
        _refuse_non_finite(item, f"{path}.{key}" if path and isinstance(key, str)
                           else f"{path}[{key}]" if path else str(key))


def _field(document: dict, name: str, kind: type, where: str = ""):
    if name not in document:
        raise ValueError(f"{where}{name} is missing")
    value = document[name]
    if not isinstance(value, kind) or (kind is not bool and isinstance(value, bool)):
        raise ValueError(f"{where}{name} must be {_KIND_WORDS[kind]}; got {str(value)[:80]}")
    return value


_KIND_WORDS = {str: "text", int: "an integer", dict: "an object", list: "a list",
               bool: "true or false", (int, float): "a number"}
# How JSON holds each type of a FitRequest field (tuples are written as lists, and
# dataset_params as an object).
_REQUEST_JSON_TYPES = {str: str, int: int, float: (int, float), bool: bool, tuple: list}


def _count(document: dict, name: str) -> int:
    value = _field(document, name, int)
    if value < 1:
        raise ValueError(f"{name} must be at least 1; got {value}")
    return value


def _numbers(document: dict, name: str, where: str = ""):
    """A field of nested lists of JSON numbers (not text, not true/false)."""
    value = _field(document, name, list, where)

    def leaves(item):
        if isinstance(item, list):
            for element in item:
                yield from leaves(element)
        else:
            yield item

    for leaf in leaves(value):
        if isinstance(leaf, bool) or not isinstance(leaf, int | float):
            raise ValueError(f"{where}{name} must hold numbers only; it holds "
                             f"{str(leaf)[:80]!r}")
    return value


def _preprocessing(document: dict, n_features: int) -> Preprocessing | None:
    values = document.get("preprocessing")
    if values is None:
        return None
    if not isinstance(values, dict):
        raise ValueError("preprocessing must be an object or null")
    method = _field(values, "method", str, "preprocessing.")
    check_choice("preprocessing.method", method, PREPROCESSING_METHODS)
    shift_scale = {}
    for name in ("mean", "scale"):
        shift_scale[name] = _given_vector(_numbers(values, name, "preprocessing."),
                                          n_features, f"preprocessing.{name}")
    if np.any(shift_scale["scale"] <= 0):
        raise ValueError("preprocessing.scale must be positive")
    notes = values.get("notes", [])
    if not isinstance(notes, list) or not all(isinstance(note, str) for note in notes):
        raise ValueError("preprocessing.notes must be a list of text")
    return Preprocessing(method, tuple(shift_scale["mean"].tolist()),
                         tuple(shift_scale["scale"].tolist()), tuple(notes))


def _given_vector(values: list, length: int, name: str) -> np.ndarray:
    vector = np.array(values, dtype=np.float64)
    if vector.shape != (length,):
        raise ValueError(f"{name} must hold one number per feature ({length}); got shape "
                         f"{vector.shape}")
    return vector


def _request(document: dict, n_components: int, covariance_type: str) -> FitRequest | None:
    values = document.get("request")
    if values is None:
        return None
    if not isinstance(values, dict):
        raise ValueError("request must be an object or null")
    defaults = {field.name: field.default if field.default is not MISSING
                else field.default_factory() for field in fields(FitRequest)}
    unknown = sorted(set(values) - defaults.keys())
    if unknown:
        raise ValueError(f"request.{unknown[0]} is not a field of a fit request")
    for name in values:
        kind = dict if name == "dataset_params" else _REQUEST_JSON_TYPES[type(defaults[name])]
        _field(values, name, kind, "request.")
    try:
        request = FitRequest.from_dict(values)
        hash(request)  # a request is a cache key: every value in it must be hashable
    except (TypeError, ValueError, KeyError, AttributeError) as exc:
        raise ValueError(f"request: {' '.join(str(exc).split())}") from None
    if (request.k, request.covariance_type) != (n_components, covariance_type):
        raise ValueError(f"request asks for k={request.k}, {request.covariance_type} "
                         f"covariance; the file holds k={n_components}, {covariance_type}")
    return request
