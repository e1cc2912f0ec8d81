"""The parameters file's contract: ``read_parameters_json`` returns a valid result or
raises ValueError naming the field that is wrong, never another exception."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gmm_core import GMM, FitRequest
from gmm_core.datasets.preprocessing import preprocess
from gmm_core.export import parameters_json, read_parameters_json
from gmm_core.request import COVARIANCE_TYPES
from gmm_core.validation import (
    check_initial_covariances,
    check_initial_means,
    check_initial_weights,
)

RNG = np.random.default_rng(8)
RAW = np.vstack([RNG.normal(c, 1.0, size=(40, 2)) for c in [(0, 0), (5, 1), (2, 6)]]) * [3, 0.5]


def written_files() -> list[str]:
    """Real files from the project's writer: each covariance type (and VEV, one of
    mclust's the Explore page offers), from a model with its request and
    standardization, and from a trace."""
    X, preprocessing = preprocess(RAW, "standardize", ["u", "v"])
    files = []
    for covariance_type in (*COVARIANCE_TYPES, "VEV"):
        request = FitRequest(dataset="upload", features=("u", "v"), k=3,
                             covariance_type=covariance_type, standardize=True,
                             dataset_params=(("digest", "0f1e"),))
        model = GMM(**request.model_params()).fit(X)
        files.append(parameters_json(model, request, preprocessing, X=X))
        files.append(parameters_json(model.trace_))
    return files


FILES = written_files()


def paths(value, prefix=()):
    """Every place in a JSON document, as a tuple of keys and indices."""
    yield prefix
    items = (value.items() if isinstance(value, dict)
             else enumerate(value) if isinstance(value, list) else ())
    for key, item in items:
        yield from paths(item, (*prefix, key))


def replaced(document, path, value):
    if not path:
        return value
    copy = document.copy()
    copy[path[0]] = replaced(document[path[0]], path[1:], value)
    return copy


def deleted(document, path):
    if len(path) == 1:
        copy = document.copy()
        del copy[path[0]]
        return copy
    copy = document.copy()
    copy[path[0]] = deleted(document[path[0]], path[1:])
    return copy


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-3, 3) | st.text(max_size=4)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.sampled_from([0, -1, 1e308, -1e308, 5e-324, 0.5, "evil", "full", [], {}]),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.text(max_size=4), children, max_size=3),
    max_leaves=8)


@st.composite
def mutated_files(draw):
    document = json.loads(draw(st.sampled_from(FILES)))
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(list(paths(document))))
        if path and isinstance(path[-1], str) and draw(st.booleans()):
            document = deleted(document, path)
        else:
            document = replaced(document, path, draw(JSON_VALUES))
    return json.dumps(document, allow_nan=True)


def assert_valid(read):
    k, d = read.means.shape
    check_initial_weights(read.weights, k)
    check_initial_means(read.means, k, d)
    check_initial_covariances(read.covariances, read.covariance_type, k, d)
    if read.preprocessing is not None:
        assert len(read.preprocessing.mean) == len(read.preprocessing.scale) == d
        assert np.all(np.isfinite(read.preprocessing.mean))
        assert np.all(np.asarray(read.preprocessing.scale) > 0)
    if read.request is not None:
        hash(read.request)
        assert read.request.model_params()["k"] == k
    try:
        GMM(**read.gmm_init(), max_iters=1).fit(np.asarray(RAW[:, :d]))
    except ValueError as exc:  # a valid start can lie too far from these data for float64
        assert "too far for float64" in str(exc), exc


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated_files())
def test_a_mutated_file_reads_as_a_valid_result_or_a_value_error(text):
    try:
        read = read_parameters_json(text)
    except ValueError:
        return
    assert_valid(read)


@pytest.mark.parametrize("text", FILES)
def test_every_file_the_writer_writes_reads_back_valid(text):
    assert_valid(read_parameters_json(text))


def mutate(change):
    document = json.loads(FILES[0])
    change(document)
    return json.dumps(document, allow_nan=True)


@pytest.mark.parametrize(("change", "message"), [
    (lambda doc: doc.pop("weights"), "^weights is missing$"),
    (lambda doc: doc.pop("covariance_type"), "^covariance_type is missing$"),
    (lambda doc: doc["request"].pop("features"), "^request: 'features'"),
    (lambda doc: doc.update(preprocessing=[1, 2]), "^preprocessing must be an object or null"),
    (lambda doc: doc.update(request=[]), "^request must be an object or null"),
    (lambda doc: doc["weights"].__setitem__(0, float("nan")), r"^weights\[0\] holds nan"),
    (lambda doc: doc["means"][1].__setitem__(0, float("inf")), r"^means\[1\]\[0\] holds inf"),
    (lambda doc: doc["preprocessing"]["scale"].__setitem__(1, float("-inf")),
     r"^preprocessing.scale\[1\] holds -inf"),
    (lambda doc: doc.update(weights=[1.2, -0.4, 0.2]),
     r"^weights must lie in \[0, 1\]; weight 0 is 1.2"),
    (lambda doc: doc.update(weights=[0.5, 0.5]), r"^weights must have shape \(3,\)"),
    (lambda doc: doc.update(means=[[0, 0, 0]] * 3), r"^means must have shape \(3, 2\)"),
    (lambda doc: doc.update(covariances=[[[1, 2], [2, 1]]] * 3),
     r"^covariances\[0\] must be positive definite"),
    (lambda doc: doc.update(covariance_type="evil"), "^covariance_type must be one of"),
    (lambda doc: doc.update(n_components="3"), "^n_components must be an integer"),
    (lambda doc: doc.update(n_features=0), "^n_features must be at least 1"),
    (lambda doc: doc.update(weights=["0.5", 0.25, 0.25]), "^weights must hold numbers only"),
    (lambda doc: doc["preprocessing"].update(method="log"), "^preprocessing.method must be"),
    (lambda doc: doc["preprocessing"].update(scale=[1.0, 0.0]),
     "^preprocessing.scale must be positive"),
    (lambda doc: doc["request"].update(k=4), "^request asks for k=4, full covariance; the "
                                             "file holds k=3, full"),
    (lambda doc: doc["request"].update(seed="x"), "^request.seed must be an integer"),
    (lambda doc: doc["request"].update(colour="red"), "^request.colour is not a field"),
])
def test_each_malformed_field_is_named(change, message):
    with pytest.raises(ValueError, match=message):
        read_parameters_json(mutate(change))


@pytest.mark.parametrize("text", ["[" * 100_000, '{"a":' * 100_000])
def test_deep_nesting_is_a_value_error(text):
    with pytest.raises(ValueError, match=r"^not a parameters file: nested too deeply to read$"):
        read_parameters_json(text)
